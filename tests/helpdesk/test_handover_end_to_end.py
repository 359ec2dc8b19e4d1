"""A hand-over on the real stack: citizens on the stand-in Telegram and WeChat servers and on
the web chat page (Chromium), the trained assistant behind the gateway, and a member of the
help desk in Chromium who claims, answers and ends. The citizen gets the answer on their own
channel, the bot says nothing while the chat is held, and says it is back afterwards."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

import helpdesk
import staff
from bot.conversation import Conversation
from bot.stack import free_port, gateway_app
from core.database import session_scope
from core.settings import REPOSITORY_ROOT, Settings
from tests.admin.browser_support import browser_page, log_in_with, require_chromium
from tests.admin.console_support import PASSWORD
from tests.bot.wechat_support import WECHAT_TOKEN, callbacks_for
from tests.conftest import RunningAssistant
from tests.fakes.loopback import serving_in_this_loop
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks, random_aes_key
from tests.helpdesk.support import ALWAYS_OPEN

pytestmark = pytest.mark.slow
SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-helpdesk.png"


@pytest.fixture
def stand_ins() -> Iterator[tuple[FakeTelegramApi, FakeWeChatApi]]:
    with (
        FakeTelegramApi(token="5550001:helpdesk-test-token") as telegram,
        FakeWeChatApi() as wechat,
    ):
        yield telegram, wechat


@dataclass(frozen=True)
class DeskScene:
    """The gateway, the channels' stand-ins and a member of the help desk, for one test."""

    base_url: str
    telegram: FakeTelegramApi
    wechat: FakeWeChatApi
    callbacks: WeChatCallbacks  # WeChat's side of the account
    desk: str  # the staff name, password PASSWORD
    database_url: str


@pytest.fixture
async def scene(
    assistant: RunningAssistant, stand_ins: tuple[FakeTelegramApi, FakeWeChatApi], tmp_path: Path
) -> AsyncIterator[DeskScene]:
    """The gateway with web chat, Telegram (polling) and WeChat on the assistant's database,
    and a help-desk member; skips (as failed set-up) without Chromium."""
    require_chromium()
    telegram, wechat = stand_ins
    settings = Settings(
        learncity_data_dir=tmp_path,
        database_url=assistant.database_url,
        gateway_port=free_port(),
        telegram_bot_token=SecretStr(telegram.token),
        telegram_api_base_url=telegram.base_url,
        wechat_token=SecretStr(WECHAT_TOKEN),
        wechat_app_id=wechat.app_id,
        wechat_app_secret=SecretStr(wechat.app_secret),
        wechat_aes_key=SecretStr(random_aes_key()),
        wechat_api_base_url=wechat.base_url,
    )
    name = f"desk{uuid.uuid4().hex[:8]}"
    with session_scope(assistant.database_url) as session:
        staff.add_staff(session, name, "helpdesk", PASSWORD)
        helpdesk.set_office_hours(session, ALWAYS_OPEN, name)
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    async with serving_in_this_loop(
        gateway_app(settings, conversation), settings.gateway_port
    ) as url:
        yield DeskScene(
            url, telegram, wechat, callbacks_for(settings, url), name, assistant.database_url
        )


def _chat_id(database_url: str, sender_id: str) -> int:
    with session_scope(database_url) as session:
        chat = helpdesk.open_chat_for(session, sender_id)
    assert chat is not None, f"{sender_id} is not at the help desk"
    return chat.id


async def _claim_and_open(page, chat_id: int) -> None:  # type: ignore[no-untyped-def]
    """Claim from the queue page (the row appeared there without a reload)."""
    await page.get_by_role("button", name=f"Claim {chat_id}", exact=True).click()
    await page.wait_for_url(f"**/admin/helpdesk/chat?id={chat_id}&notice=claimed")


