"""The planners' pages: the dashboard, the drill-down to one unmet group's questions, and the
CSV and open-data exports (each audited). Counts only: see bot/admin/dashboard.py."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import staff
from bot.admin.access import client_address
from bot.admin.counts_cache import Counted, CountsCache
from bot.admin.dashboard import (
    CHARTS,
    IN_TIME_ORDER,
    DateRange,
    bars,
    chosen_range,
    counts_csv,
    group_queries,
    open_data_csv,
    planner_counts,
)
from bot.admin.i18n import request_language
from bot.admin.pages import render
from bot.admin.value_labels import ValueLabels
from core.database import session_scope
from core.settings import get_settings
from staff.rollups import erasure_generation

GROUPS_SHOWN = 20  # unmet groups in the dashboard's table; the CSV has all


class PlannerPages:
    """Handlers for /admin/planner..., sharing the database URL."""

    def __init__(self, database_url: str | None, cache: CountsCache | None = None) -> None:
        self.database_url = database_url
        self.cache = cache or CountsCache(get_settings().planner_cache_seconds)
        self._generation = -1  # erasures seen when the kept counts were last used

    async def _counts(self, period: DateRange, *, open_data: bool = False) -> Counted:
        """The range's counts, kept for a while (bot/admin/counts_cache.py) but never past a
        "forget me": the number of erasures so far, read from the shared database at every
        view, is part of the key, so an erasure through any gateway counts again here."""
        generation = await run_in_threadpool(self._erasures)
        if generation != self._generation:  # kept counts may hold a forgotten citizen's words
            self.cache.clear()
            self._generation = generation
        return await run_in_threadpool(
            self.cache.get,
            (period, open_data, generation),
            lambda: planner_counts(self.database_url, period, open_data=open_data),
        )

    def _erasures(self) -> int:
        with session_scope(self.database_url) as session:
            return erasure_generation(session)

    async def planner(self, request: Request, current: staff.StaffSession) -> Response:
        period, readable = chosen_range(dict(request.query_params))
        counted = await self._counts(period)
        counts = counted.value
        labels = ValueLabels(request_language(request))
        charts = [
            (
                f"{section}-{breakdown}",
                title,
                bars(
                    labels.labelled(breakdown, counts[section].get(breakdown, {})),
                    in_order=breakdown in IN_TIME_ORDER,
                ),
            )
            for section, breakdown, title in CHARTS
        ]
        return render(
            request,
            "planner.html",
            current=current,
            period=period,
            range_readable=readable,
            counts=counts,
            groups=counts["groups"][:GROUPS_SHOWN],
            labels=labels,
            charts=charts,
            counted_at=counted.at,
            cache_seconds=f"{self.cache.seconds:g}",
        )

    async def planner_group(self, request: Request, current: staff.StaffSession) -> Response:
        period, _ = chosen_range(dict(request.query_params))
        key = request.query_params.get("group", "")[:300]
        group = group_queries((await self._counts(period)).value, key)
        queries = sorted(group.queries.items(), key=lambda row: -row[1]) if group else []
        return render(
            request,
            "planner_group.html",
            current=current,
            period=period,
            group=group,
            queries=queries,
            labels=ValueLabels(request_language(request)),
            status_code=200 if group is not None else 404,
        )

    async def planner_csv(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._export(request, current, counts_csv, "export_csv", "needs")

    async def planner_open_data(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._export(
            request, current, open_data_csv, "export_open_data", "needs-open-data"
        )

    async def _export(
        self,
        request: Request,
        current: staff.StaffSession,
        write: Callable[[dict, DateRange], str],
        action: str,
        name: str,
    ) -> Response:
        period, _ = chosen_range(dict(request.query_params))
        counts = (await self._counts(period, open_data=write is open_data_csv)).value
        await run_in_threadpool(
            self._record, current.staff_name, action, period, client_address(request)
        )
        filename = f"learncity-{name}-{period.first}-{period.last}.csv"
        return Response(
            write(counts, period),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{filename}"',
                "cache-control": "no-store",
            },
        )

    def _record(self, actor: str, action: str, period: DateRange, address: str) -> None:
        first, last = period.first.isoformat(), period.last.isoformat()
        with session_scope(self.database_url) as session:
            staff.record_action(
                session,
                actor,
                action,
                f"{first}..{last}",
                address,
                details={"first": first, "last": last},
            )
