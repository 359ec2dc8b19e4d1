"""Rendering console pages: one Jinja2 environment over bot/admin/templates, autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import staff
from bot.admin.column_words import column_how_in
from bot.admin.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, WORDS, request_language
from bot.admin.reason_words import field_in, position_in, reason_in
from bot.admin.value_labels import ValueLabels

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Import rejections carry reason codes (knowledge/importers/reasons.py): worded per language.
_ENVIRONMENT.filters["reason"] = reason_in
_ENVIRONMENT.filters["position"] = position_in
_ENVIRONMENT.filters["field"] = field_in
_ENVIRONMENT.filters["column_how"] = column_how_in

# The home page's tasks per role: (words key, link or None, command line or None).
_TASKS: dict[str, tuple[str, str | None, str | None]] = {
    "audit": ("task_audit", "/admin/audit", None),
    "health": ("task_health", "/admin/health", None),
    "planner": ("task_planner", "/admin/planner", None),
    "organizer": ("task_announce", "/admin/announce", "learncity broadcast"),
    "editor": ("task_catalog", "/admin/catalog", "learncity catalog import PATH --dry-run"),
    "guidance": ("task_guidance", "/admin/guidance", None),
    "helpdesk": ("task_helpdesk", "/admin/helpdesk", None),
    "staff": ("task_staff_page", "/admin/staff", "learncity staff add|list|remove"),
}
ROLE_TASKS: dict[str, list[tuple[str, str | None, str | None]]] = {
    "organizer": [_TASKS["organizer"]],
    "planner": [_TASKS["planner"]],
    "editor": [_TASKS["editor"], _TASKS["guidance"]],
    "helpdesk": [_TASKS["helpdesk"]],
    "admin": [
        _TASKS[name]
        for name in (
            "audit",
            "health",
            "planner",
            "organizer",
            "editor",
            "guidance",
            "helpdesk",
            "staff",
        )
    ],
}


def render(
    request: Request,
    template: str,
    *,
    current: staff.StaffSession | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language; a `?lang=` switch is remembered in a cookie."""
    language = request_language(request)
    words = WORDS[language]
    html = _ENVIRONMENT.get_template(template).render(
        lang=language,
        t=words,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        path=request.url.path,
        current=current,
        role_name=words.get(f"role_{current.role}", current.role) if current else "",
        **({"labels": ValueLabels(language)} | context),
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response
