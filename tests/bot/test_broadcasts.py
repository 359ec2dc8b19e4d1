"""Organizers' broadcasts: the right subscribers, once each, in their language, at a bounded rate."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import citizens
from bot.broadcasts import Announcement, broadcast, erase_deliveries
from bot.channels import web
from bot.channels.base import RecipientUnreachableError
from bot.messages import Reply
from bot.models import BroadcastDelivery
from bot.web_outbox import updates_after
from core.database import session_scope, upgrade_database
from core.settings import Settings
from tests.waiting import wait_until_async

POTTERY = Announcement(
    texts={"en": "Pottery open day in Nanhu on Saturday", "zh": "周六南湖陶艺开放日"},
    topic="pottery",
    district="Nanhu",
    event_id="evt-pottery-open-day",
)


class PlatformStandIn:
    """A stand-in for a messaging platform: records deliveries, refuses blocked recipients."""

    def __init__(self, channel: str, blocked: set[str] = frozenset()) -> None:
        self.channel = channel
        self.blocked = set(blocked)
        self.delivered: list[tuple[str, str]] = []

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        if recipient_id in self.blocked:
            raise RecipientUnreachableError(f"{recipient_id} blocked the bot")
        self.delivered.extend((recipient_id, reply.text) for reply in replies)


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


def _subscribe(url: str, sender_id: str, topic: str = "", district: str = "") -> None:
    with session_scope(url) as session:
        citizens.subscribe_events(session, sender_id, topic=topic, district=district, consent=True)


def _web_inbox(url: str, session_id: str) -> list[str]:
    with session_scope(url) as session:
        return [update.reply["text"] for update in updates_after(session, session_id)]


async def _broadcast(url: str, announcement: Announcement, senders: dict, **options):
    with session_scope(url) as session:
        return await broadcast(announcement, senders, session, **options)


def _web_sender(url: str) -> web.WebSender:
    return web.sender(Settings(database_url=url))


async def test_announcement_reaches_only_subscribers_matching_topic_and_district(url: str) -> None:
    _subscribe(url, "web:potter-nanhu", topic="pottery", district="Nanhu")
    _subscribe(url, "web:everything")
    _subscribe(url, "web:python-fan", topic="python")
    _subscribe(url, "web:beishan-only", district="Beishan")

    report = await _broadcast(url, POTTERY, {"web": _web_sender(url)})

    assert (report.matched, report.delivered, report.failed) == (2, 2, 0)
    assert _web_inbox(url, "potter-nanhu") == ["Pottery open day in Nanhu on Saturday"]
    assert _web_inbox(url, "everything") == ["Pottery open day in Nanhu on Saturday"]
    assert _web_inbox(url, "python-fan") == []
    assert _web_inbox(url, "beishan-only") == []


async def test_each_citizen_gets_the_text_in_their_language_with_english_as_fallback(
    url: str,
) -> None:
    for sender_id, language in [("web:zh-reader", "zh"), ("web:fr-reader", "fr")]:
        _subscribe(url, sender_id)
        with session_scope(url) as session:
            citizens.set_language(session, sender_id, language)

    await _broadcast(url, POTTERY, {"web": _web_sender(url)})

    assert _web_inbox(url, "zh-reader") == ["周六南湖陶艺开放日"]
    assert _web_inbox(url, "fr-reader") == ["Pottery open day in Nanhu on Saturday"]
    chinese_only = Announcement(texts={"zh": "读书节开幕"}, event_id="evt-reading")
    await _broadcast(url, chinese_only, {"web": _web_sender(url)})
    assert _web_inbox(url, "fr-reader")[-1] == "读书节开幕"


async def test_unreachable_citizens_are_marked_and_skipped_next_time(url: str) -> None:
    _subscribe(url, "telegram:111")
    _subscribe(url, "telegram:222")
    _subscribe(url, "telegram:333")
    with session_scope(url) as session:
        citizens.mark_unreachable(session, "telegram:333")
    platform = PlatformStandIn("telegram", blocked={"222"})

    report = await _broadcast(url, POTTERY, {"telegram": platform})

    assert (report.matched, report.delivered, report.unreachable) == (2, 1, 1)
    assert [recipient for recipient, _ in platform.delivered] == ["111"]
    with session_scope(url) as session:
        assert not citizens.is_reachable(session, "telegram:222")
    later = Announcement(texts={"en": "Reading festival"}, event_id="evt-reading")
    second = await _broadcast(url, later, {"telegram": platform})
    assert (second.matched, second.delivered) == (1, 1)
    assert platform.delivered[-1] == ("111", "Reading festival")


async def test_running_the_same_announcement_again_sends_nothing_twice(url: str) -> None:
    for name in ("one", "two", "three"):
        _subscribe(url, f"web:{name}")

    first = await _broadcast(url, POTTERY, {"web": _web_sender(url)})
    again = await _broadcast(url, POTTERY, {"web": _web_sender(url)})

    assert first.delivered == 3
    assert (again.matched, again.delivered, again.already_sent) == (3, 0, 3)
    for name in ("one", "two", "three"):
        assert len(_web_inbox(url, name)) == 1
    same_text_without_event_id = Announcement(texts={"en": "Open day"}, topic="pottery")
    await _broadcast(url, same_text_without_event_id, {"web": _web_sender(url)})
    repeat = await _broadcast(url, same_text_without_event_id, {"web": _web_sender(url)})
    assert repeat.delivered == 0 and repeat.already_sent == 3


async def test_dry_run_counts_recipients_and_sends_or_records_nothing(url: str) -> None:
    _subscribe(url, "web:curious")
    _subscribe(url, "telegram:444")
    platform = PlatformStandIn("telegram")

    dry = await _broadcast(
        url, POTTERY, {"web": _web_sender(url), "telegram": platform}, dry_run=True
    )

    assert (dry.matched, dry.would_send, dry.delivered) == (2, 2, 0)
    assert dry.by_channel == {"telegram": 1, "web": 1}
    assert _web_inbox(url, "curious") == [] and platform.delivered == []
    real = await _broadcast(url, POTTERY, {"web": _web_sender(url), "telegram": platform})
    assert real.delivered == 2, "a dry run must not mark anyone as already sent"


async def test_a_channel_without_a_sender_fails_with_a_reason_and_is_retried_later(
    url: str,
) -> None:
    _subscribe(url, "wechat:oABC")
    _subscribe(url, "web:page")

    report = await _broadcast(url, POTTERY, {"web": _web_sender(url)})

    assert (report.delivered, report.failed) == (1, 1)
    assert report.failures[0]["sender_id"] == "wechat:oABC"
    assert "wechat is not configured" in report.failures[0]["reason"]
    platform = PlatformStandIn("wechat")
    retry = await _broadcast(url, POTTERY, {"web": _web_sender(url), "wechat": platform})
    assert (retry.delivered, retry.already_sent, retry.failed) == (1, 1, 0)
    assert platform.delivered == [("oABC", "Pottery open day in Nanhu on Saturday")]


async def test_sending_is_paced_per_channel(url: str) -> None:
    for index in range(6):
        _subscribe(url, f"telegram:{index}")
    platform = PlatformStandIn("telegram")

    started = time.monotonic()
    report = await _broadcast(url, POTTERY, {"telegram": platform}, rates={"telegram": 10.0})
    elapsed = time.monotonic() - started

    assert report.delivered == 6
    assert elapsed >= 0.5, f"6 messages at 10/s took only {elapsed:.2f}s"


def test_an_announcement_needs_some_text() -> None:
    with pytest.raises(ValueError, match="at least one language"):
        Announcement(texts={"en": "  "})


def _run_cli(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    runner = (
        "import argparse, sys\n"
        "from bot.broadcast_cli import add_broadcast_parser\n"
        "parser = argparse.ArgumentParser(prog='learncity')\n"
        "add_broadcast_parser(parser.add_subparsers(dest='command', required=True))\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "sys.exit(args.handler(args))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WECHAT_"))
    }
    env.update({"DATABASE_URL": url, "LEARNCITY_DATA_DIR": str(tmp_path / "data")})
    return subprocess.run(
        [sys.executable, "-c", runner, "broadcast", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_broadcast_command_dry_run_then_send_with_json_reports(tmp_path: Path, url: str) -> None:
    _subscribe(url, "web:cli-reader", topic="pottery")
    _subscribe(url, "web:cli-zh")
    with session_scope(url) as session:
        citizens.set_language(session, "web:cli-zh", "zh")
    common = ["--text", "Pottery fair", "--text-zh", "陶艺集市", "--topic", "pottery", "--json"]

    dry = _run_cli(tmp_path, url, *common, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["would_send"] == 2
    assert _web_inbox(url, "cli-reader") == []

    sent = _run_cli(tmp_path, url, *common)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["delivered"] == 2
    assert _web_inbox(url, "cli-reader") == ["Pottery fair"]
    assert _web_inbox(url, "cli-zh") == ["陶艺集市"]

    missing = _run_cli(tmp_path, url, "--topic", "pottery")
    assert missing.returncode == 2 and "--text" in missing.stderr


async def test_forgetting_a_citizen_forgets_which_announcements_they_got(url: str) -> None:
    _subscribe(url, "web:forgetful")
    _subscribe(url, "web:stays")
    await _broadcast(url, POTTERY, {"web": _web_sender(url)})

    with session_scope(url) as session:
        erased = erase_deliveries(session, "web:forgetful")
        citizens.erase_citizen(session, "web:forgetful")

    assert erased == 1
    again = await _broadcast(url, POTTERY, {"web": _web_sender(url)})
    assert (again.matched, again.already_sent, again.delivered) == (1, 1, 0)


class TimingOutPlatform(PlatformStandIn):
    """Shows the message, then never answers in time (what a slow Bot API does)."""

    def __init__(self, channel: str, slow: set[str]) -> None:
        super().__init__(channel)
        self.slow = slow

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        await super().send(recipient_id, replies)
        if recipient_id in self.slow:
            raise httpx.ReadTimeout("timed out waiting for the Bot API")


class RefusingPlatform(PlatformStandIn):
    """The platform cannot be reached at all: nothing can have been shown."""

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        raise httpx.ConnectError("connection refused")


async def test_a_send_that_times_out_is_unknown_reported_and_resent_only_on_request(
    url: str,
) -> None:
    for chat in ("1", "2", "3"):
        _subscribe(url, f"telegram:{chat}")
    slow = TimingOutPlatform("telegram", slow={"2"})

    first = await _broadcast(url, POTTERY, {"telegram": slow})
    again = await _broadcast(url, POTTERY, {"telegram": slow})

    assert (first.delivered, first.unknown, first.failed) == (2, 1, 0)
    assert [u["sender_id"] for u in first.unknowns] == ["telegram:2"]
    assert (again.delivered, again.unknown, again.already_sent) == (0, 1, 2)
    assert "may have arrived" in again.unknowns[0]["reason"]
    assert sorted(chat for chat, _ in slow.delivered) == ["1", "2", "3"], "nothing resent"
    slow.slow.clear()
    resent = await _broadcast(url, POTTERY, {"telegram": slow}, resend_unknown=True)
    assert (resent.delivered, resent.resent_unknown, resent.unknown) == (1, 1, 0)
    settled = await _broadcast(url, POTTERY, {"telegram": slow})
    assert (settled.delivered, settled.unknown, settled.already_sent) == (0, 0, 3)


async def test_a_send_that_never_left_is_failed_and_retried(url: str) -> None:
    _subscribe(url, "telegram:5")

    refused = await _broadcast(url, POTTERY, {"telegram": RefusingPlatform("telegram")})
    platform = PlatformStandIn("telegram")
    retried = await _broadcast(url, POTTERY, {"telegram": platform})

    assert (refused.failed, refused.unknown) == (1, 0)
    assert (retried.delivered, retried.unknown) == (1, 0)
    assert platform.delivered == [("5", "Pottery open day in Nanhu on Saturday")]


async def test_stopping_during_the_rate_limit_wait_claims_no_one(url: str) -> None:
    """The next citizen is marked `sending` only right before their send: a broadcast stopped
    while it waits for its rate slot leaves them to the next run (it had skipped them)."""
    for index in range(3):
        _subscribe(url, f"telegram:{index}")
    platform = PlatformStandIn("telegram")

    task = asyncio.create_task(
        _broadcast(url, POTTERY, {"telegram": platform}, rates={"telegram": 1.0})
    )
    await wait_until_async(lambda: platform.delivered, 30, "the first delivery", interval=0.01)
    await asyncio.sleep(0.2)  # not a wait: stop well inside the one-second rate wait
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with session_scope(url) as session:
        states = session.execute(
            select(BroadcastDelivery.sender_id, BroadcastDelivery.status)
        ).all()
    assert [tuple(row) for row in states] == [("telegram:0", "delivered")]
    rerun = await _broadcast(url, POTTERY, {"telegram": platform}, rates={"telegram": 100.0})
    assert (rerun.delivered, rerun.already_sent, rerun.unknown) == (2, 1, 0)
    assert sorted(chat for chat, _ in platform.delivered) == ["0", "1", "2"]


def test_broadcast_command_without_topic_reaches_a_topic_subscriber_in_good_grammar(
    tmp_path: Path, url: str
) -> None:
    _subscribe(url, "web:only-pottery", topic="pottery", district="Nanhu")

    sent = _run_cli(tmp_path, url, "--text", "City learning festival", "--event-id", "fest")

    assert sent.returncode == 0, sent.stderr
    assert "1 subscriber matches" in sent.stdout and "subscribers" not in sent.stdout
    assert _web_inbox(url, "only-pottery") == ["City learning festival"]


async def test_a_telegram_send_that_hangs_is_reported_unknown_and_not_resent(url: str) -> None:
    """Through the real Telegram sender and the Bot API stand-in: a send Telegram never
    answers times out as `unknown` (it may have been shown), and a re-run does not resend it
    (it had resent 12 of 12 such sends, all duplicates)."""
    from bot.channels import telegram
    from tests.fakes.telegram_api import FakeTelegramApi

    for chat in (11, 12, 13):
        _subscribe(url, f"telegram:{chat}")
    with FakeTelegramApi(token="4242:hang") as api:
        api.hanging_chats.add(12)
        settings = Settings(
            database_url=url,
            telegram_bot_token="4242:hang",
            telegram_api_base_url=api.base_url,
        )
        for _ in range(2):
            sender = telegram.sender(settings)
            assert sender is not None
            try:
                report = await _broadcast(url, POTTERY, {"telegram": sender})
            finally:
                await sender.close()
            sends = sorted(call.params["chat_id"] for call in api.calls_to("sendMessage"))
            assert sends == [11, 12, 13], "a re-run sent nothing again"
            assert [u["sender_id"] for u in report.unknowns] == ["telegram:12"]
        assert (report.unknown, report.failed, report.already_sent) == (1, 0, 2)


def test_broadcast_command_with_the_database_down_says_so_without_a_traceback(
    tmp_path: Path, refused_port: int
) -> None:
    port = refused_port  # nothing listens there for the whole test
    url = f"postgresql+psycopg2://learncity:secret@127.0.0.1:{port}/learncity"

    failed = _run_cli(tmp_path, url, "--text", "Reading festival")

    assert failed.returncode == 1
    assert f"the database at postgresql+psycopg2://learncity:***@127.0.0.1:{port}" in failed.stderr
    assert "Run the same command again" in failed.stderr
    assert "Traceback" not in failed.stderr and "secret" not in failed.stderr
