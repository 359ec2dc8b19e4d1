"""Ports for servers that bind late: never in the range the kernel hands outgoing connections."""

from __future__ import annotations

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
