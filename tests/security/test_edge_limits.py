"""The gateway's edge: oversized, deeply nested and malformed input never reaches Rasa, and
every response carries the security headers (issue 9, items 4 and 5).

The gateway is the real app on a real port; Rasa is the stand-in speaking its REST protocol,
which records every message that reaches it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.conversation import Conversation
from bot.edge import (
    DEFAULT_BODY_LIMIT,
    SECURITY_HEADERS,
    TOO_LONG,
    UNREADABLE,
    EdgeMiddleware,
    nests_deeper_than,
)
from bot.gateway import create_app
from bot.messages import IncomingMessage
from core.settings import REPOSITORY_ROOT
from tests.fakes.loopback import free_port, serving_in_this_loop
from tests.fakes.rasa_rest import FakeRasa
from tests.services import CHROMIUM, require_chromium
from tests.waiting import wait_until

MB = 1024 * 1024


def _answers(_: str, message: str) -> list[dict[str, Any]]:
    card = {
        "id": "c1",
        "type": "course",
        "name": "Pottery for beginners",
        "place": "Nanhu library",
        "url": "https://example.org/pottery",
    }
    return [{"custom": {"learncity": {"text": f"you said: {message}", "cards": [card]}}}]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa(_answers) as rasa:
        yield rasa


@pytest.fixture
async def gateway(fake_rasa: FakeRasa, database: str) -> AsyncIterator[str]:
    conversation = Conversation(fake_rasa.url, timeout=10, database_url=database)
    async with serving_in_this_loop(create_app(conversation), free_port()) as url:
        yield url


def _upload(
    url: str, path: str, total: int, *, chunked: bool, chunk: int = 64 * 1024
) -> tuple[int, int]:
    """POST `total` bytes over a raw socket, declared (Content-Length) or chunked (no length),
    stopping as soon as the server answers. Returns (status, bytes of body sent)."""
    host, port = url.removeprefix("http://").split(":")
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{framing}\r\n\r\n".encode()
        )
        if not chunked:  # like a client sending "Expect: 100-continue": wait for a verdict
            select.select([sock], [], [], 2.0)
        sock.setblocking(False)
        answer = b""
        piece = (b"%x\r\n" % chunk + b"[" * chunk + b"\r\n") if chunked else b"[" * chunk
        while sent < total and not answer:
            try:
                answer = sock.recv(65536)
                break
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            try:
                sock.sendall(piece)
                sent += chunk
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.01)
        sock.setblocking(True)
        deadline = time.monotonic() + 10
        while b"\r\n" not in answer and time.monotonic() < deadline:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    status = int(answer.split(b" ", 2)[1]) if answer else 0
    return status, sent


async def test_a_body_over_the_cap_is_refused_413_before_rasa(
    gateway: str, fake_rasa: FakeRasa
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        just_over = await client.post(
            f"{gateway}/api/chat", json={"text": "y" * DEFAULT_BODY_LIMIT}
        )
    declared = await asyncio.to_thread(_upload, gateway, "/api/chat", 10 * MB, chunked=False)
    chunked = await asyncio.to_thread(_upload, gateway, "/api/chat", 100 * MB, chunked=True)

    assert just_over.status_code == 413
    assert just_over.json() == {"error": f"the request body is over {DEFAULT_BODY_LIMIT} bytes"}
    assert declared == (413, 0), "a declared 10 MB body is refused before any of it is sent"
    assert chunked[0] == 413
    assert chunked[1] < 20 * MB, f"the server read on after the cap: {chunked[1]} bytes sent"
    assert fake_rasa.received == []


async def test_json_nested_50k_deep_is_a_clean_400(gateway: str, fake_rasa: FakeRasa) -> None:
    deep = "[" * 50_000 + "]" * 50_000  # 100 KB: fits the Telegram webhook's 256 KB cap
    nested_object = '{"text": ' + '{"a": ' * 8_000 + "1" + "}" * 8_000 + "}"
    json_type = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as client:
        answers = [
            await client.post(f"{gateway}/telegram/webhook", content=deep, headers=json_type),
            await client.post(f"{gateway}/api/chat", content=nested_object, headers=json_type),
        ]
        fine = await client.post(f"{gateway}/api/chat", json={"text": "[[[ hello ]]]"})

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == {"error": "JSON nested deeper than 32 levels"}
    assert all("Traceback" not in a.text for a in answers)
    assert fine.status_code == 200
    assert [m["message"] for m in fake_rasa.received] == ["[[[ hello ]]]"]


def _nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    return 0


def _random_json(rng: random.Random, depth: int) -> object:
    if depth == 0:
        return rng.choice([1, None, 'a"[{', "\\]}", 'q\\"[[', ""])
    # One child (anywhere) as deep as asked, the others shallower: the deepest path's
    # openings are not all next to each other.
    width = rng.randint(1, 3)
    deepest = rng.randrange(width)
    children = [
        _random_json(rng, depth - 1 if i == deepest else rng.randint(0, depth - 1))
        for i in range(width)
    ]
    if rng.random() < 0.5:
        return children
    return {f"k{i}]{{": child for i, child in enumerate(children)}


def test_json_nesting_check_agrees_with_the_json_module_on_random_bodies() -> None:
    """The edge's byte-level count and Python's parser see the same nesting."""
    rng = random.Random(9)
    for _ in range(500):
        value = _random_json(rng, rng.randint(0, 9))
        body = json.dumps(value).encode()
        expected = _nesting(value)
        for limit in (0, 1, 2, 5, 32):
            assert nests_deeper_than(body, limit) == (expected > limit), (limit, body)
    chain = _random_json(rng, 0)
    for _ in range(40):
        chain = [chain] if rng.random() < 0.5 else {"k": chain}
    assert nests_deeper_than(json.dumps(chain).encode(), 39)
    assert not nests_deeper_than(json.dumps(chain).encode(), 40)


async def test_a_payload_must_be_a_bounded_well_formed_intent_payload(
    gateway: str, fake_rasa: FakeRasa
) -> None:
    refused = [
        '/search_course{"topic": "' + "x" * 30_000 + '"}',  # 200 KB entities in issue 9
        '/search_course{"topic": "' + "x" * 600 + '"}',
        '/search_course{"topic": {"nested": ["deeper"]}}',
        '/search_course{"topic": "a"} and more',
        "/search_course{not json}",
        "/" + "a" * 100,
    ]
    async with httpx.AsyncClient(timeout=30) as client:
        answers = [
            await client.post(f"{gateway}/api/chat", json={"payload": payload})
            for payload in refused
        ]
        good = await client.post(
            f"{gateway}/api/chat", json={"payload": '/search_course{"topic": "pottery"}'}
        )

    assert [a.status_code for a in answers] == [400] * len(refused)
    assert all(a.json()["error"].startswith("field payload: ") for a in answers), [
        a.json() for a in answers
    ]
    assert good.status_code == 200
    assert [m["message"] for m in fake_rasa.received] == ['/search_course{"topic": "pottery"}']


async def test_too_long_telegram_and_wechat_text_gets_a_kind_reply_not_a_rasa_turn(
    fake_rasa: FakeRasa, database: str
) -> None:
    # Its own database: the default one (whatever the environment points at) may be unmigrated.
    conversation = Conversation(fake_rasa.url, timeout=10, database_url=database)
    try:
        telegram_over = await conversation.handle(
            IncomingMessage("telegram:1", "telegram", text="我想学陶艺" * 820)  # 4,100 chars
        )
        wechat_over = await conversation.handle(
            IncomingMessage("wechat:oA", "wechat", text="Quiero aprender cerámica. " * 79)
        )
        ten_megabytes = await conversation.handle(
            IncomingMessage("telegram:2", "telegram", text="x" * (10 * MB), language_hint="en")
        )
        typed_payload = await conversation.handle(
            IncomingMessage("telegram:3", "telegram", text='/greet{"a": {"b": 1}}')
        )
        assert fake_rasa.received == []
        telegram_limit = await conversation.handle(
            IncomingMessage("telegram:1", "telegram", text="我" * 4096)
        )
        wechat_limit = await conversation.handle(
            IncomingMessage("wechat:oA", "wechat", text="我" * 682)  # 2,046 bytes
        )
    finally:
        await conversation.close()

    assert [r.text for r in telegram_over] == [TOO_LONG["zh"]]
    assert [r.text for r in wechat_over] == [TOO_LONG["es"]]
    assert [r.text for r in ten_megabytes] == [TOO_LONG["en"]]
    assert [r.text for r in typed_payload] == [UNREADABLE["en"]]
    assert telegram_limit[0].text.startswith("you said: 我")
    assert wechat_limit[0].text.startswith("you said: 我")
    assert len(fake_rasa.received) == 2


async def test_every_route_carries_the_security_headers(gateway: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        responses = {
            "page": await client.get(f"{gateway}/"),
            "script": await client.get(f"{gateway}/static/app.js"),
            "health": await client.get(f"{gateway}/health"),
            "updates (400)": await client.get(f"{gateway}/api/updates"),
            "chat": await client.post(f"{gateway}/api/chat", json={"text": "hello"}),
            "chat (400)": await client.post(f"{gateway}/api/chat", json={"text": 5}),
            "chat (413)": await client.post(f"{gateway}/api/chat", content=b"x" * (2 * MB)),
            "unknown (404)": await client.get(f"{gateway}/nowhere"),
            "wrong method (405)": await client.get(f"{gateway}/api/chat"),
        }
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses == {
        "page": 200,
        "script": 200,
        "health": 200,
        "updates (400)": 400,
        "chat": 200,
        "chat (400)": 400,
        "chat (413)": 413,
        "unknown (404)": 404,
        "wrong method (405)": 405,
    }
    for name, response in responses.items():
        headers = {key: response.headers.get(key) for key in SECURITY_HEADERS}
        assert headers == SECURITY_HEADERS, name
    policy = SECURITY_HEADERS["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy


async def test_every_route_of_the_full_gateway_carries_the_headers(
    fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    """Every route the gateway registers (web chat, health, Telegram, WeChat), whatever it
    answers to a stranger's GET and POST, answers with the security headers."""
    from starlette.routing import Mount, Route

    from bot.channels.configured import build_channels
    from tests.bot.wechat_support import wechat_settings
    from tests.fakes.telegram_api import FakeTelegramApi
    from tests.fakes.wechat_api import FakeWeChatApi

    with FakeTelegramApi() as telegram, FakeWeChatApi() as wechat:
        settings = wechat_settings(wechat, tmp_path, database).model_copy(
            update={
                "telegram_bot_token": SecretStr(telegram.token),
                "telegram_api_base_url": telegram.base_url,
                "telegram_webhook_url": "http://127.0.0.1:9/telegram/webhook",
                "telegram_webhook_secret": SecretStr("edge-test-secret"),
            }
        )
        conversation = Conversation(fake_rasa.url, database_url=database)
        app = create_app(conversation, build_channels(conversation, settings))
        paths = []
        for route in app.routes:
            if isinstance(route, Mount):
                paths.append(f"{route.path}/app.js")
            elif isinstance(route, Route):
                paths.append(route.path)
        async with (
            serving_in_this_loop(app, free_port()) as url,
            httpx.AsyncClient(timeout=30) as client,
        ):
            answers = {
                (method, path): await client.request(method, f"{url}{path}", content=b"{}")
                for path in paths
                for method in ("GET", "POST")
            }
    assert {"/", "/api/chat", "/health", "/telegram/webhook", "/wechat"} <= set(paths), paths
    missing = {
        key: response.status_code
        for key, response in answers.items()
        if {name: response.headers.get(name) for name in SECURITY_HEADERS} != SECURITY_HEADERS
    }
    assert missing == {}


