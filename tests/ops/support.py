"""Helpers of the ops tests: LINE webhook signing, a recording fake LINE API, a small knowledge copy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import threading
import time
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.knowledge.loader import check_knowledge, default_root

__all__ = ["sign", "text_event", "webhook", "FakeLine", "knowledge_copy", "wait_for"]


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature exactly as LINE computes it: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text_event(text: str, *, user: str | None = None, event_id: str | None = None) -> dict:
    return {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user or "U" + uuid.uuid4().hex},
        "webhookEventId": event_id or "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": "q", "text": text},
    }


def webhook(*events: dict) -> bytes:
    return json.dumps({"destination": "U" + "f" * 32, "events": list(events)}, ensure_ascii=False).encode()


class FakeLine:
    """The LINE Messaging API's reply endpoint, recording every request's full body."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self.url = ""

    def app(self) -> Starlette:
        async def reply(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.requests.append({"path": request.url.path, "auth": request.headers.get("authorization"),
                                      "body": body})
            return JSONResponse({"sentMessages": [{"id": "1", "quoteToken": "q"}]})

        return Starlette(routes=[Route("/v2/bot/message/reply", reply, methods=["POST"])])

    def replies(self) -> list[dict]:
        with self._lock:
            return list(self.requests)


def knowledge_copy(tmp: Path, councils: tuple[str, ...] = ("tomakomai",)) -> Path:
    """`knowledge/_common` plus the named councils that load, copied to `tmp`."""
    root = default_root()
    dst = tmp / "knowledge"
    shutil.copytree(root / "_common", dst / "_common")
    shutil.copytree(root / ".vectors", dst / ".vectors")  # no test waits for encoding
    for council in councils:
        shutil.copytree(root / council, dst / council)
        if check_knowledge(dst).knowledge is None:
            shutil.rmtree(dst / council)
    return dst


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
