"""The web chat: its JSON API against the real assistant, its outbox, and the page in a real browser."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.channels import web
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.kind_replies import EMPTY_MESSAGE
from bot.messages import Reply
from bot.stack import free_port
from core.database import upgrade_database
from core.settings import REPOSITORY_ROOT, Settings
from tests.conftest import RunningAssistant
from tests.services import CHROMIUM, require_chromium

SCREENSHOT = REPOSITORY_ROOT / "docs" / "webchat.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAILIN_CENTRE = {"latitude": 31.23, "longitude": 121.47}


def _cards(body: dict) -> list[dict]:
    return [card for reply in body["replies"] for card in reply["cards"]]


@pytest.fixture
async def offline_gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The gateway on a real temp database, with no Rasa behind it (validation and outbox only)."""
    url = f"sqlite:///{tmp_path / 'webchat.db'}"
    upgrade_database(url)
    conversation = Conversation(f"http://127.0.0.1:{free_port()}", timeout=2, database_url=url)
    transport = httpx.ASGITransport(app=create_app(conversation))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, url
    await conversation.close()


@pytest.fixture
async def gateway(assistant: RunningAssistant) -> AsyncIterator[httpx.AsyncClient]:
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    transport = httpx.ASGITransport(app=create_app(conversation))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
    await conversation.close()


