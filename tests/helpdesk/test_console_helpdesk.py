"""The help desk in the console, over HTTP on the real gateway app and a real database:
claim, answer (delivered through the web chat's outbox), transfer, end, office hours, audit."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

import helpdesk
import staff
from actions.newcomer_guidance import load_steps
from bot.admin.helpdesk_words import HELPDESK_WORDS
from core.database import session_scope
from helpdesk.models import HandoverChat
from tests.admin.console_support import console_app, csrf_token_in, log_in
from tests.helpdesk.support import (
    ALWAYS_OPEN,
    ask_for_person,
    chat_lines_of,
    web_outbox_texts,
)

NOT_YOURS = "/admin/helpdesk?notice=not_yours"
ACCOUNTS = {"ana": "helpdesk", "bo": "helpdesk", "mei": "admin", "pat": "planner"}
STAFF_ADDRESS = "198.51.100.7"


@pytest.fixture
async def console(database_url: str) -> AsyncIterator[tuple[object, str]]:
    app, conversation = console_app(database_url, ACCOUNTS)
    yield app, database_url
    await conversation.close()


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(STAFF_ADDRESS, 41000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def _logged_in(app: object, name: str) -> tuple[httpx.AsyncClient, str]:
    client = _client(app)
    assert (await log_in(client, name)).status_code == 303
    token = csrf_token_in((await client.get("/admin/helpdesk")).text)
    return client, token


def _cells_unlabelled(html: str) -> str:
    """The page with its table cells' attributes left out (a phone's labels, data-label)."""
    return re.sub(r"<td [^>]*>", "<td>", html)


def _refusal(response: httpx.Response) -> tuple[int, str, str]:
    """A refused form's page as staff read it: (status, heading, the reason given)."""
    assert response.headers["content-type"].startswith("text/html")
    heading = re.search(r"<h1>(.*?)</h1>", response.text, re.S)
    reason = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', response.text, re.S)
    assert heading and reason, response.text
    return response.status_code, html.unescape(heading.group(1)), html.unescape(reason.group(1))


def _audit(url: str) -> list[tuple[str, str, str, str]]:
    """(who, what, which chat, from where) of every help-desk action, oldest first."""
    with session_scope(url) as session:
        entries = staff.audit_entries(session)
    return [
        (e.actor, e.action, e.target, e.address) for e in reversed(entries) if e.action != "login"
    ]


async def test_a_helpdesk_member_claims_answers_and_ends_a_web_chat(console) -> None:
    app, url = console
    sender = "web:s-claim-answer-end"
    context = [
        {"who": "citizen", "text": "my diploma is from Kyiv"},
        {"who": "bot", "text": "Sorry"},
    ]
    ticket = ask_for_person(url, sender, language="uk", context=context)
    acknowledged = helpdesk.desk_turn(url, sender, "Доброго дня, мені потрібна допомога")
    assert acknowledged and acknowledged[0].text.startswith("Ваше повідомлення передано")
    client, token = await _logged_in(app, "ana")

    queue = await client.get("/admin/helpdesk")
    assert "my diploma is from Kyiv" in queue.text
    assert "<td>uk</td><td>web</td>" in _cells_unlabelled(queue.text)
    claimed = await client.post(
        "/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id}
    )
    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"/admin/helpdesk/chat?id={ticket.chat_id}&notice=claimed"
    chat_page = await client.get(claimed.headers["location"])
    assert "Доброго дня, мені потрібна допомога" in chat_page.text

    assert helpdesk.desk_turn(url, sender, "Ви тут?") == [], "the bot says nothing while held"
    answered = await client.post(
        "/admin/helpdesk/reply",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "text": "Так, я тут. Чим допомогти?"},
    )
    assert answered.status_code == 303
    assert web_outbox_texts(url, sender) == ["Так, я тут. Чим допомогти?"]

    ended = await client.post(
        "/admin/helpdesk/end", data={"csrf_token": token, "chat_id": ticket.chat_id}
    )
    assert ended.headers["location"] == "/admin/helpdesk?notice=ended"
    assert web_outbox_texts(url, sender) == [
        "Так, я тут. Чим допомогти?",
        helpdesk.desk_text("resumed", "uk"),
    ]
    assert helpdesk.desk_turn(url, sender, "пошук курсів") is None, "the bot answers again"
    assert chat_lines_of(url, ticket.chat_id) == [
        ("citizen", "Доброго дня, мені потрібна допомога", False),
        ("citizen", "Ви тут?", False),
        ("staff", "Так, я тут. Чим допомогти?", True),
        ("desk", helpdesk.desk_text("resumed", "uk"), True),
    ]
    assert _audit(url) == [
        ("ana", "helpdesk_claim", f"chat {ticket.chat_id}", STAFF_ADDRESS),
        ("ana", "helpdesk_end", f"chat {ticket.chat_id}", STAFF_ADDRESS),
    ]
    await client.aclose()


