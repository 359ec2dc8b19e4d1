"""The help desk in the console: the queue, a chat, claim, answer, transfer, end, office hours.

Every page and form goes through `bot.admin.access.guarded` (role `helpdesk`, and admins);
every claim, transfer and end is in the audit log. Answers are stored first, then sent over
the citizen's own channel (`senders()`), one chat at a time in the order written, and marked
delivered, so none is lost or sent twice. The page polls `/admin/api/helpdesk` (helpdesk.js)
for live updates; everything also works without the script.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import helpdesk
import staff
from actions.newcomer_guidance import GuidanceContentError, load_steps
from bot.admin.access import client_address
from bot.admin.helpdesk_words import HELPDESK_WORDS
from bot.admin.i18n import request_language
from bot.admin.pages import render
from bot.channels.base import ChannelSender, RecipientUnreachableError
from bot.channels.web import WebSender
from core.database import session_scope
from core.replies import Reply
from helpdesk.desk import ChatSummary

logger = logging.getLogger(__name__)
ROLES = ("helpdesk",)  # and admins, as everywhere in the console
WECHAT_WINDOW_CLOSED = "wechat_window_closed"  # kept as the reason; worded by the console
PageFactory = Callable[..., Route]


class HelpdeskPages:
    """The help-desk handlers, sharing the database URL and the channels' senders."""

    def __init__(
        self, database_url: str | None, senders: Callable[[], dict[str, ChannelSender]] | None
    ) -> None:
        self.database_url = database_url
        self.senders = senders
        self._sending: dict[int, asyncio.Lock] = {}

    def routes(self, page: PageFactory) -> list[Route]:
        """The routes, each made by the console's guarded `page` factory."""
        post = {"roles": ROLES, "methods": ("POST",)}
        return [
            page("/helpdesk", self.helpdesk_queue, roles=ROLES),
            page("/helpdesk/chat", self.helpdesk_chat, roles=ROLES),
            page("/helpdesk/claim", self.helpdesk_claim, **post),
            page("/helpdesk/reply", self.helpdesk_reply, **post),
            page("/helpdesk/transfer", self.helpdesk_transfer, **post),
            page("/helpdesk/end", self.helpdesk_end, **post),
            page("/helpdesk/hours", self.helpdesk_hours, roles=(), methods=("POST",)),
            page("/api/helpdesk", self.helpdesk_api, roles=ROLES),
        ]

    async def helpdesk_queue(self, request: Request, current: staff.StaffSession) -> Response:
        state = await run_in_threadpool(self._state, current.staff_name, None)
        why = _why_words(_words(request), request_language(request))
        return render(
            request,
            "helpdesk.html",
            current=current,
            h=_words(request),
            notice=_notice(request),
            why={chat.id: why(chat.reason) for chat in state["queue"]},
            **state,
        )

    async def helpdesk_chat(self, request: Request, current: staff.StaffSession) -> Response:
        chat_id = _chat_id(request.query_params.get("id"))
        state = await run_in_threadpool(self._state, current.staff_name, chat_id)
        if state["chat"] is None:  # taken by a colleague, ended, or no such chat
            return _to_queue("not_yours")
        return render(
            request,
            "helpdesk_chat.html",
            current=current,
            h=_words(request),
            notice=_notice(request),
            canned=helpdesk.canned_answers(),
            errors={line.id: _error_words(_words(request), line) for line in state["lines"]},
            **state,
        )

    async def helpdesk_api(self, request: Request, current: staff.StaffSession) -> Response:
        """The queue, the caller's chats and (with `?chat=`) one chat's messages, for polling."""
        chat_id = _chat_id(request.query_params.get("chat"))
        state = await run_in_threadpool(self._state, current.staff_name, chat_id)
        now = datetime.now(UTC)
        chat: ChatSummary | None = state["chat"]
        why = _why_words(_words(request), request_language(request))
        return JSONResponse(
            {
                "queue": [
                    summary.as_dict(now) | {"why": why(summary.reason)}
                    for summary in state["queue"]
                ],
                "mine": [summary.as_dict(now) for summary in state["mine"]],
                "chat": chat.as_dict(now) if chat is not None else None,
                "messages": [_line(line, _words(request)) for line in state["lines"]],
            },
            headers={"cache-control": "no-store"},
        )

    async def helpdesk_claim(self, request: Request, current: staff.StaffSession) -> Response:
        chat_id = _chat_id(request.state.form.get("chat_id"))
        if chat_id is None:
            return _bad_form(request, current, "chat_id")
        claimed = await run_in_threadpool(
            self._change,
            current,
            "helpdesk_claim",
            chat_id,
            helpdesk.claim,
            client_address(request),
        )
        if not claimed:
            return _to_queue("taken")
        return _to_chat(chat_id, "claimed")

    async def helpdesk_reply(self, request: Request, current: staff.StaffSession) -> Response:
        form = request.state.form
        chat_id = _chat_id(form.get("chat_id"))
        if chat_id is None:
            return _bad_form(request, current, "chat_id")
        try:
            put = await run_in_threadpool(
                self._answer, chat_id, current.staff_name, form.get("text", ""), form.get("canned")
            )
        except helpdesk.DeskError as error:  # what they wrote is shown back, not lost
            return _refused(request, current, _desk_error(error), chat_id, form.get("text", ""))
        await self._delivered(chat_id, put)
        return _to_chat(chat_id, None)

    async def helpdesk_transfer(self, request: Request, current: staff.StaffSession) -> Response:
        form = request.state.form
        chat_id, colleague = _chat_id(form.get("chat_id")), form.get("colleague", "").strip()
        if chat_id is None or not colleague:
            field = "chat_id" if chat_id is None else "colleague"
            return _bad_form(request, current, field, chat_id)

        def move(session: Any, chat: int, name: str) -> bool:
            return helpdesk.transfer(session, chat, name, colleague)

        try:
            moved = await run_in_threadpool(
                self._change,
                current,
                "helpdesk_transfer",
                chat_id,
                move,
                client_address(request),
                colleague,
            )
        except helpdesk.DeskError as error:
            return _refused(request, current, _desk_error(error), chat_id)
        return _to_queue("transferred" if moved else "not_yours")

    async def helpdesk_end(self, request: Request, current: staff.StaffSession) -> Response:
        chat_id = _chat_id(request.state.form.get("chat_id"))
        if chat_id is None:
            return _bad_form(request, current, "chat_id")
        ended, put = await run_in_threadpool(self._end, current, chat_id, client_address(request))
        if not ended:
            return _to_queue("not_yours")
        await self._delivered(chat_id, put)
        return _to_queue("ended")

    async def helpdesk_hours(self, request: Request, current: staff.StaffSession) -> Response:
        hours = request.state.form.get("hours", "")
        try:
            await run_in_threadpool(self._set_hours, current, hours, client_address(request))
        except helpdesk.OfficeHoursError as error:
            return _refused(request, current, ("hours", {"error": str(error)}), None)
        return _to_queue("hours_saved")

    async def _delivered(self, chat_id: int, put: _OutboxPut | None) -> None:
        """Wake the web page whose answers went to its outbox with the answer's own commit;
        send any other channel's answers now."""
        if put is not None:
            put.sender.wake(put.session_id, put.outbox_ids)
        else:
            await self.deliver(chat_id)

    async def deliver(self, chat_id: int) -> None:
        """Send the chat's waiting answers in order; one sender at a time per chat."""
        lock = self._sending.setdefault(chat_id, asyncio.Lock())
        async with lock:
            answers = await run_in_threadpool(self._undelivered, chat_id)
            senders = self.senders() if self.senders is not None else {}
            for answer in answers:
                sender = senders.get(answer.channel)
                if sender is None:
                    await run_in_threadpool(
                        self._mark, answer.id, f"the {answer.channel} channel is not configured"
                    )
                    continue
                reply = Reply(text=answer.text, language=answer.language)
                try:
                    await sender.send(answer.recipient_id, [reply])
                except RecipientUnreachableError as error:
                    reason = _unreachable_reason(answer.channel, str(error))
                    await run_in_threadpool(self._mark, answer.id, reason)
                    continue
                except Exception:
                    # Kept undelivered: the next answer or end tries again, still in order.
                    logger.exception("a help-desk answer could not be sent on %s", answer.channel)
                    return
                await run_in_threadpool(self._mark, answer.id, None)

    # --- database work, run in the thread pool ---

    def _state(self, staff_name: str, chat_id: int | None) -> dict[str, Any]:
        with session_scope(self.database_url) as session:
            chat, lines = None, []
            if chat_id is not None:
                try:
                    chat = helpdesk.visible_chat(session, chat_id, staff_name)
                    lines = helpdesk.chat_lines(session, chat_id)
                except helpdesk.DeskError:
                    chat = None
            colleagues = [
                account.name
                for account in staff.list_staff(session)
                if account.role in helpdesk.HELPDESK_ROLES and account.name != staff_name
            ]
            hours = helpdesk.current_office_hours(session)
            return {
                "queue": helpdesk.waiting_chats(session),
                "mine": helpdesk.chats_held_by(session, staff_name),
                "chat": chat,
                "lines": lines,
                "colleagues": colleagues,
                "hours": hours,
                "open_now": helpdesk.is_open_now(session),
                "now": datetime.now(UTC),
            }

    def _change(
        self,
        current: staff.StaffSession,
        action: str,
        chat_id: int,
        change: Callable[[Any, int, str], bool],
        address: str,
        to: str = "",
    ) -> bool:
        """Claim or transfer, audited with where the request came from (as the end is)."""
        with helpdesk.one_writer(self.database_url), session_scope(self.database_url) as session:
            done = change(session, chat_id, current.staff_name)
            if done:
                details: dict[str, str | int | None] = {"chat": chat_id}
                if to:
                    details["to"] = to
                staff.record_action(
                    session,
                    current.staff_name,
                    action,
                    f"chat {chat_id}",
                    address,
                    details=details,
                )
            return done

    def _answer(
        self, chat_id: int, staff_name: str, text: str, canned: str | None
    ) -> _OutboxPut | None:
        with helpdesk.one_writer(self.database_url), session_scope(self.database_url) as session:
            if not text.strip() and canned:
                chat = helpdesk.visible_chat(session, chat_id, staff_name)
                text = helpdesk.canned_text(canned, chat.language) or ""
            helpdesk.add_staff_answer(session, chat_id, staff_name, text)
            return self._to_outbox(session, chat_id)

    def _to_outbox(self, session: Session, chat_id: int) -> _OutboxPut | None:
        """A web chat's waiting answers put in its outbox and marked delivered in the caller's
        transaction: one commit per answer instead of three, each of which waited for
        SQLite's one writer (issue 13's slow tail). None for other channels: `deliver`."""
        web = self.senders().get("web") if self.senders is not None else None
        answers = helpdesk.undelivered(session, chat_id)
        if not isinstance(web, WebSender) or not answers or answers[0].channel != "web":
            return None
        helpdesk.lock_chat(session, chat_id)  # outbox rows commit in the chat's order
        outbox_ids: list[int] = []
        for answer in helpdesk.undelivered(session, chat_id):
            if not web.reaches(answer.recipient_id):
                helpdesk.mark_failed(session, answer.id, "not a web chat session id")
            elif helpdesk.claim_delivery(session, answer.id):  # not delivered meanwhile
                reply = Reply(text=answer.text, language=answer.language)
                outbox_ids += web.put_in(session, answer.recipient_id, [reply])
        return _OutboxPut(web, answers[0].recipient_id, outbox_ids)

    def _end(
        self, current: staff.StaffSession, chat_id: int, address: str
    ) -> tuple[bool, _OutboxPut | None]:
        with helpdesk.one_writer(self.database_url), session_scope(self.database_url) as session:
            if helpdesk.hand_back(session, chat_id, current.staff_name) is None:
                return False, None
            staff.record_action(
                session,
                current.staff_name,
                "helpdesk_end",
                f"chat {chat_id}",
                address,
                details={"chat": chat_id},
            )
            return True, self._to_outbox(session, chat_id)

    def _set_hours(self, current: staff.StaffSession, hours: str, address: str) -> None:
        with session_scope(self.database_url) as session:
            saved = helpdesk.set_office_hours(session, hours, current.staff_name)
            staff.record_action(
                session, current.staff_name, "helpdesk_hours", saved.source, address
            )

    def _undelivered(self, chat_id: int) -> list[helpdesk.OutgoingAnswer]:
        with session_scope(self.database_url) as session:
            return helpdesk.undelivered(session, chat_id)

    def _mark(self, message_id: int, error: str | None) -> None:
        with session_scope(self.database_url) as session:
            if error is None:
                helpdesk.mark_delivered(session, message_id)
            else:
                helpdesk.mark_failed(session, message_id, error)