async def test_chinese_question_gets_python_course_cards(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/chat", json={"text": "我想学Python", "language": "zh"})

    assert response.status_code == 200
    body = response.json()
    assert body["session_id"]
    names = [card["name"] for card in _cards(body)]
    assert names and any("python" in name.lower() for name in names), body
    first = _cards(body)[0]
    assert {"name", "place", "schedule", "free", "price", "distance_m"} <= set(first)


async def test_english_question_gets_pottery_course_cards(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/chat", json={"text": "where can I learn pottery?"})

    assert response.status_code == 200
    names = [card["name"] for card in _cards(response.json())]
    assert any("pottery" in name.lower() or "陶" in name for name in names), names


async def test_a_session_keeps_its_id_across_turns(gateway: httpx.AsyncClient) -> None:
    first = (await gateway.post("/api/chat", json={"text": "hello"})).json()
    second = await gateway.post(
        "/api/chat", json={"session_id": first["session_id"], "location": HAILIN_CENTRE}
    )

    assert second.status_code == 200
    assert second.json()["session_id"] == first["session_id"]
    assert second.json()["replies"], "a shared location is answered"


@pytest.mark.parametrize("blank", ["   ", "\u200b\u200e", "\n\t\ufeff"])
async def test_a_message_of_only_blanks_gets_a_prompt_in_the_pages_language(
    gateway: httpx.AsyncClient, blank: str
) -> None:
    response = await gateway.post("/api/chat", json={"text": blank, "language": "fr"})

    assert response.status_code == 200
    replies = response.json()["replies"]
    assert [(reply["text"], reply["language"]) for reply in replies] == [
        (EMPTY_MESSAGE["fr"], "fr")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": 42}, "field text"),
        ({"text": "x" * 2001}, "field text"),
        ({"payload": "search_course"}, "field payload"),
        ({"location": {"latitude": "north"}}, "field location"),
        ({"location": {"latitude": 95, "longitude": 10}}, "field location"),
        ({"text": "hi", "session_id": "not a session!"}, "field session_id"),
        ({"text": "hi", "language": ["zh"]}, "field language"),
        ({}, "text, payload, location"),
        (["text"], "JSON object"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    offline_gateway: tuple[httpx.AsyncClient, str], body: object, field: str
) -> None:
    client, _ = offline_gateway
    response = await client.post("/api/chat", json=body)

    assert response.status_code == 400
    assert field in response.json()["error"]


async def test_a_body_that_is_not_json_is_refused(
    offline_gateway: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = offline_gateway
    response = await client.post(
        "/api/chat", content=b"text=hello", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]


async def test_citizen_gets_a_kind_reply_when_the_assistant_is_down(
    offline_gateway: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = offline_gateway
    response = await client.post("/api/chat", json={"text": "我想学Python", "language": "zh"})

    assert response.status_code == 200
    texts = [reply["text"] for reply in response.json()["replies"]]
    assert len(texts) == 1 and "稍后" in texts[0]


async def test_pushed_replies_wait_in_the_outbox_until_the_page_polls(
    offline_gateway: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = offline_gateway
    sender = web.sender(Settings(database_url=url))
    assert sender.channel == "web"

    empty = (await client.get("/api/updates", params={"session_id": "page-1"})).json()
    await sender.send("page-1", [Reply(text="Pottery open day on Saturday", language="en")])
    await sender.send("page-2", [Reply(text="for someone else")])
    first = (await client.get("/api/updates", params={"session_id": "page-1"})).json()
    after = await client.get(
        "/api/updates", params={"session_id": "page-1", "after": first["cursor"]}
    )

    assert empty == {"session_id": "page-1", "replies": [], "cursor": 0}
    assert [reply["text"] for reply in first["replies"]] == ["Pottery open day on Saturday"]
    assert first["replies"][0]["language"] == "en" and first["cursor"] > 0
    assert after.json()["replies"] == [] and after.json()["cursor"] == first["cursor"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "field session_id"),
        ({"session_id": "bad id!"}, "field session_id"),
        ({"session_id": "page-1", "after": "last"}, "field after"),
        ({"session_id": "page-1", "after": "-3"}, "field after"),
    ],
)
async def test_bad_update_polls_are_refused_naming_the_field(
    offline_gateway: tuple[httpx.AsyncClient, str], params: dict, field: str
) -> None:
    client, _ = offline_gateway
    response = await client.get("/api/updates", params=params)

    assert response.status_code == 400 and field in response.json()["error"]


async def test_the_outbox_keeps_only_the_newest_replies_per_session(
    offline_gateway: tuple[httpx.AsyncClient, str],
) -> None:
    from bot.web_outbox import MAX_PER_SESSION

    client, url = offline_gateway
    sender = web.sender(Settings(database_url=url))
    for index in range(MAX_PER_SESSION + 5):
        await sender.send("busy-page", [Reply(text=f"announcement {index}")])

    body = (await client.get("/api/updates", params={"session_id": "busy-page"})).json()

    assert len(body["replies"]) == MAX_PER_SESSION
    assert body["replies"][-1]["text"] == f"announcement {MAX_PER_SESSION + 4}"


async def test_the_page_and_its_translations_are_served_without_the_internet(
    offline_gateway: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = offline_gateway
    page = (await client.get("/")).text
    words = (await client.get("/static/i18n.js")).text

    assert 'role="log"' in page and 'aria-live="polite"' in page
    assert "http://" not in page and "https://" not in page, "nothing is fetched from elsewhere"
    for language in ("zh", "en", "es", "fr", "ar", "ru", "uk"):
        assert f"  {language}: {{" in words
        assert f'value="{language}"' in page


@pytest.fixture
def served_gateway(assistant: RunningAssistant) -> Iterator[str]:
    """The gateway on a real port, for the browser."""
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(conversation), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_a_citizen_uses_the_page_with_the_keyboard_in_chromium(
    served_gateway: str, assistant: RunningAssistant
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(
            locale="en-GB",
            viewport={"width": 760, "height": 1100},
            geolocation=HAILIN_CENTRE,
            permissions=["geolocation"],
        )
        page = await context.new_page()
        await page.goto(f"{served_gateway}/?poll=1")
        assert await page.evaluate("document.activeElement.id") == "message"

        await page.keyboard.type("where can I learn pottery?")
        await page.keyboard.press("Enter")
        first_card = page.locator(".msg.assistant .card h3").first
        await first_card.wait_for(timeout=60_000)
        names = await page.locator(".msg.assistant .card h3").all_inner_texts()
        assert any("pottery" in name.lower() or "陶" in name for name in names), names
        cards_list = page.locator(".msg.assistant ul.cards").first
        assert (await cards_list.get_attribute("aria-label")).startswith("Results")
        assert await page.evaluate("document.activeElement.id") == "message"

        # Tab from the message box: Send, then "use my location"; Space presses it.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "send"
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "locate"
        replies_before = await page.locator(".msg.assistant").count()
        async with page.expect_request("**/api/chat") as request_info:
            await page.keyboard.press("Space")
        sent = json.loads((await request_info.value).post_data or "{}")
        assert sent["location"] == HAILIN_CENTRE and sent["language"] == "en"
        # (a locator, not wait_for_function: the page's CSP forbids evaluating strings)
        await page.locator(".msg.assistant").nth(replies_before).wait_for(timeout=60_000)

        # An announcement pushed through the web sender appears on the page.
        session_id = await page.evaluate("sessionStorage.getItem('learncity-session')")
        sender = web.sender(Settings(database_url=assistant.database_url))
        await sender.send(session_id, [Reply(text="Pottery open day in Nanhu on Saturday")])
        announcement = page.locator(".msg.announcement")
        await announcement.wait_for(timeout=15_000)
        assert "Pottery open day" in await announcement.inner_text()

        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        # Arabic turns the page right-to-left and translates its own labels.
        await page.select_option("#language", "ar")
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        assert await page.inner_text("#send") == "إرسال"
        await browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
