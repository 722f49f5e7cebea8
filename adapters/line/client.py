"""Sending with line-bot-sdk's AsyncMessagingApi, one channel per council.

The base URL comes from `Config.line_api` (LINE_API_ENDPOINT), so tests point
it at a local fake. One HTTP session per channel is opened on the first send
and reused: a new session per reply rebuilt the TLS context each time, which
blocked the event loop for tens of milliseconds under load. `close()` (called
at application shutdown) releases it.

Failures raise `SendFailed` with what the delivery worker needs to decide:
the status (None when LINE could not be reached or did not answer in time)
and Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from adapters.config import LineChannel
from adapters.line.limits import MAX_MESSAGES

__all__ = ["LineClient", "SendFailed", "retry_after"]  # replies, pushes and the loading animation

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


class LineClient:
    def __init__(self, channel: LineChannel, *, endpoint: str, timeout: float = 5.0) -> None:
        self.council = channel.council
        self.timeout = timeout
        self._configuration = Configuration(host=endpoint.rstrip("/"), access_token=channel.token)
        self._api: AsyncApiClient | None = None

    def __repr__(self) -> str:
        return f"LineClient(council={self.council!r}, host={self._configuration.host!r})"

    def _messaging(self) -> AsyncMessagingApi:
        if self._api is None:
            self._api = AsyncApiClient(self._configuration)
        return AsyncMessagingApi(self._api)

    @staticmethod
    async def _send(call) -> None:
        try:
            await call
        except ApiException as e:
            raise SendFailed(e.status, str(e.body or e.reason), retry_after=retry_after(e.headers)) from None
        except (TimeoutError, aiohttp.ClientError) as e:  # LINE unreachable: one log line, no trace
            raise SendFailed(None, f"{type(e).__name__}: {e}") from None

    async def reply(self, reply_token: str, messages: Sequence[Message]) -> None:
        """Send ≤5 messages with a reply token; raises `SendFailed` when LINE says no."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=list(messages)[:MAX_MESSAGES])
        await self._send(self._messaging().reply_message(request, _request_timeout=self.timeout))

    async def push(self, to: str, messages: Sequence[Message], *, retry_key: str | None = None) -> None:
        """Push ≤5 messages to a user, group or room without a reply token (a reply past its
        window, a staff answer); raises `SendFailed`. With `retry_key` (X-Line-Retry-Key) LINE
        accepts one push per key and answers 409 to a repeat, so a retried push is never doubled."""
        request = PushMessageRequest(to=to, messages=list(messages)[:MAX_MESSAGES])
        await self._send(self._messaging().push_message(request, x_line_retry_key=retry_key,
                                                        _request_timeout=self.timeout))

    async def loading(self, user_id: str, *, seconds: int = 20) -> None:
        """Show the loading animation in a one-to-one chat (5–60 s, a multiple of 5)."""
        seconds = min(60, max(5, seconds // 5 * 5))
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        await self._send(self._messaging().show_loading_animation(request, _request_timeout=self.timeout))

    async def close(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            await api.close()
