"""Several Rasa servers: RASA_SERVERS is checked, and each citizen always talks to the same one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.conversation import Conversation
from bot.messages import IncomingMessage
from core.database import upgrade_database
from core.settings import Settings
from tests.conftest import SHARED_MODELS_DIR
from tests.environment import settings_from_environment
from tests.fakes.rasa_rest import FakeRasa


def test_rasa_servers_setting_gives_consecutive_urls_and_refuses_out_of_range(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(learncity_data_dir=tmp_path, rasa_url="http://127.0.0.1:6000/")
    assert settings.rasa_urls == ["http://127.0.0.1:6000"]
    monkeypatch.setenv("RASA_SERVERS", "3")
    settings = Settings(learncity_data_dir=tmp_path, rasa_url="http://127.0.0.1:6000")
    assert settings.rasa_urls == [f"http://127.0.0.1:{port}" for port in (6000, 6001, 6002)]
    monkeypatch.setenv("RASA_SERVERS", "0")
    with pytest.raises(ValueError, match="RASA_SERVERS must be between 1 and 8"):
        Settings(learncity_data_dir=tmp_path)


def _message(sender: str, text: str) -> IncomingMessage:
    return IncomingMessage(sender_id=sender, channel="web", text=text)


async def test_each_citizen_sticks_to_one_server_and_citizens_spread_over_all(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'learncity.db'}"
    upgrade_database(database_url)  # the gateway asks the help desk about every turn
    with FakeRasa() as first, FakeRasa() as second:
        conversation = Conversation([first.url, second.url], database_url=database_url)
        senders = [f"web:citizen-{n}" for n in range(40)]
        try:
            for round_number in range(3):
                for sender in senders:
                    replies = await conversation.handle(_message(sender, f"turn {round_number}"))
                    assert replies and replies[0].text == f"you said: turn {round_number}"
        finally:
            await conversation.close()
        seen_by_first = {m["sender"] for m in first.received}
        seen_by_second = {m["sender"] for m in second.received}
        assert seen_by_first and seen_by_second, "both servers get citizens"
        assert seen_by_first.isdisjoint(seen_by_second), "a citizen never moves between servers"
        assert seen_by_first | seen_by_second == set(senders)
        assert len(first.received) + len(second.received) == 3 * len(senders)


async def test_two_real_rasa_servers_answer_their_own_citizens_from_one_tracker_store(
    tmp_path: Path,
) -> None:
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts

    database_url = f"sqlite:///{tmp_path / 'learncity.db'}"
    overrides = {
        "LEARNCITY_DATA_DIR": str(tmp_path),
        "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
        "DATABASE_URL": database_url,
        "RASA_SERVERS": "2",
    }
    with settings_from_environment(overrides) as settings:
        ports = StackPorts(rasa=free_port(2), actions=free_port())
        with running_assistant(settings, ports) as supervisor:
            assert len(supervisor.rasa_servers) == 2
            conversation = Conversation(
                supervisor.rasa_urls, database_url=database_url, auth_token=supervisor.rasa_token
            )
            senders = [f"web:two-servers-{n}" for n in range(12)]
            by_server = {conversation.rasa_url_for(sender) for sender in senders}
            assert by_server == set(supervisor.rasa_urls), "the senders cover both servers"
            try:
                for sender in senders[:4] + senders[-4:]:
                    replies = await conversation.handle(_message(sender, "我想学Python"))
                    names = [card.name for reply in replies for card in reply.cards]
                    assert any("python" in name.lower() for name in names), replies
            finally:
                await conversation.close()
        engine = create_engine(database_url)
        with engine.connect() as connection:
            stored = {
                row[0] for row in connection.execute(text("SELECT DISTINCT sender_id FROM events"))
            }
        engine.dispose()
        assert set(senders[:4] + senders[-4:]) <= stored