async def _answer(page, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_role("textbox", name="Your answer").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_load_state()


async def _end(page) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_role("button", name="End and give the chat back to the bot").click()
    await page.wait_for_url("**/admin/helpdesk?notice=ended")


async def test_a_person_takes_over_a_web_chat_and_a_telegram_chat_in_chromium(
    scene: DeskScene,
) -> None:
    telegram, base_url, desk, database_url = (
        scene.telegram, scene.base_url, scene.desk, scene.database_url
    )  # fmt: skip
    async with (
        browser_page("en-GB", 1280, 800) as staff_page,
        browser_page("fr-FR", 800, 900) as citizen,
    ):
        await log_in_with(staff_page, base_url, desk, "Staff name", "Password")
        await staff_page.goto(f"{base_url}/admin/helpdesk")

        # A citizen on the web chat page asks for a person; the queue shows them without a reload.
        await citizen.goto(base_url + "/")
        await citizen.fill("#message", "je voudrais parler à quelqu'un")
        await citizen.press("#message", "Enter")
        queued = citizen.locator("#log .msg.assistant").last
        await queued.wait_for()
        session_id = await citizen.evaluate("sessionStorage.getItem('learncity-session')")
        web_chat = _chat_id(database_url, f"web:{session_id}")
        assert "file" in (await queued.inner_text()), "told the place in the queue, in French"
        await staff_page.get_by_role("button", name=f"Claim {web_chat}", exact=True).wait_for(
            timeout=10_000
        )

        # The Telegram citizen asks too, in Chinese.
        telegram.queue_update(telegram.text_update(4242, "转人工", language_code="zh"))
        asked = await telegram.wait_for_calls("sendMessage", chat_id=4242)
        assert "排在第" in asked[-1].params["text"]
        telegram_chat = _chat_id(database_url, "telegram:4242")
        await staff_page.get_by_role("button", name=f"Claim {telegram_chat}", exact=True).wait_for(
            timeout=10_000
        )
        await staff_page.screenshot(path=str(SCREENSHOT), full_page=True)

        # Web: claim, answer; the page shows it within 2 s; the bot is silent while held.
        await _claim_and_open(staff_page, web_chat)
        sent_at = time.monotonic()
        await _answer(staff_page, "Bonjour, ici l'accueil de la ville. Que puis-je faire ?")
        answer = citizen.locator("#log .msg.helpdesk").last
        await answer.wait_for(timeout=5_000)
        shown_after = time.monotonic() - sent_at
        assert "ici l'accueil de la ville" in await answer.inner_text()
        assert shown_after <= 2.0, f"the answer took {shown_after:.2f} s to show"
        assistant_replies = await citizen.locator("#log .msg.assistant").count()
        await citizen.fill("#message", "Mon diplôme vient d'Algérie")
        await citizen.press("#message", "Enter")
        await staff_page.locator("#messages", has_text="Mon diplôme vient d'Algérie").wait_for(
            timeout=5_000
        )
        assert await citizen.locator("#log .msg.assistant").count() == assistant_replies, (
            "bot silent"
        )
        await _end(staff_page)
        back = citizen.locator("#log .msg.helpdesk", has_text=helpdesk.desk_text("resumed", "fr"))
        await back.wait_for(timeout=5_000)

        # Telegram: claim, answer over sendMessage, silence while held, end.
        before = len(telegram.sent_to(4242))
        await staff_page.goto(f"{base_url}/admin/helpdesk")
        await _claim_and_open(staff_page, telegram_chat)
        await _answer(staff_page, "您好，这里是市民服务台。")
        answered = await telegram.wait_for_calls("sendMessage", chat_id=4242, count=before + 1)
        assert answered[-1].params["text"] == "您好，这里是市民服务台。"
        telegram.queue_update(telegram.text_update(4242, "我的孩子要上学", language_code="zh"))
        await staff_page.locator("#messages", has_text="我的孩子要上学").wait_for(timeout=10_000)
        assert len(telegram.sent_to(4242)) == before + 1, "the bot said nothing while held"
        await _end(staff_page)
        resumed = await telegram.wait_for_calls("sendMessage", chat_id=4242, count=before + 2)
        assert resumed[-1].params["text"] == helpdesk.desk_text("resumed", "zh")
    with session_scope(database_url) as session:
        actions = [(e.actor, e.action) for e in staff.audit_entries(session, actor=desk)]
    assert actions[:4] == [(desk, "helpdesk_end"), (desk, "helpdesk_claim")] * 2


async def test_a_wechat_citizen_gets_the_answers_as_customer_service_messages(
    scene: DeskScene,
) -> None:
    wechat, callbacks, base_url, desk = scene.wechat, scene.callbacks, scene.base_url, scene.desk
    openid = f"o{uuid.uuid4().hex[:12]}"
    asked = await callbacks.post(callbacks.text(openid, "我要找人工客服"))
    if asked.text == "success":  # slower than WeChat's 5 s: the answer follows as a message
        queued = (await wechat.wait_for_messages(openid))[0].content
    else:
        queued = callbacks.reply_fields(asked)["Content"]
    assert "排在第" in queued
    before = len(wechat.sent_to(openid))
    chat = _chat_id(scene.database_url, f"wechat:{openid}")
    async with browser_page("en-GB", 1280, 800) as page:
        await log_in_with(page, base_url, desk, "Staff name", "Password")
        await page.goto(f"{base_url}/admin/helpdesk")
        await _claim_and_open(page, chat)
        held = await callbacks.post(callbacks.text(openid, "请问学历认证要带什么？"))
        assert held.text == "success", "the bot says nothing while held"
        await page.locator("#messages", has_text="请问学历认证要带什么？").wait_for(timeout=10_000)
        await page.get_by_label("Canned answer").select_option("documents")
        await page.get_by_role("button", name="Send", exact=True).click()
        sent = await wechat.wait_for_messages(openid, count=before + 1)
        assert sent[-1].content == helpdesk.canned_text("documents", "zh")
        await _end(page)
        sent = await wechat.wait_for_messages(openid, count=before + 2)
        assert [m.content for m in sent[before:]] == [
            helpdesk.canned_text("documents", "zh"),
            helpdesk.desk_text("resumed", "zh"),
        ]