async def test_two_staff_clicking_claim_at_once_get_one_chat_between_them(console) -> None:
    app, url = console
    ticket = ask_for_person(url, "web:s-race", language="es")
    (ana, ana_token), (bo, bo_token) = await _logged_in(app, "ana"), await _logged_in(app, "bo")

    results = await asyncio.gather(
        ana.post(
            "/admin/helpdesk/claim", data={"csrf_token": ana_token, "chat_id": ticket.chat_id}
        ),
        bo.post("/admin/helpdesk/claim", data={"csrf_token": bo_token, "chat_id": ticket.chat_id}),
    )
    notices = sorted(r.headers["location"].rsplit("notice=", 1)[1] for r in results)
    assert notices == ["claimed", "taken"]
    with session_scope(url) as session:
        chat = session.get(HandoverChat, ticket.chat_id)
        holder = chat.claimed_by if chat is not None else None
    loser = bo if holder == "ana" else ana
    assert (await loser.get(f"/admin/helpdesk/chat?id={ticket.chat_id}")).headers[
        "location"
    ] == NOT_YOURS
    assert (await loser.get("/admin/api/helpdesk")).json()["queue"] == []
    await ana.aclose()
    await bo.aclose()


async def test_staff_see_the_queue_and_their_own_chats_only(console) -> None:
    app, url = console
    first = ask_for_person(url, "web:s-one", language="fr")
    second = ask_for_person(url, "telegram:777", language="zh")
    ana, ana_token = await _logged_in(app, "ana")
    bo, _ = await _logged_in(app, "bo")
    await ana.post(
        "/admin/helpdesk/claim", data={"csrf_token": ana_token, "chat_id": first.chat_id}
    )

    ana_view, bo_view = (
        (await ana.get("/admin/api/helpdesk")).json(),
        (await bo.get("/admin/api/helpdesk")).json(),
    )
    assert [c["id"] for c in ana_view["mine"]] == [first.chat_id]
    assert [c["id"] for c in bo_view["queue"]] == [second.chat_id] and bo_view["mine"] == []
    assert (await bo.get(f"/admin/api/helpdesk?chat={first.chat_id}")).json()["chat"] is None
    assert (await bo.get(f"/admin/helpdesk/chat?id={first.chat_id}")).headers[
        "location"
    ] == NOT_YOURS
    refused = await bo.post(
        "/admin/helpdesk/reply",
        data={"csrf_token": ana_token, "chat_id": first.chat_id, "text": "x"},
    )
    assert refused.status_code == 403, "another member's form token is refused"
    await ana.aclose()
    await bo.aclose()


async def test_a_transfer_moves_the_chat_to_a_colleague_and_is_audited(console) -> None:
    app, url = console
    ticket = ask_for_person(url, "web:s-transfer", language="ar")
    ana, ana_token = await _logged_in(app, "ana")
    bo, _ = await _logged_in(app, "bo")
    await ana.post(
        "/admin/helpdesk/claim", data={"csrf_token": ana_token, "chat_id": ticket.chat_id}
    )

    to_planner = await ana.post(
        "/admin/helpdesk/transfer",
        data={"csrf_token": ana_token, "chat_id": ticket.chat_id, "colleague": "pat"},
    )
    assert to_planner.status_code == 400 and "not a member of the help desk" in to_planner.text
    moved = await ana.post(
        "/admin/helpdesk/transfer",
        data={"csrf_token": ana_token, "chat_id": ticket.chat_id, "colleague": "bo"},
    )
    assert moved.headers["location"] == "/admin/helpdesk?notice=transferred"
    assert [c["id"] for c in (await bo.get("/admin/api/helpdesk")).json()["mine"]] == [
        ticket.chat_id
    ]
    assert (await ana.get(f"/admin/helpdesk/chat?id={ticket.chat_id}")).headers[
        "location"
    ] == NOT_YOURS
    assert _audit(url) == [
        ("ana", "helpdesk_claim", f"chat {ticket.chat_id}", STAFF_ADDRESS),
        ("ana", "helpdesk_transfer", f"chat {ticket.chat_id}", STAFF_ADDRESS),
    ]
    with session_scope(url) as session:
        moved = staff.audit_entries(session, action="helpdesk_transfer")
    assert [entry.details for entry in moved] == [{"chat": ticket.chat_id, "to": "bo"}]
    await ana.aclose()
    await bo.aclose()


async def test_a_claimed_chat_survives_a_gateway_restart(database_url: str) -> None:
    app, conversation = console_app(database_url, ACCOUNTS)
    ticket = ask_for_person(database_url, "web:s-restart", language="ru")
    ana, token = await _logged_in(app, "ana")
    await ana.post("/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id})
    await ana.aclose()
    await conversation.close()

    restarted, again = console_app(database_url, {})
    ana, token = await _logged_in(restarted, "ana")
    assert [c["id"] for c in (await ana.get("/admin/api/helpdesk")).json()["mine"]] == [
        ticket.chat_id
    ]
    assert helpdesk.desk_turn(database_url, "web:s-restart", "алло") == []
    await ana.post(
        "/admin/helpdesk/reply",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "canned": "anything_else"},
    )
    canned = helpdesk.canned_text("anything_else", "ru")
    assert web_outbox_texts(database_url, "web:s-restart") == [canned], "canned, in Russian"
    await ana.aclose()
    await again.close()


