"""Sending replies with line-bot-sdk's AsyncMessagingApi, one channel per council.

The base URL comes from `Config.line_api` (LINE_API_ENDPOINT), so tests point
it at a local fake. One HTTP session per channel is opened on the first reply
and reused: a new session per reply rebuilt the TLS context each time, which
blocked the event loop for tens of milliseconds under load. `close()` (called
at application shutdown) releases it.
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

__all__ = ["LineClient", "ReplyFailed"]  # replies, pushes (staff answers) and the loading animation

log = logging.getLogger("madoguchi.line")


class ReplyFailed(RuntimeError):
    """LINE refused the reply (expired token, invalid message, …) or could not be reached."""

    def __init__(self, status: int | None, body: str) -> None:
        super().__init__(f"LINE reply failed: {status} {body[:200]}")
        self.status = status


class LineClient:
    def __init__(self, channel: LineChannel, *, endpoint: str, timeout: float = 10.0) -> None:
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

    async def _send(self, call) -> None:
        try:
            await call
        except ApiException as e:
            raise ReplyFailed(e.status, str(e.body or e.reason)) from None
        except (TimeoutError, aiohttp.ClientError) as e:  # LINE unreachable: one log line, no trace
            raise ReplyFailed(None, f"{type(e).__name__}: {e}") from None

    async def reply(self, reply_token: str, messages: Sequence[Message]) -> None:
        """Send ≤5 messages with a reply token; raises `ReplyFailed` when LINE says no."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=list(messages)[:MAX_MESSAGES])
        await self._send(self._messaging().reply_message(request, _request_timeout=self.timeout))

    async def push(self, user_id: str, messages: Sequence[Message]) -> None:
        """Send ≤5 messages to a user without a reply token (a staff reply); raises `ReplyFailed`."""
        request = PushMessageRequest(to=user_id, messages=list(messages)[:MAX_MESSAGES])
        await self._send(self._messaging().push_message(request, _request_timeout=self.timeout))

    async def loading(self, user_id: str, *, seconds: int = 20) -> None:
        """Show the loading animation in a one-to-one chat (5–60 s, a multiple of 5)."""
        seconds = min(60, max(5, seconds // 5 * 5))
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        await self._send(self._messaging().show_loading_animation(request, _request_timeout=self.timeout))

    async def close(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            await api.close()