@dataclass(frozen=True)
class _OutboxPut:
    """Answers a transaction put in a web chat page's outbox: whom to wake after its commit."""

    sender: WebSender
    session_id: str
    outbox_ids: list[int]


def _words(request: Request) -> dict[str, str]:
    return HELPDESK_WORDS[request_language(request)]


def _why_words(h: dict[str, str], language: str) -> Callable[[str | None], str]:
    """Words for why a citizen is in the queue; a guidance step by its title in the console's
    language (from the guidance file), its id only when the file no longer has it."""
    try:
        titles = {step.id: step.title_in(language) for step in load_steps()}
    except GuidanceContentError:  # the guidance page says what is wrong with the file
        titles = {}

    def why(reason: str | None) -> str:
        kind, _, topic = (reason or "asked").partition(":")
        if kind == "guidance":
            return h["reason_guidance"].format(topic=titles.get(topic, topic))
        return h.get(f"reason_{kind}", h["reason_asked"])

    return why


def _chat_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _notice(request: Request) -> str | None:
    notice = request.query_params.get("notice")
    return notice if notice in HELPDESK_WORDS["en"] else None


def _unreachable_reason(channel: str, error: str) -> str:
    """What is kept for an answer the channel refused: WeChat's 45015 (its 48-hour window for
    customer-service messages closed) as a code the console words, else the channel's words."""
    if channel == "wechat" and re.search(r"\b45015\b", error):
        return WECHAT_WINDOW_CLOSED
    return error or "unreachable"


