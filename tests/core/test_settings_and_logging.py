"""Settings come from the environment once; logs never contain secrets."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from core.logging_setup import configure_logging, scrub_secrets
from core.settings import Settings, get_settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "GATEWAY_HOST", "GATEWAY_PORT", "LEARNCITY_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = Settings()
    assert settings.gateway_host == "127.0.0.1"
    assert settings.gateway_port == 8000
    assert settings.sqlalchemy_url == f"sqlite:///{settings.data_dir / 'learncity.db'}"
    assert settings.data_dir.name == ".data"


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("GATEWAY_PORT=9123\nDATABASE_URL=sqlite:///from-dotenv.db\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1/test")
    settings = Settings()
    assert settings.gateway_port == 9123
    assert settings.sqlalchemy_url == "postgresql+psycopg2://postgres@127.0.0.1/test"


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "eighty")
    with pytest.raises(ValueError, match="gateway_port"):
        Settings()


def test_secrets_never_reach_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456789:AAH-very-secret-token-value-0123456789"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("WECHAT_APP_SECRET", "wechat-app-secret-42")
    monkeypatch.setenv("LEARNCITY_LOG_FORMAT", "json")
    get_settings.cache_clear()
    try:
        stream = io.StringIO()
        configure_logging("INFO")
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "_learncity", False))
        handler.setStream(stream)  # type: ignore[attr-defined]
        logger = logging.getLogger("learncity.test")
        logger.info("calling https://api.telegram.org/bot%s/getMe", token)
        logger.info("token url ?access_token=abc.def&x=1 secret wechat-app-secret-42")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        monkeypatch.delenv("LEARNCITY_LOG_FORMAT")
        get_settings.cache_clear()
        configure_logging("INFO")
    assert len(lines) == 2
    text = stream.getvalue()
    assert token not in text and "wechat-app-secret-42" not in text and "abc.def" not in text
    assert lines[0]["message"] == "calling https://api.telegram.org/bot***/getMe"
    assert str(Settings(telegram_bot_token=token)).count(token) == 0


def test_scrub_keeps_ordinary_text() -> None:
    assert scrub_secrets("我想学Python near 31.23,121.47") == "我想学Python near 31.23,121.47"


def test_every_library_logger_keeps_one_scrubber_through_its_own_logging_config() -> None:
    """uvicorn (and sanic) install their own handlers after ours: the filter on their loggers
    survives that, and configuring twice does not stack filters."""
    import logging.config

    import uvicorn.config

    from core.log_hygiene import HygieneFilter
    from core.logging_setup import ROUTED_LOGGERS

    configure_logging("INFO")
    configure_logging("INFO")
    from sanic.logging.default import LOGGING_CONFIG_DEFAULTS

    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # what uvicorn.Config does
    logging.config.dictConfig(LOGGING_CONFIG_DEFAULTS)  # what Sanic() does (action server)
    counts = {
        name: sum(isinstance(f, HygieneFilter) for f in logging.getLogger(name).filters)
        for name in ROUTED_LOGGERS
    }
    assert counts == dict.fromkeys(ROUTED_LOGGERS, 1)
    root_handler = next(h for h in logging.getLogger().handlers if getattr(h, "_learncity", False))
    assert sum(isinstance(f, HygieneFilter) for f in root_handler.filters) == 1
