"""A local fake of the LINE Messaging API: records every request in full.

It answers `POST /v2/bot/message/reply` like LINE does — 200 with
`sentMessages`, or 400 when the reply breaks one of LINE's limits or the reply
token is `expired` — and keeps the path, Authorization header and JSON body of
every request it receives (any path), so tests assert on what was really sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["FakeLineAPI", "Recorded", "limit_errors"]

EXPIRED = "expired"


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any
    raw: bytes
    errors: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _actions(node: Any):
    if isinstance(node, dict):
        if node.get("type") in ("postback", "uri", "message") and "label" in node:
            yield node
        for v in node.values():
            yield from _actions(v)
    elif isinstance(node, list):
        for v in node:
            yield from _actions(v)


def _flex_texts(node: Any):
    if isinstance(node, dict):
        if node.get("type") == "text":
            yield node.get("text") or ""
        for v in node.values():
            yield from _flex_texts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _flex_texts(v)


def limit_errors(body: dict) -> list[str]:
    """What LINE would refuse in a reply body (the limits of the Messaging API reference)."""
    errors: list[str] = []
    messages = body.get("messages") or []
    if not 1 <= len(messages) <= 5:
        errors.append(f"{len(messages)} messages (1–5 allowed)")
    for i, m in enumerate(messages):
        if m.get("type") == "text" and not 0 < _u16(m.get("text", "")) <= 5000:
            errors.append(f"message {i}: text empty or over 5000")
        if m.get("type") == "flex":
            if _u16(m.get("altText", "")) > 1500:
                errors.append(f"message {i}: altText over 1500")
            size = len(json.dumps(m.get("contents"), ensure_ascii=True, separators=(",", ":")).encode())
            if size > 30_000:
                errors.append(f"message {i}: bubble {size} bytes")
            if any(not t for t in _flex_texts(m.get("contents"))):
                errors.append(f"message {i}: empty flex text")
        items = (m.get("quickReply") or {}).get("items") or []
        if len(items) > 13:
            errors.append(f"message {i}: {len(items)} quick replies")
        for a in _actions(m):
            if len(a.get("label", "")) > 20:
                errors.append(f"message {i}: label {a['label']!r} over 20")
            if len(a.get("data", "")) > 300:
                errors.append(f"message {i}: postback data over 300")
            if len(a.get("displayText", "")) > 300:
                errors.append(f"message {i}: displayText over 300")
    return errors


class FakeLineAPI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._cond = threading.Condition()
        self.gate: threading.Event | None = None  # when set, replies wait for it (recorded first)

    # -- the server -------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v2/bot/message/reply", self._reply, methods=["POST"]),
            Route("/{path:path}", self._other, methods=["GET", "POST", "PUT", "DELETE"]),
        ])

    async def _record(self, request: Request) -> Recorded:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = Recorded(request.method, request.url.path, request.headers.get("authorization"), body, raw)
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()
        return rec

    async def _reply(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        gate = self.gate
        if gate is not None:
            await asyncio.to_thread(gate.wait, 10)
        body = rec.body if isinstance(rec.body, dict) else {}
        if body.get("replyToken") == EXPIRED:
            return JSONResponse({"message": "Invalid reply token"}, status_code=400)
        rec.errors = limit_errors(body)
        if rec.errors:
            return JSONResponse({"message": "The request body has 1 error(s)", "details": rec.errors},
                                status_code=400)
        sent = [{"id": str(1000 + i), "quoteToken": f"q{i}"} for i, _ in enumerate(body.get("messages", []))]
        return JSONResponse({"sentMessages": sent})

    async def _other(self, request: Request) -> JSONResponse:
        await self._record(request)
        return JSONResponse({"message": "Not found"}, status_code=404)

    # -- for tests --------------------------------------------------------
    def clear(self) -> None:
        with self._cond:
            self.requests.clear()

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Recorded]:
        """At least `count` requests, or AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests to the fake LINE API, got {len(self.requests)}")
                self._cond.wait(left)
            return list(self.requests)

    def replies(self) -> list[Recorded]:
        with self._cond:
            return [r for r in self.requests if r.path == "/v2/bot/message/reply"]
