"""Sending to the Messaging API: replies, pushes and the loading animation, one client per council.

The base URL comes from `Config.line_api` (LINE_API_ENDPOINT), so tests point
it at a local fake. Messages are the JSON objects LINE reads
(`adapters.line.limits.Message`), sent by a plain aiohttp POST: the SDK's
API client re-serialised every model two or three times and looked up
proxies and ~/.netrc on every request, several times the CPU of answering
the question. The proxy from
the environment (HTTPS_PROXY, NO_PROXY), which the SDK honoured, is read
once. One session per channel is opened on the first send and reused (a
new one per reply rebuilt the TLS context each time); `close()` (called at
application shutdown) releases it.

Failures raise `SendFailed` with what the delivery worker needs to decide:
the status (None when LINE could not be reached or did not answer in time)
and Retry-After.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.request import getproxies, proxy_bypass

import aiohttp
from adapters.config import LineChannel
from adapters.line.limits import MAX_MESSAGES, Message

__all__ = ["LineClient", "SendFailed", "encode_messages", "retry_after"]  # replies, pushes and the loading animation

log = logging.getLogger("madoguchi.line")


class SendFailed(RuntimeError):
    """LINE refused the message (expired token, invalid message, …) or could not be reached."""

    def __init__(self, status: int | None, body: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"LINE send failed: {status} {body[:200]}")
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """429, 5xx, a timeout or no connection: the same request may succeed later."""
        return self.status is None or self.status == 429 or self.status >= 500


def retry_after(headers) -> float | None:
    """Retry-After in seconds (LINE sends delta-seconds), None when absent or unreadable."""
    value = None
    if headers:
        value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _json(value: Any) -> bytes:
    """Compact UTF-8 JSON (a third fewer bytes than ASCII escapes for Japanese); ASCII escapes
    when a lone surrogate leaves no valid UTF-8."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def encode_messages(messages: Sequence[Message]) -> bytes:
    """The `messages` array of a reply or push (at most five), as sent: build it once, where the
    messages are made (a matching thread), and the event loop only posts the bytes."""
    return _json(list(messages)[:MAX_MESSAGES])


def _proxy_for(url: str) -> str | None:
    """The environment's proxy for `url` (HTTPS_PROXY / HTTP_PROXY unless NO_PROXY covers its host)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    if not host or proxy_bypass(host):
        return None
    return getproxies().get(scheme)


class LineClient:
    def __init__(self, channel: LineChannel, *, endpoint: str, timeout: float = 5.0) -> None:
        self.council = channel.council
        self.timeout = timeout
        self.host = endpoint.rstrip("/")
        self._headers = {"Authorization": f"Bearer {channel.token}", "Content-Type": "application/json"}
        self._proxy = _proxy_for(self.host)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"LineClient(council={self.council!r}, host={self.host!r})"

    async def _post(self, path: str, body: dict[str, Any] | bytes, *, headers: dict[str, str] | None = None) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        data = body if isinstance(body, bytes) else _json(body)
        try:
            async with self._session.post(self.host + path, data=data, proxy=self._proxy,
                                          headers={**self._headers, **headers} if headers else self._headers) as r:
                text = await r.text(errors="replace")
                if not 200 <= r.status < 300:
                    raise SendFailed(r.status, text or r.reason or "", retry_after=retry_after(r.headers))
        except (TimeoutError, aiohttp.ClientError) as e:  # LINE unreachable: one log line, no trace
            raise SendFailed(None, f"{type(e).__name__}: {e}") from None

    async def reply(self, reply_token: str, messages: Sequence[Message], *, encoded: bytes | None = None) -> None:
        """Send ≤5 messages with a reply token; raises `SendFailed` when LINE says no. `encoded`:
        the same messages as `encode_messages` wrote them (off the event loop), sent as they are."""
        await self._post("/v2/bot/message/reply", b'{"replyToken":%s,"messages":%s}'
                         % (_json(reply_token), encoded or encode_messages(messages)))

    async def push(self, to: str, messages: Sequence[Message], *, retry_key: str | None = None,
                   encoded: bytes | None = None) -> None:
        """Push ≤5 messages to a user, group or room without a reply token (a reply past its
        window, a staff answer); raises `SendFailed`. With `retry_key` (X-Line-Retry-Key) LINE
        accepts one push per key and answers 409 to a repeat, so a retried push is never doubled."""
        body = b'{"to":%s,"messages":%s}' % (_json(to), encoded or encode_messages(messages))
        await self._post("/v2/bot/message/push", body,
                         headers={"X-Line-Retry-Key": retry_key} if retry_key else None)

    async def loading(self, user_id: str, *, seconds: int = 20) -> None:
        """Show the loading animation in a one-to-one chat (5–60 s, a multiple of 5)."""
        seconds = min(60, max(5, seconds // 5 * 5))
        await self._post("/v2/bot/chat/loading/start", {"chatId": user_id, "loadingSeconds": seconds})

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
