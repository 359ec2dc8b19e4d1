"""The organizers' announcement page: compose per language and preview exactly who would get it.

The preview is `bot.broadcasts.broadcast(..., dry_run=True)`, the same rule and delivery ledger
as `learncity broadcast --dry-run`: matched subscribers, those an earlier run already reached,
and how many each channel would send now. Beside each language's text box: how many of the
recipients chose that language. **Send now** runs the same `broadcast` with the gateway's
channel senders and shows its report; every send goes into the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

import citizens
import staff
from bot.admin.access import client_address
from bot.admin.i18n import request_language
from bot.admin.pages import render
from bot.broadcasts import Announcement, BroadcastReport, broadcast
from bot.channels.base import ChannelSender
from core.database import session_scope
from nlu.language import NATIVE_LANGUAGE_NAMES, SUPPORTED_LANGUAGES

MAX_TEXT_CHARS = 4000


@dataclass
class Preview:
    matched: int = 0
    already_sent: int = 0
    would_send: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)  # recipients' chosen languages


class AnnouncePages:
    """Handlers for /admin/announce, sharing the database URL and the gateway's channel senders
    (`senders()` builds them, as `learncity broadcast` does; None: sending is not offered)."""

    def __init__(
        self,
        database_url: str | None,
        senders: Callable[[], dict[str, ChannelSender]] | None = None,
    ) -> None:
        self.database_url = database_url
        self.senders = senders

    async def announce_form(self, request: Request, current: staff.StaffSession) -> Response:
        return self._page(request, current, texts={}, topic="", district="")

    async def announce_preview(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._preview_or_send(request, current, send=False)

    async def announce_send(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._preview_or_send(request, current, send=True)

    async def _preview_or_send(
        self, request: Request, current: staff.StaffSession, *, send: bool
    ) -> Response:
        form: dict[str, str] = request.state.form
        texts = {
            language: form.get(f"text_{language}", "")[:MAX_TEXT_CHARS]
            for language in SUPPORTED_LANGUAGES
        }
        topic = form.get("topic", "").strip()[:200]
        district = form.get("district", "").strip()[:120]
        chosen = {language: text for language, text in texts.items() if text.strip()}
        fields = {"texts": texts, "topic": topic, "district": district}
        if not chosen:
            return self._page(request, current, **fields, missing_text=True, status_code=400)
        announcement = Announcement(texts=chosen, topic=topic or None, district=district or None)
        report = None
        if send and self.senders is not None:
            report = await self._send(announcement, current, client_address(request))
        preview = await self._preview(announcement)
        return self._page(request, current, **fields, preview=preview, report=report)

    async def _send(
        self, announcement: Announcement, current: staff.StaffSession, address: str
    ) -> BroadcastReport:
        """Send now, through the same ledger as the CLI (each citizen once per announcement)."""
        # The gateway's channels' own senders: they share the channels' connections, which
        # the gateway closes when it stops, so they are not closed here.
        senders = self.senders() if self.senders is not None else {}
        with session_scope(self.database_url) as session:
            report = await broadcast(announcement, senders, session)
        with session_scope(self.database_url) as session:
            target = (
                f"{announcement.key} topic={announcement.topic or '-'} "
                f"district={announcement.district or '-'}: delivered {report.delivered}, "
                f"unreachable {report.unreachable}, failed {report.failed}"
            )
            staff.record_action(session, current.staff_name, "broadcast_send", target, address)
        return report

    async def _preview(self, announcement: Announcement) -> Preview:
        with session_scope(self.database_url) as session:
            report = await broadcast(announcement, {}, session, dry_run=True)
            recipients = citizens.subscribers_for(
                session, topic=announcement.topic, district=announcement.district
            )
            languages = Counter(
                citizens.get_language(session, sender_id) or "unknown" for sender_id in recipients
            )
        return Preview(
            matched=report.matched,
            already_sent=report.already_sent,
            would_send=report.would_send,
            by_channel=report.by_channel,
            by_language=dict(languages),
        )

    def _page(
        self,
        request: Request,
        current: staff.StaffSession,
        *,
        texts: dict[str, str],
        topic: str,
        district: str,
        preview: Preview | None = None,
        report: BroadcastReport | None = None,
        missing_text: bool = False,
        status_code: int = 200,
    ) -> Response:
        from knowledge.city import load_city  # the city's districts, defined once

        city = load_city()
        language = request_language(request)
        return render(
            request,
            "announce.html",
            current=current,
            text_languages=[(code, NATIVE_LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
            texts=texts,
            topic=topic,
            district=district,
            districts=[(key, city.district_name(key, language)) for key in city.district_keys],
            preview=preview,
            report=report,
            can_send=self.senders is not None,
            missing_text=missing_text,
            status_code=status_code,
        )
