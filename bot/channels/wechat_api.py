"""The WeChat server API learncity calls: the access token and customer-service text messages.

The access token is fetched once and reused until shortly before it expires; when WeChat
says it is invalid or expired (40001, 40014, 42001) it is fetched again and the call retried
once. Customer-service messages reach a citizen who wrote within the last 48 hours; the
errors that mean "cannot reach this citizen" become `RecipientUnreachableError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from bot.channels.base import RecipientUnreachableError
from bot.text_split import split_text, utf8_length

logger = logging.getLogger(__name__)

TEXT_LIMIT_BYTES = 2048  # customer-service and passive text replies, in UTF-8 bytes
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
# Not following (43004), outside the 48-hour window (45015), unknown OpenID (40003),
# blacklisted by the citizen (43019): retrying will not help until they write again.
UNREACHABLE_ERRORS = {40003, 43004, 43019, 45015}
_EARLY_REFRESH_SECONDS = 300


class WeChatApiError(RuntimeError):
    """WeChat answered an API call with a non-zero errcode (or not at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    """A small async client for one Official Account (AppID + AppSecret)."""

    def __init__(
        self, base_url: str, app_id: str, app_secret: str, *, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._app_secret = app_secret
        self._client = httpx.AsyncClient(timeout=timeout)
        self._token = ""
        self._token_valid_until = 0.0
        self._token_lock = asyncio.Lock()

    async def send_text(self, openid: str, text: str) -> None:
        """Send text as customer-service messages, split at 2048 UTF-8 bytes, in order."""
        for piece in split_text(text, TEXT_LIMIT_BYTES, utf8_length):
            await self.call(
                "/cgi-bin/message/custom/send",
                {"touser": openid, "msgtype": "text", "text": {"content": piece}},
            )

    async def client_language(self, openid: str) -> str | None:
        """The language of the follower's WeChat client as user/info gives it ("zh_CN", "en");
        None for someone who does not follow the account (user/info then says no language)."""
        token = await self._access_token()
        answer = await self._get_json(
            "/cgi-bin/user/info", {"access_token": token, "openid": openid, "lang": "zh_CN"}
        )
        errcode = int(answer.get("errcode", 0) or 0)
        if errcode:
            if errcode in TOKEN_ERRORS:
                self._forget_token(token)  # the next send fetches a new one
            raise WeChatApiError(errcode, str(answer.get("errmsg", "")))
        return str(answer.get("language") or "") or None

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST an API call with the access token; refresh the token and retry once if stale."""
        for attempt in range(2):
            token = await self._access_token()
            answer = await self._post(path, token, body)
            errcode = int(answer.get("errcode", 0) or 0)
            if errcode == 0:
                return answer
            if errcode in TOKEN_ERRORS and attempt == 0:
                logger.info("wechat: access token refused (%d); fetching a new one", errcode)
                self._forget_token(token)
                continue
            errmsg = str(answer.get("errmsg", ""))
            if errcode in UNREACHABLE_ERRORS:
                raise RecipientUnreachableError(f"wechat {path}: {errcode} {errmsg}")
            raise WeChatApiError(errcode, errmsg)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def close(self) -> None:
        await self._client.aclose()

    async def _access_token(self) -> str:
        async with self._token_lock:  # concurrent sends share one fetch
            if self._token and time.monotonic() < self._token_valid_until:
                return self._token
            answer = await self._get_json(
                "/cgi-bin/token",
                {
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self._app_secret,
                },
            )
            token = answer.get("access_token")
            if not token:
                raise WeChatApiError(
                    int(answer.get("errcode", -1) or -1),
                    f"{answer.get('errmsg', 'no access_token')} (check WECHAT_APP_ID, "
                    "WECHAT_APP_SECRET and the account's IP whitelist)",
                )
            expires_in = float(answer.get("expires_in", 7200))
            lifetime = max(expires_in - _EARLY_REFRESH_SECONDS, expires_in * 0.5)
            self._token, self._token_valid_until = str(token), time.monotonic() + lifetime
            return self._token

    def _forget_token(self, token: str) -> None:
        if self._token == token:
            self._token, self._token_valid_until = "", 0.0

    async def _get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._client.get(f"{self.base_url}{path}", params=params)
            response.raise_for_status()
            return _json_object(response)
        except httpx.HTTPError as error:
            raise WeChatApiError(-1, f"{path} did not answer: {type(error).__name__}") from error

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        # WeChat shows \u escapes literally in some clients: send real UTF-8.
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            response = await self._client.post(
                f"{self.base_url}{path}",
                params={"access_token": token},
                content=content,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            response.raise_for_status()
            return _json_object(response)
        except httpx.HTTPError as error:
            raise WeChatApiError(-1, f"{path} did not answer: {type(error).__name__}") from error


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as error:
        raise WeChatApiError(-1, "the answer is not JSON") from error
    if not isinstance(answer, dict):
        raise WeChatApiError(-1, "the answer is not a JSON object")
    return answer