async def test_the_web_chat_works_in_chromium_under_the_policy(
    gateway: str, fake_rasa: FakeRasa
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    console: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            headless=True,
        )
        page = await browser.new_page(locale="en-GB")
        page.on("console", lambda message: console.append(message.text))
        await page.goto(f"{gateway}/")
        await page.fill("#message", "pottery please")
        await page.keyboard.press("Enter")
        card = page.locator(".msg.assistant .card h3").first
        await card.wait_for(timeout=30_000)
        name = await card.inner_text()
        link = await page.locator(".msg.assistant .card a").first.get_attribute("href")
        await browser.close()

    assert name == "Pottery for beginners"
    assert link == "https://example.org/pottery"
    assert [m for m in console if "Content Security Policy" in m] == []
    assert [m["message"] for m in fake_rasa.received] == ["pottery please"]


async def test_an_unexpected_error_is_a_short_500_with_the_headers() -> None:
    """Any route that fails (here a test route) answers JSON without a traceback."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    async def crash(_: object) -> None:
        raise RuntimeError("something internal went wrong")

    app = Starlette(routes=[Route("/crash", crash)], middleware=[Middleware(EdgeMiddleware)])
    async with (
        serving_in_this_loop(app, free_port()) as url,
        httpx.AsyncClient(timeout=30) as client,
    ):
        answer = await client.get(f"{url}/crash")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error; the operator's log has the details"}
    assert {key: answer.headers.get(key) for key in SECURITY_HEADERS} == SECURITY_HEADERS


_GATEWAY_PROCESS = textwrap.dedent(
    """
    import sys, uvicorn
    from bot.conversation import Conversation
    from bot.gateway import create_app
    app = create_app(Conversation(sys.argv[1], timeout=5))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def test_ten_parallel_100_mb_bodies_leave_the_gateway_memory_flat(fake_rasa: FakeRasa) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY_ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", _GATEWAY_PROCESS, fake_rasa.url, str(port)],
        cwd=REPOSITORY_ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert process.poll() is None, "the gateway exited while starting"
            return httpx.get(f"{url}/static/app.js", timeout=1).status_code == 200

        wait_until(answers, 60, "the gateway", interval=0.1, ignore=(httpx.HTTPError,))
        before = _rss_mb(process.pid)

        async def flood() -> list[int]:
            runs = [
                asyncio.to_thread(_upload, url, "/api/chat", 100 * MB, chunked=chunked)
                for chunked in [False] * 5 + [True] * 5
            ]
            return [status for status, _ in await asyncio.gather(*runs)]

        statuses = asyncio.run(flood())
        peak_after = _rss_mb(process.pid)
        print(f"\ngateway RSS before {before:.1f} MB, after 10 x 100 MB bodies {peak_after:.1f} MB")
        assert statuses == [413] * 10
        assert peak_after - before < 30, (before, peak_after)
        assert fake_rasa.received == []
    finally:
        process.terminate()
        process.wait(timeout=15)