def _error_words(h: dict[str, str], line: helpdesk.ChatLine) -> str:
    """Why an answer was not delivered, in the console's language when the desk knows it."""
    error = line.delivery_error or ""
    return h.get(f"error_{error}", error)


def _line(line: helpdesk.ChatLine, h: dict[str, str]) -> dict[str, Any]:
    return {
        "id": line.id,
        "author": line.author,
        "staff_name": line.staff_name,
        "text": line.text,
        "at": line.at.isoformat(),
        "delivered": line.delivered,
        "error": _error_words(h, line) if line.delivery_error else None,
    }


def _to_chat(chat_id: int, notice: str | None) -> Response:
    query = {"id": str(chat_id)} | ({"notice": notice} if notice else {})
    return RedirectResponse(f"/admin/helpdesk/chat?{urlencode(query)}", status_code=303)


def _to_queue(notice: str) -> Response:
    return RedirectResponse(f"/admin/helpdesk?{urlencode({'notice': notice})}", status_code=303)


Refusal = tuple[str, dict[str, object]]  # the words' key after "refused_", and its values


def _desk_error(error: helpdesk.DeskError) -> Refusal | str:
    """The desk's reason as the console words it, or its English message if it has no code."""
    return (error.code, error.values) if error.code else str(error)


def _refused(
    request: Request,
    current: staff.StaffSession,
    reason: Refusal | str,
    chat_id: int | None,
    unsent: str = "",
) -> Response:
    """A readable page saying why the desk refused a form (nothing changed), in the console's
    language, with a way back and the answer the staff member wrote, if any, to copy."""
    h = _words(request)
    if not isinstance(reason, str):
        reason = h[f"refused_{reason[0]}"].format(**reason[1])
    return render(
        request,
        "helpdesk_refused.html",
        current=current,
        h=h,
        reason=reason,
        chat_id=chat_id,
        unsent=unsent.strip(),
        status_code=400,
    )


def _bad_form(
    request: Request, current: staff.StaffSession, field: str, chat_id: int | None = None
) -> Response:
    return _refused(request, current, (f"field_{field}", {}), chat_id)
