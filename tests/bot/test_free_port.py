"""Ports for servers that bind late: never in the range the kernel hands outgoing connections."""

from __future__ import annotations

import contextlib
import random
import socket

from bot.stack import EPHEMERAL_RANGE_FILE, free_port


def _ephemeral_range() -> tuple[int, int]:
    low, high = EPHEMERAL_RANGE_FILE.read_text().split()
    return int(low), int(high)


def test_a_free_port_is_below_the_ephemeral_range_so_no_outgoing_connection_takes_it() -> None:
    low, _ = _ephemeral_range()
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < low for port in ports), sorted(ports)
    assert len(ports) > 1  # picked at random, so two stacks starting at once rarely meet


def test_several_ports_in_a_row_are_all_free_and_bindable() -> None:
    first = free_port(3)
    low, _ = _ephemeral_range()
    assert first + 2 < low
    sockets = [socket.socket() for _ in range(3)]
    try:
        for offset, sock in enumerate(sockets):
            sock.bind(("127.0.0.1", first + offset))  # raises if any were taken
    finally:
        for sock in sockets:
            sock.close()


def test_an_outgoing_connection_never_gets_a_port_free_port_hands_out() -> None:
    """The failure this prevents: a server loading its model for 40 s found its port taken as
    the source port of some client's connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        address = listener.getsockname()
        clients = []
        try:
            for _ in range(50):
                client = socket.create_connection(address)
                clients.append(client)
            source_ports = {client.getsockname()[1] for client in clients}
        finally:
            for client in clients:
                client.close()
    handed_out = {free_port() for _ in range(200)}
    low, high = _ephemeral_range()
    assert all(low <= port <= high for port in source_ports)
    assert not handed_out & set(range(low, high + 1))


class _SameDrawEveryTime(random.Random):
    """A chooser that keeps drawing one number, as two independent draws sometimes do."""

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        return self.value


def test_ports_asked_for_one_after_the_other_never_meet_even_when_the_draws_do() -> None:
    """The assistant's fixture asks `StackPorts(rasa=free_port(2), actions=free_port())` before
    either server binds: the same draw twice gave the action server a Rasa port (1 in ~11,000)."""
    low, _ = _ephemeral_range()
    draw = next(port for port in range(low - 500, low - 100) if _bindable(port, 4))
    rasa = free_port(2, chooser=_SameDrawEveryTime(draw))
    actions = free_port(chooser=_SameDrawEveryTime(draw))
    again = free_port(chooser=_SameDrawEveryTime(draw + 1))
    assert rasa == draw
    assert {actions, again}.isdisjoint({rasa, rasa + 1}) and actions != again, (
        rasa,
        actions,
        again,
    )


def _bindable(first: int, count: int) -> bool:
    with contextlib.ExitStack() as stack:
        for port in range(first, first + count):
            sock = stack.enter_context(socket.socket())
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True