async def test_telegram_updates_too_long_get_a_kind_reply_or_a_413_never_rasa(
    fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    """Through the real Telegram channel (webhook) and the stand-in Bot API."""
    from tests.bot.telegram_support import WEBHOOK_SECRET, serving_gateway, telegram_settings
    from tests.fakes.telegram_api import FakeTelegramApi

    with FakeTelegramApi() as api:
        settings = telegram_settings(api, tmp_path, database, webhook=True)
        conversation = Conversation(fake_rasa.url, database_url=database)
        async with serving_gateway(settings, conversation):
            url = settings.telegram_webhook_url
            long_update = api.text_update(401, "我想学陶艺" * 1000, language_code="zh")  # 5,000
            answered = await api.post_update(url, long_update, secret=WEBHOOK_SECRET)
            # A 10 MB update: refused from its Content-Length, before any of it is read.
            refused = await asyncio.to_thread(
                _upload,
                url.removesuffix("/telegram/webhook"),
                "/telegram/webhook",
                10 * MB,
                chunked=False,
            )
            (reply,) = await api.wait_for_calls("sendMessage", chat_id=401)
            fine = api.text_update(401, "我想学陶艺")
            await api.post_update(url, fine, secret=WEBHOOK_SECRET)
            await api.wait_for_calls("sendMessage", chat_id=401, count=2)

    assert (answered.status_code, refused) == (200, (413, 0))
    assert reply.params["text"] == TOO_LONG["zh"]
    assert [m["message"] for m in fake_rasa.received] == ["我想学陶艺"]


async def test_a_wechat_text_over_2048_bytes_gets_a_kind_reply_not_a_rasa_turn(
    fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    """Through the real WeChat channel (safe mode) and the stand-in WeChat servers."""
    from tests.bot.wechat_support import callbacks_for, serving_gateway, wechat_settings
    from tests.fakes.wechat_api import FakeWeChatApi

    with FakeWeChatApi() as api:
        settings = wechat_settings(api, tmp_path, database)
        conversation = Conversation(fake_rasa.url, database_url=database)
        async with serving_gateway(settings, conversation) as (url, _):
            callbacks = callbacks_for(settings, url)
            too_long = callbacks.text("oEDGE", "我想学陶艺，" * 120)  # 2,160 bytes
            answer = await callbacks.post(too_long, encrypted=True)
            at_limit = callbacks.text("oEDGE", "我" * 682)  # 2,046 bytes
            passed = await callbacks.post(at_limit, encrypted=True)

    assert callbacks.reply_fields(answer)["Content"] == TOO_LONG["zh"]
    assert callbacks.reply_fields(passed)["Content"].startswith("you said: 我")
    assert [m["message"] for m in fake_rasa.received] == ["我" * 682]
