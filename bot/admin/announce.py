"""The organizers' announcement pages: compose, preview, send or schedule, watch, look back.

The preview is `bot.broadcasts.recipients_now`, the rule and delivery ledger `broadcast` and
`learncity broadcast --dry-run` use: matched subscribers, those an earlier send of the same
announcement already reached, and who would get it now, counted per channel (with the text
languages they will get) and, beside each language's text box, how many of them chose that
language and how many will get that text (a citizen whose language has no text gets the first
of English, Chinese, then any text given: `Announcement.text_for`, as the workers do). The topic box offers the topics citizens subscribed to. **Send** stores the announcement for the broadcast workers
(`bot.broadcast_jobs.submit`, now or at the time given, in the city's time zone), writes the
audit log and opens its progress page, which polls `/admin/api/announcement?id=` (a small
script of our own, allowed by the console's `script-src 'self'`) until it is sent. The past
announcements page lists every one with its report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import citizens
import staff
from bot.admin.access import client_address
from bot.admin.announce_words import announce_words
from bot.admin.event_choice import EventChoice, event_by_id, starting_texts, upcoming_events
from bot.admin.i18n import request_language
from bot.admin.pages import render
from bot.broadcast_jobs import cancel, progress, recent_announcements, submit
from bot.broadcasts import Announcement, recipients_now
from citizens.models import EventSubscription
from core.database import session_scope
from nlu.language import NATIVE_LANGUAGE_NAMES, SUPPORTED_LANGUAGES

MAX_TEXT_CHARS = 4000
MAX_LISTED_TOPICS = 200


@dataclass
class Preview:
    matched: int = 0
    already_sent: int = 0
    would_send: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_channel_text: dict[str, dict[str, int]] = field(default_factory=dict)  # channel: texts
    by_language: dict[str, int] = field(default_factory=dict)  # recipients' chosen languages
    by_text: dict[str, int] = field(default_factory=dict)  # which text recipients will get


class AnnouncePages:
    """Handlers for /admin/announce…, sharing the database URL. Sending is the broadcast
    workers' job: these pages store, preview and read the ledger."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    def routes(self, page: Callable[..., Route]) -> list[Route]:
        """The routes, each made by the console's guarded `page` factory (organizers)."""
        organizers: dict[str, Any] = {"roles": ("organizer",)}
        post: dict[str, Any] = {"roles": ("organizer",), "methods": ("POST",)}
        return [
            page("/announce", self.announce_form, **organizers),
            page("/announce/preview", self.announce_preview, **post),
            page("/announce/send", self.announce_send, **post),
            page("/announce/progress", self.announce_progress, **organizers),
            page("/announce/cancel", self.announce_cancel, **post),
            page("/announcements", self.announcements, **organizers),
            page("/api/announcement", self.announcement_api, **organizers),
        ]

    async def announce_form(self, request: Request, current: staff.StaffSession) -> Response:
        """The empty form; with ?event=ID the event's starting texts and narrowing, previewed."""
        event_id = request.query_params.get("event", "").strip()[:120]
        empty: dict[str, Any] = {"texts": {}, "topic": "", "district": "", "send_at": ""}
        if not event_id:
            return await self._page(request, current, **empty)
        event = await run_in_threadpool(self._event, event_id)
        if event is None:
            return await self._page(
                request, current, **empty, unknown_event=event_id, status_code=404
            )
        from knowledge.city import load_city

        texts = starting_texts(event, load_city())
        announcement = Announcement(
            texts=texts,
            topic=event.narrowing_topic or None,
            district=event.district or None,
            event_id=event.id,
        )
        return await self._page(
            request,
            current,
            texts=texts,
            topic=event.narrowing_topic,
            district=event.district,
            send_at="",
            event=event,
            preview=await self._preview(announcement),
        )

    async def announce_preview(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._preview_or_send(request, current, send=False)

    async def announce_send(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._preview_or_send(request, current, send=True)

    async def announce_progress(self, request: Request, current: staff.StaffSession) -> Response:
        """One announcement's progress; the page's script keeps it current."""
        state = await run_in_threadpool(self._progress, request.query_params.get("id", ""))
        if state is None:
            return RedirectResponse("/admin/announcements", status_code=303)
        names = await run_in_threadpool(self._event_names, [state])
        return render(
            request,
            "announce_progress.html",
            current=current,
            b=announce_words(request),
            state=state,
            event_name=names.get(state["event_id"] or "", ""),
            cancelled=request.query_params.get("cancelled") == "1",
            too_late=request.query_params.get("too_late") == "1",
        )

    async def announce_cancel(self, request: Request, current: staff.StaffSession) -> Response:
        """Cancel a scheduled announcement before a worker takes it; audited either way."""
        announcement_id = request.state.form.get("id", "")
        if not announcement_id.isdigit() or len(announcement_id) > 12:
            return RedirectResponse("/admin/announcements", status_code=303)
        cancelled = await run_in_threadpool(
            self._cancel, int(announcement_id), current, client_address(request)
        )
        outcome = "cancelled" if cancelled else "too_late"
        return RedirectResponse(
            f"/admin/announce/progress?id={announcement_id}&{outcome}=1", status_code=303
        )

    def _cancel(self, announcement_id: int, current: staff.StaffSession, address: str) -> bool:
        with session_scope(self.database_url) as session:
            cancelled = cancel(session, announcement_id)
            action = "broadcast_cancel" if cancelled else "broadcast_cancel_refused"
            staff.record_action(
                session,
                current.staff_name,
                action,
                f"announcement {announcement_id}",
                address,
                details={"id": announcement_id},
            )
        return cancelled

    async def announcement_api(self, request: Request, current: staff.StaffSession) -> Response:
        """The progress as JSON: delivered / unreachable / failed / unknown / left and the rate."""
        state = await run_in_threadpool(self._progress, request.query_params.get("id", ""))
        if state is None:
            return JSONResponse({"error": "no such announcement"}, status_code=404)
        response = JSONResponse(state)
        response.headers["cache-control"] = "no-store"
        return response

    async def announcements(self, request: Request, current: staff.StaffSession) -> Response:
        """Past (and scheduled) announcements, newest first, each with its report."""

        def read() -> list[dict[str, Any]]:
            with session_scope(self.database_url) as session:
                return [item.as_dict() for item in recent_announcements(session)]

        items = await run_in_threadpool(read)
        return render(
            request,
            "announcements.html",
            current=current,
            b=announce_words(request),
            items=items,
            event_names=await run_in_threadpool(self._event_names, items),
        )

    def _event_names(self, items: list[dict[str, Any]]) -> dict[str, str]:
        """{event id: its name in the catalog} for the announcements about an event."""
        import knowledge

        ids = [item["event_id"] for item in items if item.get("event_id")]
        if not ids:
            return {}
        with session_scope(self.database_url) as session:
            return {event.id: event.name for event in knowledge.items_by_ids(session, ids)}

    def _topics(self) -> list[tuple[str, int]]:
        with session_scope(self.database_url) as session:
            return subscribed_topics(session)

    def _event(self, event_id: str) -> EventChoice | None:
        from knowledge.city import load_city

        with session_scope(self.database_url) as session:
            return event_by_id(session, load_city(), event_id)

    def _events(self, words: str) -> list[EventChoice]:
        from knowledge.city import load_city

        with session_scope(self.database_url) as session:
            return upcoming_events(session, load_city(), words=words)

    def _progress(self, announcement_id: str) -> dict[str, Any] | None:
        if not announcement_id.isdigit() or len(announcement_id) > 12:
            return None
        with session_scope(self.database_url) as session:
            state = progress(session, int(announcement_id))
        return state.as_dict() if state else None

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
        send_at_text = form.get("send_at", "").strip()[:40]
        chosen = {language: text for language, text in texts.items() if text.strip()}
        fields: dict[str, Any] = {
            "texts": texts,
            "topic": topic,
            "district": district,
            "send_at": send_at_text,
        }
        event_id = form.get("event_id", "").strip()[:120]
        if event_id:
            fields["event"] = await run_in_threadpool(self._event, event_id)
            if fields["event"] is None:
                return await self._page(
                    request, current, **fields, unknown_event=event_id, status_code=400
                )
        if not chosen:
            return await self._page(request, current, **fields, missing_text=True, status_code=400)
        try:
            send_at = _city_time(send_at_text) if send_at_text else None
        except ValueError:
            return await self._page(request, current, **fields, bad_send_at=True, status_code=400)
        announcement = Announcement(
            texts=chosen, topic=topic or None, district=district or None, event_id=event_id or None
        )
        if send:
            announcement_id = await run_in_threadpool(
                self._submit, announcement, send_at, current, client_address(request)
            )
            return RedirectResponse(
                f"/admin/announce/progress?id={announcement_id}", status_code=303
            )
        preview = await self._preview(announcement)
        return await self._page(request, current, **fields, preview=preview)

    def _submit(
        self,
        announcement: Announcement,
        send_at: datetime | None,
        current: staff.StaffSession,
        address: str,
    ) -> int:
        """Store it for the workers (same ledger as the CLI: each citizen once), and audit it."""
        with session_scope(self.database_url) as session:
            announcement_id = submit(
                session, announcement, send_at=send_at, created_by=current.staff_name
            )
            details = {
                "id": announcement_id,
                "key": announcement.key,
                "topic": announcement.topic,
                "district": announcement.district,
                "event": announcement.event_id,
                "send_at": send_at.isoformat(timespec="seconds") if send_at else None,
            }
            staff.record_action(
                session,
                current.staff_name,
                "broadcast_send",
                f"announcement {announcement_id}",
                address,
                details=details,
            )
        return announcement_id

    async def _preview(self, announcement: Announcement) -> Preview:
        return await run_in_threadpool(self._count, announcement)

    def _count(self, announcement: Announcement) -> Preview:
        """Who would get it now (`recipients_now`, the rule the workers send by), counted by
        channel, by chosen language and by the text each will get."""
        with session_scope(self.database_url) as session:
            now = recipients_now(session, announcement)
            chosen = {
                channel: [citizens.get_language(session, sender_id) for sender_id in ids]
                for channel, ids in now.by_channel.items()
            }
        languages = [language for channel in chosen.values() for language in channel]
        return Preview(
            matched=len(now.matched),
            already_sent=len(now.already_sent),
            would_send=len(languages),
            by_channel={channel: len(ids) for channel, ids in now.by_channel.items()},
            by_channel_text={
                channel: dict(
                    Counter(
                        announcement.text_for(language)[0] for language in channel_languages
                    ).most_common()
                )
                for channel, channel_languages in chosen.items()
            },
            by_language=dict(Counter(language or "unknown" for language in languages)),
            by_text=dict(Counter(announcement.text_for(language)[0] for language in languages)),
        )

    async def _page(
        self,
        request: Request,
        current: staff.StaffSession,
        *,
        texts: dict[str, str],
        topic: str,
        district: str,
        send_at: str,
        preview: Preview | None = None,
        event: EventChoice | None = None,
        unknown_event: str = "",
        missing_text: bool = False,
        bad_send_at: bool = False,
        status_code: int = 200,
    ) -> Response:
        from knowledge.city import load_city  # the city's districts, defined once

        city = load_city()
        language = request_language(request)
        topics = await run_in_threadpool(self._topics)
        event_words = request.query_params.get("events_q", "").strip()[:100]
        events = await run_in_threadpool(self._events, event_words)
        return render(
            request,
            "announce.html",
            current=current,
            b=announce_words(request),
            text_languages=[(code, NATIVE_LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
            texts=texts,
            topic=topic,
            topics=topics,
            district=district,
            send_at=send_at,
            districts=[(key, city.district_name(key, language)) for key in city.district_keys],
            preview=preview,
            event=event,
            events=events,
            event_words=event_words,
            unknown_event=unknown_event,
            missing_text=missing_text,
            bad_send_at=bad_send_at,
            status_code=status_code,
        )


def subscribed_topics(session: Session) -> list[tuple[str, int]]:
    """The topics citizens subscribed to, each with how many citizens, most first (the topic
    box's list: an announcement reaches a subscriber whose topic its topic names)."""
    citizens_count = func.count(distinct(EventSubscription.sender_id))
    rows = session.execute(
        select(EventSubscription.topic, citizens_count)
        .where(EventSubscription.topic != "")
        .group_by(EventSubscription.topic)
        .order_by(citizens_count.desc(), EventSubscription.topic)
        .limit(MAX_LISTED_TOPICS)
    ).all()
    return [(topic, count) for topic, count in rows]


def _city_time(value: str) -> datetime:
    """A typed send time ("2026-12-24 18:00", or with T or seconds) in the city's time zone, in UTC."""
    from knowledge.city import load_city

    moment = datetime.fromisoformat(value.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(load_city().time_zone))
    return moment.astimezone(UTC)
