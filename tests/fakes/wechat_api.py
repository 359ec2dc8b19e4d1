"""A local stand-in for WeChat's servers, both directions, speaking the real protocol.

`FakeWeChatApi` is the API learncity calls: `GET /cgi-bin/token` (real JSON, counts fetches,
can expire every token it issued), `POST /cgi-bin/stable_token` (the stable token, kept apart
from the other as WeChat keeps it; counts checks) and `POST /cgi-bin/message/custom/send`
(records messages, answers the real errcode/errmsg JSON: 40001, 42001, 43004, 45002, ...).

`WeChatCallbacks` plays WeChat calling the account's server: it builds real-shaped message
and event XML, signs it with the Token (and in safe mode encrypts it with the EncodingAESKey,
written here from WeChat's description rather than borrowed from learncity), POSTs it to the
gateway's `/wechat`, and can redeliver the same message every few seconds as WeChat does.

    with FakeWeChatApi(app_id="wx123", app_secret="s3cret") as api:
        callbacks = WeChatCallbacks(gateway_url, token="t0ken", app_id="wx123")
        response = await callbacks.post(callbacks.text("oCITIZEN", "hello", msg_id=1))
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import os
import re
import struct
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

ACCOUNT_ID = "gh_learncity0001"  # the Official Account's original id (ToUserName)
CONTENT_LIMIT_BYTES = 2048


@dataclass
class CustomerServiceMessage:
    """One customer-service message the account sent, as WeChat received it."""

    touser: str
    msgtype: str
    content: str
    at: float = field(default_factory=time.monotonic)


class FakeWeChatApi:
    """The WeChat API on loopback; a context manager."""

    def __init__(self, app_id: str = "wx5e1c0ffee0000001", app_secret: str = "fake-app-secret-1"):
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = 7200
        self.token_fetches = 0
        self.stable_token_checks = 0
        self.messages: list[CustomerServiceMessage] = []
        self.rejected: list[dict[str, Any]] = []  # calls answered with a non-zero errcode
        self.unfollowed: set[str] = set()  # OpenIDs that answer 43004 require subscribe
        self.out_of_window: set[str] = set()  # OpenIDs silent for 48 h: 45015
        # Followers' client languages as user/info tells them ("zh_CN", "en"); whoever is not
        # here does not follow the account: subscribe 0, no language.
        self.client_languages: dict[str, str] = {}
        self.user_info_calls = 0
        self._valid_tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/stable_token", self._stable_token, methods=["POST"]),
                Route("/cgi-bin/message/custom/send", self._custom_send, methods=["POST"]),
                Route("/cgi-bin/user/info", self._user_info, methods=["GET"]),
            ]
        )
        self._server = LoopbackServer(app, "fake-wechat-api")

    @property
    def base_url(self) -> str:
        """What WECHAT_API_BASE_URL should be set to."""
        return self._server.url

    def __enter__(self) -> FakeWeChatApi:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 access_token expired."""
        with self._lock:
            self._expired_tokens |= self._valid_tokens
            self._valid_tokens.clear()

    def sent_to(self, openid: str) -> list[CustomerServiceMessage]:
        with self._lock:
            return [message for message in self.messages if message.touser == openid]

    async def wait_for_messages(
        self, openid: str, count: int = 1, timeout: float = 30.0
    ) -> list[CustomerServiceMessage]:
        deadline = time.monotonic() + timeout
        while True:
            sent = self.sent_to(openid)
            if len(sent) >= count:
                return sent
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} customer-service message(s) to {openid} within "
                    f"{timeout} s, got {len(sent)}; rejected calls: {self.rejected}"
                )
            await asyncio.sleep(0.02)

    async def _token(self, request: Request) -> JSONResponse:
        params = request.query_params
        if params.get("grant_type") != "client_credential":
            return self._error(40002, "invalid grant_type")
        if params.get("appid") != self.app_id:
            return self._error(40013, "invalid appid")
        if params.get("secret") != self.app_secret:
            return self._error(40125, "invalid appsecret")
        with self._lock:
            self.token_fetches += 1
            token = f"ACCESS_TOKEN_{next(self._numbers)}_{os.urandom(6).hex()}"
            self._valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": self.expires_in})

    async def _stable_token(self, request: Request) -> JSONResponse:
        """getStableAccessToken in its normal mode: the same token while it lives, and no
        effect on the tokens `GET /cgi-bin/token` issued (WeChat keeps the two apart)."""
        body = await request.json()
        if body.get("grant_type") != "client_credential":
            return self._error(40002, "invalid grant_type")
        if body.get("appid") != self.app_id:
            return self._error(40013, "invalid appid")
        if body.get("secret") != self.app_secret:
            return self._error(40125, "invalid appsecret")
        with self._lock:
            self.stable_token_checks += 1
        return JSONResponse({"access_token": "STABLE_ACCESS_TOKEN_1", "expires_in": 7200})

    async def _user_info(self, request: Request) -> JSONResponse:
        """user/info as WeChat answers it since 2021: no nickname or region, but the language."""
        refused = self._token_refused(request)
        if refused is not None:
            return refused
        openid = request.query_params.get("openid", "")
        with self._lock:
            self.user_info_calls += 1
            language = self.client_languages.get(openid)
        if language is None:
            return JSONResponse({"subscribe": 0, "openid": openid})
        return JSONResponse(
            {"subscribe": 1, "openid": openid, "language": language, "subscribe_time": 1700000000}
        )

    def _token_refused(self, request: Request) -> JSONResponse | None:
        token = request.query_params.get("access_token", "")
        with self._lock:
            valid, expired = token in self._valid_tokens, token in self._expired_tokens
        if not token:
            return self._error(41001, "access_token missing")
        if expired:
            return self._error(42001, "access_token expired")
        if not valid:
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        return None

    async def _custom_send(self, request: Request) -> JSONResponse:
        refused = self._token_refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads((await request.body()).decode("utf-8"))
            touser, msgtype = body["touser"], body["msgtype"]
            content = body["text"]["content"] if msgtype == "text" else json.dumps(body[msgtype])
        except (ValueError, KeyError, TypeError):
            return self._error(47001, "data format error")
        if touser in self.unfollowed:
            return self._error(43004, "require subscribe")
        if touser in self.out_of_window:
            return self._error(45015, "response out of time limit or subscription is canceled")
        if len(content.encode("utf-8")) > CONTENT_LIMIT_BYTES:
            return self._error(45002, "content size out of limit")
        with self._lock:
            self.messages.append(CustomerServiceMessage(touser, msgtype, content))
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def _error(self, errcode: int, errmsg: str) -> JSONResponse:
        # WeChat answers HTTP 200 with the error in the body, with a request id appended.
        answer = {"errcode": errcode, "errmsg": f"{errmsg} rid: {os.urandom(6).hex()}"}
        with self._lock:
            self.rejected.append(answer)
        return JSONResponse(answer)


