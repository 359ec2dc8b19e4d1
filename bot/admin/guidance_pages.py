"""The guidance page (/admin/guidance, editors and admins): each newcomer guidance step's title
and text in the seven languages, a preview as a citizen sees it in the chosen language, and
saving through actions.guidance_editing (the action server reads the file again on its next
turn; no restart, no retraining)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import staff
from actions.guidance_editing import save_step_texts
from actions.newcomer_guidance import GuidanceContentError, GuidanceStep, load_steps
from bot.admin.access import client_address
from bot.admin.i18n import request_language
from bot.admin.pages import render
from core.database import session_scope
from nlu.language import NATIVE_LANGUAGE_NAMES, SUPPORTED_LANGUAGES

RIGHT_TO_LEFT = ("ar",)


class GuidancePages:
    """Handlers for /admin/guidance..., sharing the database URL (for the audit log)."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    async def guidance(self, request: Request, current: staff.StaffSession) -> Response:
        steps = await run_in_threadpool(load_steps)
        step = _chosen(steps, request.query_params.get("step", ""))
        return self._page(
            request,
            current,
            steps,
            step,
            titles=dict(step.title),
            texts=dict(step.text),
            preview=_language(request.query_params.get("preview", ""), request),
            saved=request.query_params.get("saved") == "1",
        )

    async def guidance_preview(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._posted_page(request, current, previewed=True)

    async def guidance_save(self, request: Request, current: staff.StaffSession) -> Response:
        steps = await run_in_threadpool(load_steps)
        form: dict[str, str] = request.state.form
        step = _chosen(steps, form.get("step", ""))
        titles, texts = _posted(form)
        try:
            await run_in_threadpool(save_step_texts, step.id, titles, texts)
        except GuidanceContentError as error:
            return await self._posted_page(request, current, error=str(error), status_code=400)
        await run_in_threadpool(self._record, current.staff_name, step.id, request)
        query = urlencode({"step": step.id, "saved": 1})
        return RedirectResponse(f"/admin/guidance?{query}", status_code=303)

    async def _posted_page(
        self, request: Request, current: staff.StaffSession, **context: object
    ) -> Response:
        """The page showing the texts as the form sent them (a preview, or a refused save)."""
        steps = await run_in_threadpool(load_steps)
        form: dict[str, str] = request.state.form
        titles, texts = _posted(form)
        return self._page(
            request,
            current,
            steps,
            _chosen(steps, form.get("step", "")),
            titles=titles,
            texts=texts,
            preview=_language(form.get("preview", ""), request),
            **context,
        )

    def _page(
        self,
        request: Request,
        current: staff.StaffSession,
        steps: tuple[GuidanceStep, ...],
        step: GuidanceStep,
        *,
        status_code: int = 200,
        **context: object,
    ) -> Response:
        return render(
            request,
            "guidance.html",
            current=current,
            steps=steps,
            step=step,
            text_languages=[(code, NATIVE_LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
            right_to_left=RIGHT_TO_LEFT,
            status_code=status_code,
            **context,
        )

    def _record(self, actor: str, step_id: str, request: Request) -> None:
        with session_scope(self.database_url) as session:
            staff.record_action(session, actor, "guidance_edit", step_id, client_address(request))


def _chosen(steps: tuple[GuidanceStep, ...], step_id: str) -> GuidanceStep:
    return next((step for step in steps if step.id == step_id), steps[0])


def _language(asked: str, request: Request) -> str:
    """The preview's language: the one asked, else the reader's own (a Chinese reader saw the
    English texts first)."""
    return asked if asked in SUPPORTED_LANGUAGES else request_language(request)


def _posted(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    titles = {code: form.get(f"title_{code}", "") for code in SUPPORTED_LANGUAGES}
    texts = {code: form.get(f"text_{code}", "") for code in SUPPORTED_LANGUAGES}
    return titles, texts
