"""The console conversation: type a message, read the replies; numbers press buttons."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid

from bot.conversation import Conversation
from bot.messages import IncomingMessage, Location, Reply

_LOCATION = re.compile(r"^@\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
HELP = (
    "Type a question, e.g. 我想学Python or 'where can I learn pottery?'.\n"
    "A number presses the matching button; '@31.23,121.47' shares a location; Ctrl-D quits."
)


def render(reply: Reply, first_number: int = 1) -> tuple[str, list[str]]:
    """The reply as console text, and the payloads its numbered buttons send."""
    lines = [reply.text] if reply.text else []
    for position, card in enumerate(reply.cards, start=1):
        details = [card.place, card.schedule]
        details.append("free" if card.free else card.price)
        if card.distance_m is not None:
            details.append(f"{card.distance_m:.0f} m")
        lines.append(f"  {position}. {card.name} — " + " · ".join(d for d in details if d))
    payloads = []
    for button in reply.buttons:
        payloads.append(button.payload)
        lines.append(f"  [{first_number + len(payloads) - 1}] {button.title}")
    if reply.request_location:
        lines.append("  (share a location by typing @latitude,longitude)")
    return "\n".join(lines), payloads


def incoming_from_line(line: str, sender_id: str, payloads: list[str]) -> IncomingMessage | None:
    """Turn what was typed into a message: a button number, a location, or text."""
    line = line.strip()
    if not line:
        return None
    if line.isdigit() and 1 <= int(line) <= len(payloads):
        return IncomingMessage(
            sender_id=sender_id, channel="console", payload=payloads[int(line) - 1]
        )
    match = _LOCATION.match(line)
    if match:
        location = Location(float(match.group(1)), float(match.group(2)))
        return IncomingMessage(sender_id=sender_id, channel="console", location=location)
    return IncomingMessage(sender_id=sender_id, channel="console", text=line)


def _start_line_reader(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Read the terminal in a daemon thread, so Ctrl-C never waits for a pending `input()`."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                line: str | None = input("you> ")
            except (EOFError, KeyboardInterrupt, ValueError):
                line = None
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return lines


async def chat_loop(conversation: Conversation, sender_id: str | None = None) -> None:
    """Read lines from the terminal until end of input, printing each answer."""
    sender_id = sender_id or f"console:{uuid.uuid4().hex[:12]}"
    print(HELP)
    lines = _start_line_reader(asyncio.get_running_loop())
    payloads: list[str] = []
    while True:
        line = await lines.get()
        if line is None:
            print()
            return
        message = incoming_from_line(line, sender_id, payloads)
        if message is None:
            continue
        payloads = []
        for reply in await conversation.handle(message):
            text, reply_payloads = render(reply, first_number=len(payloads) + 1)
            payloads.extend(reply_payloads)
            print(f"learncity> {text}")
