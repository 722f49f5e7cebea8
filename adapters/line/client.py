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
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from adapters.config import LineChannel
from adapters.line.flex import MAX_MESSAGES

__all__ = ["LineClient", "ReplyFailed"]

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

    async def reply(self, reply_token: str, messages: Sequence[Message]) -> None:
        """Send ≤5 messages with a reply token; raises `ReplyFailed` when LINE says no."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=list(messages)[:MAX_MESSAGES])
        if self._api is None:
            self._api = AsyncApiClient(self._configuration)
        try:
            await AsyncMessagingApi(self._api).reply_message(request, _request_timeout=self.timeout)
        except ApiException as e:
            raise ReplyFailed(e.status, str(e.body or e.reason)) from None
        except (TimeoutError, aiohttp.ClientError) as e:  # LINE unreachable: one log line, no trace
            raise ReplyFailed(None, f"{type(e).__name__}: {e}") from None

    async def close(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            await api.close()
