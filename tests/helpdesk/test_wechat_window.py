"""A staff answer WeChat refuses because its 48-hour window closed (errcode 45015, from the
WeChat stand-in) is kept and shown to the member of staff as not delivered, saying why in the
console's words: never silently lost, never resent behind their back."""

from __future__ import annotations

import html
import uuid
from pathlib import Path

from pydantic import SecretStr

import staff
from bot.admin.helpdesk_words import HELPDESK_WORDS
from bot.channels.configured import build_channels
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.stack import free_port
from core.database import session_scope, upgrade_database
from core.settings import Settings
from tests.admin.console_support import PASSWORD
from tests.bot.wechat_support import WECHAT_TOKEN
from tests.fakes.wechat_api import FakeWeChatApi
from tests.helpdesk.support import ask_for_person, chat_lines_of
from tests.helpdesk.test_console_helpdesk import _logged_in


async def test_an_answer_wechat_refuses_after_its_window_is_shown_to_staff_as_not_delivered(
    database_url: str, tmp_path: Path
) -> None:
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        staff.add_staff(session, "ana", "helpdesk", PASSWORD)
    openid = f"o{uuid.uuid4().hex[:12]}"
    with FakeWeChatApi() as wechat:
        settings = Settings(
            learncity_data_dir=tmp_path,
            database_url=database_url,
            wechat_token=SecretStr(WECHAT_TOKEN),
            wechat_app_id=wechat.app_id,
            wechat_app_secret=SecretStr(wechat.app_secret),
            wechat_api_base_url=wechat.base_url,
        )
        conversation = Conversation(
            f"http://127.0.0.1:{free_port()}", timeout=2, database_url=database_url
        )
        app = create_app(conversation, build_channels(conversation, settings))
        ticket = ask_for_person(database_url, f"wechat:{openid}", language="zh")
        ana, token = await _logged_in(app, "ana")
        await ana.post(
            "/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id}
        )
        wechat.out_of_window.add(openid)  # WeChat's clock says the window is over
        answered = await ana.post(
            "/admin/helpdesk/reply",
            data={"csrf_token": token, "chat_id": ticket.chat_id, "text": "您好"},
        )
        assert answered.status_code == 303
        lines = (await ana.get(f"/admin/api/helpdesk?chat={ticket.chat_id}")).json()["messages"]
        page = (await ana.get(f"/admin/helpdesk/chat?id={ticket.chat_id}")).text
        await ana.aclose()
        await conversation.close()
    assert wechat.sent_to(openid) == [] and [r["errcode"] for r in wechat.rejected] == [45015]
    assert chat_lines_of(database_url, ticket.chat_id) == [("staff", "您好", False)]
    assert [(line["text"], line["delivered"]) for line in lines] == [("您好", False)]
    told = HELPDESK_WORDS["en"]["failed"].format(
        error=HELPDESK_WORDS["en"]["error_wechat_window_closed"]
    )
    assert lines[0]["error"] == HELPDESK_WORDS["en"]["error_wechat_window_closed"]
    assert told in html.unescape(page), "the staff member is told why, in the console's words"
