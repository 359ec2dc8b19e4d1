"""Rasa's SQL tracker store, keeping each conversation's tracker in memory between its turns.

Runs inside the Rasa server (Python 3.10 venv); endpoints.yml names it as the tracker store's
`type`. Rasa's own `SQLTrackerStore` reloads and replays every event of the conversation at the
start of each turn, and counts them again (with a sub-query) before storing the new ones:
under load that was about 40 % of the Rasa server's CPU. This store writes every event to the
same `events` table as Rasa's does, and asks the database on every read and every write
whether the conversation's rows are still the ones it saw (their number and highest id: one
indexed query). Only then does it answer from memory. Anything another process changed (the
gateway erasing a conversation after "forget me", another Rasa server) makes it read the
database again, so the database stays the one source of truth.

The check and the new rows run in a worker thread, so the server's event loop goes on with
other citizens' turns while the database answers: on PostgreSQL under load a turn's two
round trips held the loop about 29 ms (3.8 ms of them CPU), against 12.6 ms on SQLite.
Rasa's own reads and writes (a conversation not in memory) still run on the loop.

With several Rasa servers sharing the lock store, a citizen's turns may go to another server
(the gateway keeps a citizen on one while it answers; bot/rasa_servers.py), so the
remembered tracker can be turns behind. When the only change is
rows appended after the highest id it saw (no `session_started` among them, none dated before
the remembered session's start, and exactly as many as the count grew by), the store reads
just those rows and applies their events to the remembered tracker, which is what Rasa's own
replay of the whole session gives; anything else reads the session again as before.

On SQLite it also keeps its connections open (Rasa's SQLAlchemy 1.4 opens a new one per
query) and commits with `synchronous=NORMAL`, which in WAL mode cannot corrupt the database
(a power cut may lose the last turns).

A turn the database cannot read or store fails (issue 9, item 10). Rasa wraps every tracker
store in `FailSafeTrackerStore`, which on any error reads "no conversation yet" and stores
the turn in an empty in-memory store: with PostgreSQL stopped 25 s under load, 931 replies
looked normal while 930 turns were never stored and every context was reset. `install()`
(called on import) makes Rasa's `Agent` use this store unwrapped, so its errors reach the
turn, which `nlu.rasa_channel` then answers with nothing and the gateway with "try again".
The outage is logged once when it starts and once when it ends (with its length). On
PostgreSQL pooled connections are not pinged before each use (SQLAlchemy's `pool_pre_ping`:
a `SELECT 1` round trip at each of a turn's two checkouts); instead a statement that fails
because its connection was closed under it (a database restart, a dropped idle connection)
is run once more: SQLAlchemy has then discarded every pooled connection made before the
failure, so the second try gets a new one, and the first turns after the database is back
do not fail on connections it closed. A retried write cannot store a turn twice: it checks
the conversation's rows first and, if the first try committed after all, falls back to
Rasa's own save, which counts what is stored. Connections are also replaced after
`POOL_RECYCLE_SECONDS` (firewalls and PgBouncer drop idle ones).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from nlu.rasa_version import require_tested_rasa
from nlu.tracker_indexes import ensure_events_index

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from rasa.core.agent import Agent  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs  # noqa: E402
from rasa.shared.core.events import SessionStarted, deserialise_events  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 5000  # conversations kept in memory, least recently used dropped first
POOL_RECYCLE_SECONDS = 1800  # as DATABASE_POOL_RECYCLE_SECONDS' default for the other roles

T = TypeVar("T")

# What the database holds for one conversation: (number of rows, highest row id).
Signature = tuple[int, int | None]


class ConversationStoreUnavailableError(RuntimeError):
    """The conversation database could not be read or written: the turn must fail."""


class _OutageLog:
    """Logs a database outage when it starts and when it ends, not once per failed turn."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.failed_turns = 0

    def failed(self, error: Exception) -> None:
        self.failed_turns += 1
        if self.since is not None:
            return
        self.since = time.monotonic()
        # The driver's first line only: the statement and its parameters hold citizens' words.
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        logger.error(
            "conversation database unavailable (%s: %s): every turn fails into 'try again' "
            "until it is back",
            type(error).__name__,
            reason,
        )

    def succeeded(self) -> None:
        if self.since is None:
            return
        logger.warning(
            "conversation database back after %.1f s; %d turns failed into 'try again'",
            time.monotonic() - self.since,
            self.failed_turns,
        )
        self.since, self.failed_turns = None, 0


@dataclass
class _Remembered:
    signature: Signature
    tracker: DialogueStateTracker  # the latest session's events, as `retrieve` would load them


class CachingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that answers from memory while the database shows no change."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_planners_index()
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connections_open()
        else:
            self._reconnect_after_disconnects()
        self._outage = _OutageLog()
        self._cache_size = max(0, int(cache_size))
        self._remembered: OrderedDict[str, _Remembered] = OrderedDict()
        of_sender = self.SQLEvent.sender_id == sa.bindparam("sender_id")
        self._signature_query = sa.select(
            sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id)
        ).where(of_sender)
        self._highest_query = sa.select(sa.func.max(self.SQLEvent.id)).where(of_sender)
        # PostgreSQL hands the new rows' ids back with the insert: no second query.
        self._returns_ids = self.engine.dialect.name == "postgresql"
        self._read_options = {"isolation_level": "AUTOCOMMIT"} if self._returns_ids else {}
        table = self.SQLEvent.__table__
        self._insert_returning_ids = table.insert().returning(table.c.id)
        self._appended_query = (
            sa.select(self.SQLEvent.type_name, self.SQLEvent.timestamp, self.SQLEvent.data)
            .where(of_sender, self.SQLEvent.id > sa.bindparam("after"))
            .order_by(self.SQLEvent.id)
        )
        # How each read was answered: "memory", "appended" (only the new rows read) or
        # "database" (the whole session read and replayed, Rasa's own way).
        self.reads: Counter[str] = Counter()

    def _add_planners_index(self) -> None:
        """The staff console's index on this table (nlu/tracker_indexes.py), once per start."""
        try:
            with self.engine.begin() as connection:
                ensure_events_index(connection)
        except sa.exc.SQLAlchemyError as error:  # the dashboard is slower, nothing else
            logger.warning("could not add the planners' index to the events table: %s", error)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker; raises `ConversationStoreUnavailableError` when the
        database cannot say (never "no conversation yet", which would reset the context)."""
        try:
            tracker = await _once_more_if_disconnected(self._retrieve_checked, sender_id)
        except sa.exc.SQLAlchemyError as error:
            self._outage.failed(error)
            raise ConversationStoreUnavailableError(
                "the conversation store did not answer"
            ) from error
        self._outage.succeeded()
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn; raises `ConversationStoreUnavailableError` when it was not stored."""
        try:
            await _once_more_if_disconnected(self._save_checked, tracker)
        except sa.exc.SQLAlchemyError as error:
            self._forget(tracker.sender_id)
            self._outage.failed(error)
            raise ConversationStoreUnavailableError(
                "the conversation store did not answer"
            ) from error
        self._outage.succeeded()

    async def _retrieve_checked(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: from memory if the database still matches it."""
        remembered = self._remembered.get(sender_id)
        signature, caught_up = await asyncio.to_thread(self._changes, sender_id, remembered)
        if remembered is not None and remembered.signature == signature:
            if sender_id in self._remembered:
                self._remembered.move_to_end(sender_id)
            self.reads["memory"] += 1
            return remembered.tracker.copy()
        if caught_up is not None:
            self.reads["appended"] += 1
            self._remembered[sender_id] = _Remembered(signature, caught_up)
            self._remembered.move_to_end(sender_id)
            return caught_up.copy()
        self.reads["database"] += 1
        tracker = await super().retrieve(sender_id)
        self._forget(sender_id)
        if tracker is not None:
            self._remember(sender_id, signature, tracker)
        return tracker

    def _changes(
        self, sender_id: str, remembered: _Remembered | None
    ) -> tuple[Signature, DialogueStateTracker | None]:
        """In a worker thread: the conversation's signature and, when only rows were appended
        after the remembered ones, the remembered tracker caught up (one pooled connection for
        both). The citizen's turns are one at a time (Rasa's lock), so nothing else changes
        `remembered` meanwhile. Without a transaction: under READ COMMITTED each statement
        sees its own snapshot either way (`_with_appended_rows` checks the rows it got add up),
        and the BEGIN and ROLLBACK around a read were two round trips of every turn."""
        with self.engine.connect().execution_options(**self._read_options) as connection:
            signature = self._signature(connection, sender_id)
            if remembered is None or remembered.signature == signature:
                return signature, None
            return signature, self._with_appended_rows(connection, sender_id, remembered, signature)

    def _with_appended_rows(
        self, connection: Any, sender_id: str, remembered: _Remembered, signature: Signature
    ) -> DialogueStateTracker | None:
        """The remembered tracker with the rows stored after it applied, when those rows are
        the only change and Rasa's session query would return them after the remembered
        events; None when the session must be read again."""
        (count, highest), (known_count, known_highest) = signature, remembered.signature
        if highest is None or known_highest is None or count <= known_count:
            return None
        rows = connection.execute(
            self._appended_query, {"sender_id": sender_id, "after": known_highest}
        ).all()
        if len(rows) != count - known_count:  # rows removed or written below known_highest
            return None
        events = list(remembered.tracker.events)
        starts = events[0].timestamp if events and isinstance(events[0], SessionStarted) else None
        for type_name, timestamp, _ in rows:
            # A new session, or an event Rasa's query would leave out by its date.
            if type_name == SessionStarted.type_name:
                return None
            if starts is not None and (timestamp is None or timestamp < starts):
                return None
        tracker = remembered.tracker.copy()
        for event in deserialise_events([json.loads(data) for _, _, data in rows]):
            tracker.update(event)
        return tracker

    async def _save_checked(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database lacks; remember the tracker for the next turn."""
        sender_id = tracker.sender_id
        remembered = self._remembered.get(sender_id)
        if remembered is not None:
            stored = await asyncio.to_thread(self._insert_if_unchanged, tracker, remembered)
            if stored is not None:
                await self.stream_events(tracker)  # as Rasa's own save does
                self._remember(sender_id, stored, tracker)
                return
        # Not loaded by us, or changed elsewhere meanwhile: Rasa counts what is stored.
        self._forget(sender_id)
        await super().save(tracker)

    def _insert_if_unchanged(
        self, tracker: DialogueStateTracker, remembered: _Remembered
    ) -> Signature | None:
        """In a worker thread: insert the events after the remembered ones if the stored rows
        are still the remembered ones; the new signature, or None (nothing written). The
        check and the insert are one transaction on one pooled connection: fewer round trips,
        and no other writer's rows can slip in between them."""
        sender_id = tracker.sender_id
        with self.engine.begin() as connection:
            signature = self._signature(connection, sender_id)
            if remembered.signature != signature:
                return None
            new_events = list(tracker.events)[len(remembered.tracker.events) :]
            count, highest = signature
            rows = [self._row(sender_id, event) for event in new_events]
            if rows and self._returns_ids:
                # One statement (psycopg2's execute_values); the citizen's turns are one at a
                # time (Rasa's lock), so the highest id returned is the conversation's.
                highest = max(connection.execute(self._insert_returning_ids, rows).scalars())
            elif rows:
                connection.execute(self.SQLEvent.__table__.insert(), rows)
                highest = connection.execute(self._highest_query, {"sender_id": sender_id}).scalar()
            return count + len(rows), highest

    def _signature(self, connection: Any, sender_id: str) -> Signature:
        count, highest = connection.execute(self._signature_query, {"sender_id": sender_id}).one()
        return int(count), highest

    def _row(self, sender_id: str, event: Any) -> dict[str, Any]:
        """The `events` row Rasa's own store writes for `event`."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(
        self, sender_id: str, signature: Signature, tracker: DialogueStateTracker
    ) -> None:
        if not self._cache_size:
            return
        self._remembered[sender_id] = _Remembered(signature, self._latest_session(tracker))
        self._remembered.move_to_end(sender_id)
        while len(self._remembered) > self._cache_size:
            self._remembered.popitem(last=False)

    def _forget(self, sender_id: str) -> None:
        self._remembered.pop(sender_id, None)

    def _latest_session(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """A copy holding the events from the last `SessionStarted` on: what the database
        query of `SQLTrackerStore.retrieve` would load for this conversation."""
        events = list(tracker.events)
        starts = [index for index, event in enumerate(events) if isinstance(event, SessionStarted)]
        if not starts or starts[-1] == 0:
            return tracker.copy()
        return DialogueStateTracker.from_events(
            tracker.sender_id, events[starts[-1] :], self.domain.slots
        )

    def _reconnect_after_disconnects(self) -> None:
        """PostgreSQL: no ping before each checkout (see the module's docstring: a failed
        statement on a closed connection is tried once more), connections recycled."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            pool_pre_ping=False,
            pool_recycle=POOL_RECYCLE_SECONDS,
            **create_engine_kwargs(url),
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _keep_sqlite_connections_open(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=QueuePool,
            pool_size=2,
            max_overflow=8,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @sa.event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)


async def _once_more_if_disconnected(work: Callable[[Any], Awaitable[T]], argument: Any) -> T:
    """`work(argument)`, run again once if it failed on a connection the database had closed
    (SQLAlchemy then discarded the pool's older connections too). A database that refuses
    new connections is not a closed connection: that fails at once, as before."""
    try:
        return await work(argument)
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        logger.info("a pooled connection to the conversation database was closed; once more")
        return await work(argument)


def install() -> None:
    """Make Rasa's `Agent` use this store as it is, not inside `FailSafeTrackerStore`.

    The wrapper turns a failed read into "no conversation yet" and a failed write into a
    write to memory, both silent to the citizen. Other stores keep Rasa's wrapper.
    """
    create = Agent._create_tracker_store
    if getattr(create, "_learncity_unwrapped", False):
        return

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        if isinstance(store, CachingSQLTrackerStore):
            store.domain = domain
            return store
        return create(store, domain)

    _create_tracker_store._learncity_unwrapped = True  # type: ignore[attr-defined]
    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]


# Rasa imports this module (endpoints.yml names the store) before it builds its Agent.
install()