class WeChatCallbacks:
    """WeChat's side of the callback: signed (and encrypted) XML POSTed to `/wechat`."""

    def __init__(
        self,
        gateway_url: str,
        *,
        token: str,
        app_id: str,
        encoding_aes_key: str = "",
        account: str = ACCOUNT_ID,
    ) -> None:
        self.url = gateway_url.rstrip("/") + "/wechat"
        self.token = token
        self.app_id = app_id
        self.account = account
        self._key = base64.b64decode(encoding_aes_key + "=") if encoding_aes_key else b""
        self._msg_ids = itertools.count(int(time.time() * 1000) * 1000)

    # -- messages as WeChat writes them ------------------------------------------------------

    def next_msg_id(self) -> int:
        return next(self._msg_ids)

    def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        return self._message(openid, "text", msg_id, f"<Content>{_cdata(content)}</Content>")

    def location(
        self,
        openid: str,
        latitude: float,
        longitude: float,
        label: str = "",
        msg_id: int | None = None,
    ) -> str:
        fields = (
            f"<Location_X>{latitude}</Location_X><Location_Y>{longitude}</Location_Y>"
            f"<Scale>15</Scale><Label>{_cdata(label)}</Label>"
        )
        return self._message(openid, "location", msg_id, fields)

    def image(self, openid: str, msg_id: int | None = None) -> str:
        fields = f"<PicUrl>{_cdata('http://mmbiz.qpic.cn/example.jpg')}</PicUrl><MediaId>{_cdata('media-1')}</MediaId>"
        return self._message(openid, "image", msg_id, fields)

    def media(self, openid: str, kind: str, msg_id: int | None = None) -> str:
        """A message of one of the kinds the account cannot read, with WeChat's fields for it:
        image, voice (without speech recognition), video, shortvideo, link or file."""
        fields = {
            "image": f"<PicUrl>{_cdata('http://mmbiz.qpic.cn/example.jpg')}</PicUrl>"
            f"<MediaId>{_cdata('media-1')}</MediaId>",
            "voice": f"<MediaId>{_cdata('media-2')}</MediaId><Format>{_cdata('amr')}</Format>",
            "video": f"<MediaId>{_cdata('media-3')}</MediaId>"
            f"<ThumbMediaId>{_cdata('thumb-3')}</ThumbMediaId>",
            "shortvideo": f"<MediaId>{_cdata('media-4')}</MediaId>"
            f"<ThumbMediaId>{_cdata('thumb-4')}</ThumbMediaId>",
            "link": f"<Title>{_cdata('课程表')}</Title><Description>{_cdata('秋季')}</Description>"
            f"<Url>{_cdata('https://example.cn/courses')}</Url>",
            "file": f"<Title>{_cdata('cv.pdf')}</Title><FileKey>{_cdata('file-5')}</FileKey>",
        }[kind]
        return self._message(openid, kind, msg_id, fields)

    def event(
        self, openid: str, event: str, event_key: str = "", create_time: int | None = None
    ) -> str:
        key = f"<EventKey>{_cdata(event_key)}</EventKey>" if event_key else ""
        return (
            f"<xml><ToUserName>{_cdata(self.account)}</ToUserName>"
            f"<FromUserName>{_cdata(openid)}</FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType>{_cdata('event')}</MsgType><Event>{_cdata(event)}</Event>{key}</xml>"
        )

    # -- delivering them ---------------------------------------------------------------------

    def signed_query(
        self, *, extra: str = "", bad_signature: bool = False, timestamp: int | None = None
    ) -> dict[str, str]:
        timestamp_text = str(timestamp if timestamp is not None else int(time.time()))
        nonce = str(int.from_bytes(os.urandom(4), "big"))
        signature = _sha1(self.token, timestamp_text, nonce)
        if bad_signature:
            signature = _sha1("not-the-token", timestamp_text, nonce)
        query = {"signature": signature, "timestamp": timestamp_text, "nonce": nonce}
        if extra:
            query["msg_signature"] = _sha1(self.token, timestamp_text, nonce, extra)
        return query

    def signed_request(
        self,
        xml: str | bytes,
        *,
        encrypted: bool | None = None,
        bad_signature: bool = False,
        timestamp: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The query string and body WeChat would send for this message (safe mode when the
        account has an EncodingAESKey, or `encrypted` says so); `timestamp` overrides now."""
        if encrypted is None:
            encrypted = bool(self._key)
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if not encrypted:
            query = self.signed_query(bad_signature=bad_signature, timestamp=timestamp)
            query["openid"] = _field(body, "FromUserName")
            return query, body
        sealed = self.encrypt(body)
        query = self.signed_query(extra=sealed, bad_signature=bad_signature, timestamp=timestamp)
        query |= {"encrypt_type": "aes", "openid": _field(body, "FromUserName")}
        envelope = (
            f"<xml><ToUserName>{_cdata(self.account)}</ToUserName>"
            f"<Encrypt>{_cdata(sealed)}</Encrypt></xml>"
        ).encode()
        return query, envelope

    async def post_raw(
        self, query: dict[str, str], body: bytes, *, timeout: float = 30.0
    ) -> httpx.Response:
        """POST exactly this query string and body (what an attacker replaying one would do)."""
        async with httpx.AsyncClient() as client:
            return await client.post(
                self.url,
                params=query,
                content=body,
                headers={"Content-Type": "text/xml"},
                timeout=timeout,
            )

    async def handshake(self, echostr: str, *, bad_signature: bool = False) -> httpx.Response:
        query = self.signed_query(bad_signature=bad_signature) | {"echostr": echostr}
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.get(self.url, params=query)

    async def post(
        self,
        xml: str | bytes,
        *,
        encrypted: bool | None = None,
        bad_signature: bool = False,
        timeout: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST one callback as WeChat does: in safe mode when the account has an
        EncodingAESKey (or `encrypted` says so), plain otherwise; pass a `client` to reuse its
        connections (a load generator should)."""
        query, body = self.signed_request(xml, encrypted=encrypted, bad_signature=bad_signature)
        arguments: dict[str, Any] = {
            "params": query,
            "content": body,
            "headers": {"Content-Type": "text/xml"},
            "timeout": timeout,
        }
        if client is not None:
            return await client.post(self.url, **arguments)
        async with httpx.AsyncClient() as own_client:
            return await own_client.post(self.url, **arguments)

    async def post_with_retries(
        self,
        xml: str,
        *,
        attempts: int = 4,
        interval: float = 5.0,
        encrypted: bool | None = None,
    ) -> list[httpx.Response | Exception]:
        """The same callback `attempts` times, `interval` seconds apart, as WeChat redelivers it
        when it did not hear back; every attempt is sent whatever the earlier ones answered."""

        async def attempt(number: int) -> httpx.Response:
            await asyncio.sleep(number * interval)
            return await self.post(xml, encrypted=encrypted)

        results = await asyncio.gather(
            *(attempt(n) for n in range(attempts)), return_exceptions=True
        )
        return [r if isinstance(r, httpx.Response | Exception) else Exception(r) for r in results]

    # -- reading what the account answered ---------------------------------------------------

    def reply_fields(self, response: httpx.Response) -> dict[str, str]:
        """A passive reply's fields; a safe-mode reply is checked and decrypted first."""
        fields = _fields(response.content)
        if "Encrypt" not in fields:
            return fields
        expected = _sha1(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        if fields.get("MsgSignature") != expected:
            raise AssertionError("the encrypted reply's MsgSignature does not match")
        return _fields(self.decrypt(fields["Encrypt"]))

    def encrypt(self, xml: bytes) -> str:
        plain = os.urandom(16) + struct.pack(">I", len(xml)) + xml + self.app_id.encode()
        pad = 32 - len(plain) % 32
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        sealed = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(sealed).decode()

    def decrypt(self, sealed: str) -> bytes:
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(sealed)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        xml, app_id = plain[20 : 20 + length], plain[20 + length :]
        if app_id.decode() != self.app_id:
            raise AssertionError(f"the reply was encrypted for AppID {app_id!r}")
        return xml

    def _message(self, openid: str, kind: str, msg_id: int | None, fields: str) -> str:
        return (
            f"<xml><ToUserName>{_cdata(self.account)}</ToUserName>"
            f"<FromUserName>{_cdata(openid)}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{_cdata(kind)}</MsgType>"
            f"{fields}<MsgId>{msg_id if msg_id is not None else self.next_msg_id()}</MsgId></xml>"
        )


def random_aes_key() -> str:
    """A fresh 43-character EncodingAESKey, as the platform generates one."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _fields(xml: bytes) -> dict[str, str]:
    # Replies come from the code under test, over loopback; they never carry a DTD.
    root = ElementTree.fromstring(xml)
    return {child.tag: child.text or "" for child in root}


def _field(xml: bytes, name: str) -> str:
    # A regular expression, not a parser: tests also send bodies a parser must refuse.
    found = re.search(rf"<{name}><!\[CDATA\[(.*?)\]\]></{name}>".encode(), xml)
    return found.group(1).decode() if found else ""
