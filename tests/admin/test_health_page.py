"""The admins' health page: the gateway's own health monitor and channels, and the last errors
of the gateway and of the servers' log files, as staff read them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.admin.channel_status import channel_states
from bot.channels.telegram import TelegramChannel
from bot.channels.web import WebChannel
from bot.gateway import create_app
from core.settings import Settings, get_settings
from tests.admin.console_support import console_app, log_in
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


async def _health_as_admin(
    app: Any, conversation: Any, query: str = ""
) -> tuple[httpx.Response, httpx.Response]:
    """The health page (with `query`) and its API, as admin "mei" of `app` reads them; the
    conversation is closed after."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "mei")
        page = await client.get(f"/admin/health{query}")
        api = await client.get("/admin/api/health")
    await conversation.close()
    return page, api


async def test_an_admin_sees_rasa_down_when_nothing_answers_its_port(tmp_path, data_dir) -> None:
    # console_app points the conversation at a free port where no Rasa listens.
    app, conversation = console_app(f"sqlite:///{tmp_path / 'h.db'}", {"mei": "admin"})
    page, api = await _health_as_admin(app, conversation, "?lang=zh")

    assert page.status_code == 200
    # Named in the console's language; the API keeps the codes.
    assert '<td>Rasa 服务器</td><td class="state-down">停止</td>' in page.text
    assert '<td>网关</td><td class="state-up">正常</td>' in page.text
    assert '<td>网页聊天</td><td class="state-up">正常</td>' in page.text
    assert api.json()["servers"] == {"gateway": "up", "rasa": "down"}
    assert api.json()["channels"] == ["web"]


async def test_the_last_errors_of_the_gateway_and_the_servers_logs_show_without_secrets(
    tmp_path, data_dir
) -> None:
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "action-server.log").write_text(
        "2026-12-01 08:00:01,100 INFO rasa_sdk.endpoint: Action endpoint is up\n"
        "2026-12-01 08:00:05,200 ERROR actions.base: search failed: database is locked\n"
        "Traceback (most recent call last):\n"
        '{"time": "2026-12-01T08:00:07+00:00", "level": "ERROR", "logger": "bot.gateway", '
        '"message": "token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw refused"}\n',
        encoding="utf-8",
    )
    (logs / "rasa-server.log").write_text(
        "2026-12-01 07:59:00 ERROR    rasa.core.agent  - Could not load model\n", encoding="utf-8"
    )
    app, conversation = console_app(f"sqlite:///{tmp_path / 'h.db'}", {"mei": "admin"})
    logging.getLogger("bot.webchat").error("reply to %s failed: %s", "web", "connection reset")
    page, api = await _health_as_admin(app, conversation)

    errors = [(e["where"], e["message"]) for e in api.json()["errors"]]
    assert errors[0] == ("gateway", "bot.webchat: reply to web failed: connection reset")
    assert [error for error in errors if error[0] != "gateway"] == [
        ("action-server.log", "bot.gateway: token *** refused"),
        ("action-server.log", "actions.base: search failed: database is locked"),
        ("rasa-server.log", "rasa.core.agent  - Could not load model"),
    ]
    assert "AAHdqTcv" not in page.text and "database is locked" in page.text


async def test_telegram_is_asked_whether_it_accepts_the_token_and_what_waits(
    tmp_path, data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "4242:HEALTH-token-kept-secret"
    seen = {}
    with FakeTelegramApi(token=token) as telegram:
        telegram.queue_update(telegram.text_update(77, "hello"))
        for case, given in (("accepted", token), ("refused", "4242:WRONG-token-kept-secret")):
            monkeypatch.setenv("TELEGRAM_BOT_TOKEN", given)
            monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
            get_settings.cache_clear()
            _, conversation = console_app(f"sqlite:///{tmp_path / f'{case}.db'}", {"mei": "admin"})
            channels = [WebChannel(conversation), TelegramChannel(conversation, get_settings())]
            app = create_app(conversation, channels)
            page, api = await _health_as_admin(app, conversation)
            seen[case] = (page.text, api.json()["channel_states"])
        probes = telegram.calls_to("getWebhookInfo")

    accepted_page, accepted = seen["accepted"]
    assert [(c["name"], c["state"], c["mode"], c["waiting"]) for c in accepted] == [
        ("web", "up", "", None),
        ("telegram", "up", "polling", 1),
    ]
    assert '<td>telegram</td><td class="state-up">up</td>' in accepted_page
    assert "polling · 1 updates waiting" in accepted_page
    refused_page, refused = seen["refused"]
    assert (refused[1]["state"], refused[1]["problem"]) == ("down", "Unauthorized")
    assert '<td>telegram</td><td class="state-down">down</td>' in refused_page
    for text in (accepted_page, refused_page, str(accepted), str(refused)):
        assert "HEALTH-token" not in text and "WRONG-token" not in text
    assert len(probes) == 2, (
        "the page and the API each asked once (a wrong token is refused unseen)"
    )


async def test_wechat_is_asked_for_its_stable_token_leaving_the_gateways_token_alone() -> None:
    with FakeWeChatApi(app_id="wx-health", app_secret="health-secret-kept") as wechat:
        states = {}
        for case, secret in (("accepted", "health-secret-kept"), ("refused", "wrong-secret-kept")):
            settings = Settings(
                wechat_app_id="wx-health",
                wechat_app_secret=secret,  # type: ignore[arg-type]
                wechat_api_base_url=wechat.base_url,
            )
            [states[case]] = await channel_states(["wechat"], settings)
        fetches, checks = wechat.token_fetches, wechat.stable_token_checks

    assert (states["accepted"].state, states["accepted"].problem) == ("up", "")
    assert states["refused"].state == "down"
    assert states["refused"].problem.startswith("40125 invalid appsecret"), states["refused"]
    assert (fetches, checks) == (0, 1), "only the stable token was asked for, once accepted"
    assert "secret-kept" not in str(states)