async def test_wechat_answers_are_refused_after_48_hours_of_silence(console) -> None:
    app, url = console
    ticket = ask_for_person(url, "wechat:oSilent", language="zh")
    ana, token = await _logged_in(app, "ana")
    await ana.post("/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id})
    with session_scope(url) as session:
        session.execute(
            update(HandoverChat)
            .where(HandoverChat.id == ticket.chat_id)
            .values(last_citizen_at=datetime.now(UTC) - timedelta(hours=49))
        )
    refused = await ana.post(
        "/admin/helpdesk/reply",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "text": "您好"},
    )
    status, title, reason = _refusal(refused)
    assert (status, title) == (400, "The help desk could not do that")
    assert "48 hours" in reason
    assert f'href="/admin/helpdesk/chat?id={ticket.chat_id}"' in refused.text, "a way back"
    unsent = re.search(r'<textarea id="unsent"[^>]*>(.*?)</textarea>', refused.text, re.S)
    assert unsent and unsent.group(1) == "您好", "what the staff member wrote is shown back"
    assert chat_lines_of(url, ticket.chat_id) == []
    await ana.aclose()


async def test_the_chinese_console_gives_the_desks_refusals_in_chinese(console) -> None:
    app, url = console
    ticket = ask_for_person(url, "wechat:oSilentZh", language="zh")
    ana, token = await _logged_in(app, "ana")
    ana.headers["accept-language"] = "zh-CN,zh;q=0.9"
    await ana.post("/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id})
    with session_scope(url) as session:
        session.execute(
            update(HandoverChat)
            .where(HandoverChat.id == ticket.chat_id)
            .values(last_citizen_at=datetime.now(UTC) - timedelta(hours=49))
        )
    zh = HELPDESK_WORDS["zh"]
    late = await ana.post(
        "/admin/helpdesk/reply",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "text": "您好"},
    )
    assert _refusal(late) == (400, zh["refused_title"], zh["refused_wechat_window"])
    to_self = await ana.post(
        "/admin/helpdesk/transfer",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "colleague": "ana"},
    )
    assert _refusal(to_self)[2] == zh["refused_yourself"]
    outsider = await ana.post(
        "/admin/helpdesk/transfer",
        data={"csrf_token": token, "chat_id": ticket.chat_id, "colleague": "pat"},
    )
    assert _refusal(outsider)[2] == zh["refused_not_desk"].format(name="pat")
    no_number = await ana.post("/admin/helpdesk/end", data={"csrf_token": token, "chat_id": "x"})
    assert _refusal(no_number)[2] == zh["refused_field_chat_id"]
    await ana.aclose()


async def test_the_queue_says_which_guidance_step_by_its_title(console) -> None:
    app, url = console
    with session_scope(url) as session:
        helpdesk.request_person(
            session,
            "web:s-guided",
            channel="web",
            language="fr",
            reason="guidance:qualifications",
            context=[],
            now=datetime.now(UTC),
        )
    step = next(step for step in load_steps() if step.id == "qualifications")
    ana, _ = await _logged_in(app, "ana")
    for language in ("zh", "en"):
        ana.headers["accept-language"] = language
        why = HELPDESK_WORDS[language]["reason_guidance"].format(topic=step.title_in(language))
        page = html.unescape((await ana.get("/admin/helpdesk")).text)
        assert f"<td>{why}</td>" in _cells_unlabelled(page) and ": qualifications</td>" not in page
        polled = (await ana.get("/admin/api/helpdesk")).json()
        assert [chat["why"] for chat in polled["queue"]] == [why]
    await ana.aclose()


async def test_admins_set_office_hours_and_bad_hours_name_the_part(console) -> None:
    app, url = console
    mei, token = await _logged_in(app, "mei")
    bad = await mei.post(
        "/admin/helpdesk/hours", data={"csrf_token": token, "hours": "mon-fri 9-5"}
    )
    status, title, reason = _refusal(bad)
    assert (status, title) == (400, "The help desk could not do that")
    assert reason.startswith("field hours:") and "'mon-fri 9-5'" in reason
    saved = await mei.post(
        "/admin/helpdesk/hours", data={"csrf_token": token, "hours": ALWAYS_OPEN}
    )
    assert saved.headers["location"] == "/admin/helpdesk?notice=hours_saved"
    ticket = ask_for_person(url, "web:s-hours", language="en")
    assert ticket.open_now is True
    assert ticket.hours.describe("zh") == "周一至周日 00:00–24:00"
    ana, ana_token = await _logged_in(app, "ana")
    refused = await ana.post(
        "/admin/helpdesk/hours", data={"csrf_token": ana_token, "hours": "mon 09:00-10:00"}
    )
    assert refused.status_code == 403
    assert ("mei", "helpdesk_hours", ALWAYS_OPEN, STAFF_ADDRESS) in _audit(url)
    await mei.aclose()
    await ana.aclose()
