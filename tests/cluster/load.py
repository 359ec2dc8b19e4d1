"""Citizens writing to a cluster through its balancer, and what each of them saw.

Web chat citizens POST `/api/chat` on a new connection each time (so the balancer spreads
them), as the page does: an answer, the kind "try again", or — when the request died with a
gateway — the page's own "unreachable" notice. Telegram citizens are delivered as Telegram
delivers webhooks: an update that did not get a 200 is sent again a second later (to whichever
gateway the balancer picks), for up to a minute. Every citizen waits for the answer before
writing again, and waits a little longer when the gateway asks it to slow down (a person who
read "please slow down" does): a client that answers that at once with its next message
would be refused silently for as long as it keeps it up, which is flood control working, not
a message lost by a replica.

What citizens say is what citizens say (project-written, from the conversation tests): each
citizen writes in one of the seven languages and goes round its language's script, a
greeting, a search, a follow-up that refines it, another search and its follow-up
(`SCRIPTS`), so the load takes the paths real turns take: searches through the action server,
follow-ups reading the last search, greetings. (Until 2026-12-02 every text ended in a unique
"#N", which made three of four turns the NLU fallback.) A message taken twice shows in the
conversation store as more user turns of a text for a citizen than the citizen sent; one
answered twice, as more Telegram messages after a turn than that turn of the script usually
gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from sqlalchemy import bindparam, create_engine, text

from bench.report import percentile
from bot.kind_replies import PLEASE_WAIT, SLOW_DOWN, TRY_AGAIN
from core.settings import Settings
from tests.cluster.support import TELEGRAM_SECRET
from tests.cluster.telegram_replies import TelegramReplies
from tests.fakes.telegram_api import FakeTelegramApi

# Per language: a greeting, a search, its follow-up, another search, its follow-up.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "en": ("hello", "any english classes?", "cheaper ones?", "pottery classes", "in Nanhu"),
    "zh": ("你好", "我想学英语", "有便宜一点的吗", "我想学陶艺", "在东城区"),
    "es": (
        "hola",
        "quiero aprender inglés",
        "¿hay algo más barato?",
        "¿hay clases de cerámica?",
        "¿y en Dongcheng?",
    ),
    "fr": (
        "bonjour",
        "je cherche un cours d'anglais",
        "moins cher ?",
        "des cours de poterie ?",
        "et à Nanhu ?",
    ),
    "ar": (
        "مرحبا",
        "أريد دورة لغة إنجليزية",
        "هل يوجد شيء أرخص؟",
        "أبحث عن دروس الفخار",
        "ماذا عن نانهو",
    ),
    "ru": (
        "привет",
        "хочу курсы английского языка",
        "а есть подешевле?",
        "где научиться гончарному делу",
        "а в Дунчэн?",
    ),
    "uk": (
        "привіт",
        "шукаю курси англійської мови",
        "а є дешевше?",
        "курси гончарства",
        "а в Наньху?",
    ),
}
ANSWER_TIMEOUT_SECONDS = 30.0
TELEGRAM_RETRY_FOR_SECONDS = 60.0
# Told to slow down, a citizen waits until the default flood bucket is full again.
SLOW_DOWN_WAIT_SECONDS = (
    Settings.model_fields["flood_burst"].default
    / Settings.model_fields["flood_messages_per_second"].default
)


@dataclass
class LoadReport:
    sent: int
    answered: int  # the assistant's own answer (not "try again")
    try_again: int
    unreachable: int
    slowed: int  # asked to slow down by flood control (an answer; the citizen then waits)
    silent: list[str]
    doubled: list[str]  # what a citizen saw answered twice
    stored_twice: list[str]  # in the conversation store twice (see CitizenLoad._stored_twice)
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return round(self.answered / self.seconds, 1) if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "answered_per_second": self.per_second,
            "try_again": self.try_again,
            "unreachable": self.unreachable,
            "slowed": self.slowed,
            "lost": len(self.silent),
            "duplicated": len(self.doubled),
            "stored_twice": len(self.stored_twice),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "seconds": round(self.seconds, 1),
        }

    def __str__(self) -> str:
        return json.dumps(self.as_dict())


@dataclass
class Turn:
    """One message a citizen sent and how it ended."""

    sent_at: float  # monotonic; for offered load, when it was due (a late start counts)
    outcome: str  # "answered", "try_again", "unreachable" or "lost"
    seconds: float | None = None  # from sent to the (last message of the) reply


@dataclass
class CitizenLoad:
    url: str  # the gateways' balancer (or the one gateway)
    database_url: str  # where Rasa stores conversations
    telegram: FakeTelegramApi
    web_citizens: int
    telegram_citizens: int
    pause_seconds: float = 0.0  # between a citizen's answer and their next message
    languages: tuple[str, ...] = tuple(SCRIPTS)  # citizen n writes in languages[n % len]
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    sent_texts: dict[str, list[str]] = field(default_factory=dict)  # sender id -> texts
    turns: list[Turn] = field(default_factory=list)  # every message, in the order it ended
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _started: float = 0.0
    _stopped: float = 0.0
    _run: str = ""
    _replies: TelegramReplies | None = None
    # chat, what was said, (language, turn of the script), Telegram messages sent before it
    _telegram_turns: list[tuple[int, str, tuple[str, int], int]] = field(default_factory=list)

    @property
    def answered(self) -> int:
        """Messages that got a reply: the assistant's answer or the kind "try again"."""
        return self.outcomes["answered"] + self.outcomes["try_again"]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CitizenLoad]:
        """Every citizen writes until the block ends (then each finishes its current message)."""
        self._begin()
        tasks = [asyncio.create_task(self._web_citizen(n)) for n in range(self.web_citizens)]
        tasks += [
            asyncio.create_task(self._telegram_citizen(n)) for n in range(self.telegram_citizens)
        ]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)
            self._end()

    def _begin(self) -> None:
        self._run = f"{time.monotonic_ns() % 10**8:x}"
        self._started = time.monotonic()
        self._replies = TelegramReplies(self.telegram)

    def _end(self) -> None:
        self._stopped = time.monotonic()
        if self._replies is not None:
            self._replies.active = False

    async def until_answered(self, count: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while self.answered < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.answered} of {count} answers in {timeout} s")
            await asyncio.sleep(0.2)

    async def settled(self) -> LoadReport:
        """The report, once the conversation store shows every message that was taken."""
        await asyncio.sleep(3.0)  # a late second answer to the last messages would come now
        stored_twice = await asyncio.to_thread(self._stored_twice)
        ordered = sorted(self.latencies)
        return LoadReport(
            sent=sum(len(texts) for texts in self.sent_texts.values()),
            answered=self.outcomes["answered"],
            try_again=self.outcomes["try_again"],
            unreachable=self.outcomes["unreachable"],
            slowed=self.outcomes["slowed"],
            silent=list(self.silent),
            doubled=self._telegram_doubled(),
            stored_twice=stored_twice,
            seconds=self._stopped - self._started,
            p50_ms=round(percentile(ordered, 50) * 1000) if ordered else 0.0,
            p95_ms=round(percentile(ordered, 95) * 1000) if ordered else 0.0,
        )

    def _language(self, index: int) -> str:
        return self.languages[index % len(self.languages)]

    def _web_session(self, index: int) -> str:
        return f"cluster-{self._run}-{index}"

    def _chat_id(self, index: int) -> int:
        return 900_000 + int(self._run, 16) % 50_000 * 10 + index

    def _next_text(self, sender_id: str, language: str) -> tuple[str, int]:
        """The citizen's next line of their language's script, and its place in the script."""
        sent = self.sent_texts.setdefault(sender_id, [])
        script = SCRIPTS[language]
        turn = len(sent) % len(script)
        sent.append(script[turn])
        return script[turn], turn

    async def _web_citizen(self, index: int) -> None:
        # No kept-alive connections: each message is a new connection the balancer places.
        async with web_client() as client:
            while not self._stop.is_set():
                await self._web_turn(client, index, time.monotonic())
                await asyncio.sleep(self.pause_seconds)

    async def _web_turn(self, client: httpx.AsyncClient, index: int, started: float) -> None:
        """One message of web citizen `index`, as the page sends it, and its reply."""
        session, language = self._web_session(index), self._language(index)
        said, _ = self._next_text(f"web:{session}", language)
        try:
            response = await client.post(
                f"{self.url}/api/chat",
                json={"session_id": session, "text": said, "language": language},
            )
            replies = response.json()["replies"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            replies = None
        if replies is None:
            self.outcomes["unreachable"] += 1  # the page says it could not reach us
            self.turns.append(Turn(started, "unreachable"))
        elif not replies:
            self._lost(f"web:{session}: {said}", started)
        else:
            texts = [reply.get("text", "") for reply in replies]
            await self._answered(texts, started, time.monotonic())

    async def _telegram_citizen(self, index: int) -> None:
        """Goes round its script: a message answered twice shows as more bot messages before
        the next one than that line of the script usually gets (`_telegram_doubled`)."""
        async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT_SECONDS) as client:
            while not self._stop.is_set():
                await self._telegram_turn(client, index, time.monotonic())
                await asyncio.sleep(self.pause_seconds)

    async def _telegram_turn(self, client: httpx.AsyncClient, index: int, started: float) -> None:
        """One message of Telegram citizen `index`, delivered as Telegram delivers webhooks,
        and the reply the bot sent through the Bot API stand-in."""
        assert self._replies is not None, "Telegram turns run inside running()"
        chat_id, language = self._chat_id(index), self._language(index)
        said, turn = self._next_text(f"telegram:{chat_id}", language)
        before = self._replies.count(chat_id)
        self._telegram_turns.append((chat_id, said, (language, turn), before))
        update = self.telegram.text_update(chat_id, said, language_code=language)
        if not await deliver_like_telegram(client, f"{self.url}/telegram/webhook", update):
            self._lost(f"telegram:{chat_id}: {said} (never delivered)", started)
            return
        wait = max(0.0, started + ANSWER_TIMEOUT_SECONDS - time.monotonic())
        reply = await self._replies.reply(chat_id, before, wait)
        if reply is None:
            self._lost(f"telegram:{chat_id}: {said}", started)
        else:
            texts = [str(call.params.get("text", "")) for call in reply]
            await self._answered(texts, started, reply[-1].at)

    def _telegram_doubled(self) -> list[str]:
        """Telegram messages followed by more bot messages (before the citizen's next) than
        the most common number for that line of that script: the same line gets the same
        reply in every citizen's conversation ("try again" is one message, never more)."""
        counts = []
        for number, (chat_id, said, line, before) in enumerate(self._telegram_turns):
            later = [b for c, _, _, b in self._telegram_turns[number + 1 :] if c == chat_id]
            until = later[0] if later else self._sent_count(chat_id)
            counts.append((chat_id, said, line, until - before))
        usual: dict[tuple[str, int], Counter[int]] = {}
        for *_, line, count in counts:
            if count:
                usual.setdefault(line, Counter())[count] += 1
        return [
            f"telegram:{chat}: {said} ({count} messages, usually {usual[line].most_common(1)[0][0]})"
            for chat, said, line, count in counts
            if count and count > usual[line].most_common(1)[0][0]
        ]

    def _sent_count(self, chat_id: int) -> int:
        return self._replies.count(chat_id) if self._replies else 0

    def _lost(self, what: str, started: float) -> None:
        self.silent.append(what)
        self.turns.append(Turn(started, "lost"))

    async def _answered(self, texts: list[str], started: float, finished: float) -> None:
        self.latencies.append(finished - started)
        kind = any(text in TRY_AGAIN.values() for text in texts)
        outcome = "try_again" if kind else "answered"
        self.outcomes[outcome] += 1
        self.turns.append(Turn(started, outcome, finished - started))
        if any(text in (*SLOW_DOWN.values(), *PLEASE_WAIT.values()) for text in texts):
            self.outcomes["slowed"] += 1
            await asyncio.sleep(SLOW_DOWN_WAIT_SECONDS)

    def _stored_twice(self) -> list[str]:
        """Messages the conversation store holds more often for their citizen than the citizen
        sent them: a gateway killed after Rasa took the turn but before the answer was sent
        leaves the update to be delivered again and taken again (the citizen still sees one
        answer). A floor: a message refused before Rasa (flood control, a dead server) hides
        one taken twice with the same text."""
        query = text(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id IN :senders"
        ).bindparams(bindparam("senders", expanding=True))
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(query, {"senders": list(self.sent_texts)}).all()
        finally:
            engine.dispose()
        stored = Counter((sender, json.loads(data).get("text")) for sender, data in rows)
        sent = Counter(
            (sender, said) for sender, texts in self.sent_texts.items() for said in texts
        )
        return [
            f"{sender}: {said} ({count} stored, {sent[sender, said]} sent)"
            for (sender, said), count in stored.items()
            if count > sent[sender, said]
        ]


def web_client() -> httpx.AsyncClient:
    """The page's client: no kept-alive connections, so the balancer places every message."""
    limits = httpx.Limits(max_keepalive_connections=0, max_connections=None)
    return httpx.AsyncClient(timeout=ANSWER_TIMEOUT_SECONDS, limits=limits)


async def deliver_like_telegram(client: httpx.AsyncClient, webhook_url: str, update: dict) -> bool:
    """POST an update as Telegram does: again a second later until a gateway answers 200 (for
    up to a minute); False if none did."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    deadline = time.monotonic() + TELEGRAM_RETRY_FOR_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = await client.post(webhook_url, json=update, headers=headers)
            if response.status_code == 200:
                return True
        await asyncio.sleep(1.0)
    return False
