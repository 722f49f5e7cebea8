"""A local fake of the LINE Messaging API (api.line.me and api-data.line.me): records every request in full, fails on demand.

It answers like LINE does: reply and push (200 with `sentMessages`; 400 when
a message breaks one of LINE's limits, or the reply token is `expired` or was
used already; 409 for a push whose X-Line-Retry-Key was accepted before), the
loading animation (202), and the rich-menu calls (create, list, delete, image
upload with LINE's format and size checks, the default menu). It keeps the
path, headers, body and answer of every request (any path), and checks every
JSON body against LINE's official OpenAPI schema (`tests/line/spec`), so
tests assert on what was really sent and that it conforms.

`fail(status, seconds=…)` / `fail(status, count=…)` makes sends fail for a
while (with Retry-After when given), `hang(seconds)` makes them stall.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.line.spec import SpecValidator

__all__ = ["FakeLineAPI", "Recorded", "limit_errors", "SPEC"]

EXPIRED = "expired"
REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
SPEC = SpecValidator()
IMAGE_MAX = 1024 * 1024  # rich-menu image: JPEG or PNG, at most 1 MB


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any
    raw: bytes
    errors: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # what the fake answered (None while it has not yet)
    at: float = field(default_factory=time.monotonic)  # when it arrived
    spec_errors: list[str] = field(default_factory=list)
    content_type: str = ""

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


@dataclass
class Failure:
    status: int
    until: float = float("inf")  # monotonic time
    count: int | None = None  # requests left to fail
    retry_after: float | None = None
    hang: float = 0.0  # seconds to stall before answering
    only: str | None = None  # just this path (REPLY or PUSH)
def image_errors(raw: bytes, content_type: str, size: dict | None) -> list[str]:
    """What LINE refuses in a rich-menu image: format, bytes, pixel size unlike the menu's."""
    from PIL import Image

    errors = []
    if content_type not in ("image/png", "image/jpeg"):
        errors.append(f"content type {content_type!r}")
    if len(raw) > IMAGE_MAX:
        errors.append(f"{len(raw)} bytes (1 MB allowed)")
    try:
        image = Image.open(io.BytesIO(raw))
        fmt, (w, h) = image.format, image.size
    except Exception as e:
        return [*errors, f"not an image ({type(e).__name__})"]
    if {"PNG": "image/png", "JPEG": "image/jpeg"}.get(fmt or "") != content_type:
        errors.append(f"{fmt} sent as {content_type}")
    if not (800 <= w <= 2500 and h >= 250 and w / h >= 1.45):
        errors.append(f"{w}x{h} outside LINE's rich-menu sizes")
    if size and (size.get("width"), size.get("height")) != (w, h):
        errors.append(f"{w}x{h} differs from the menu's {size}")
    return errors


class FakeLineAPI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._cond = threading.Condition()
        self.gate: threading.Event | None = None  # when set, replies wait for it (recorded first)
        self.menus: dict[str, dict] = {}  # rich menus by id, as LINE keeps them
        self.images: dict[str, bytes] = {}
        self.default_menu: str | None = None
        self._ids = itertools.count(1)
        self.failure: Failure | None = None
        self.used_tokens: set[str] = set()
        self.retry_keys: set[str] = set()

    # -- failing on demand --------------------------------------------------
    def fail(self, status: int = 500, *, seconds: float | None = None, count: int | None = None,
             retry_after: float | None = None, only: str | None = None) -> None:
        """Answer reply and push (or `only` one path) with `status` for `seconds` or `count` requests."""
        until = time.monotonic() + seconds if seconds is not None else float("inf")
        self.failure = Failure(status, until, count, retry_after, only=only)

    def hang(self, seconds: float, *, count: int | None = None, only: str | None = None) -> None:
        """Stall every send (or the next `count`) for `seconds`, then answer normally."""
        self.failure = Failure(200, float("inf"), count, hang=seconds, only=only)

    def heal(self) -> None:
        self.failure = None

    def _failing(self, path: str) -> Failure | None:
        f = self.failure
        if f is None or time.monotonic() >= f.until or f.count == 0 or f.only not in (None, path):
            return None
        if f.count is not None:
            f.count -= 1
        return f

    # -- the server -------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v2/bot/message/reply", self._reply, methods=["POST"]),
            Route("/v2/bot/message/push", self._push, methods=["POST"]),
            Route("/v2/bot/chat/loading/start", self._loading, methods=["POST"]),
            Route("/v2/bot/richmenu", self._menu_create, methods=["POST"]),
            Route("/v2/bot/richmenu/list", self._menu_list, methods=["GET"]),
            Route("/v2/bot/richmenu/{id}", self._menu_delete, methods=["DELETE"]),
            Route("/v2/bot/richmenu/{id}/content", self._menu_image, methods=["POST"]),
            Route("/v2/bot/user/all/richmenu/{id}", self._default_set, methods=["POST"]),
            Route("/v2/bot/user/all/richmenu", self._default_get, methods=["GET"]),
            Route("/{path:path}", self._other, methods=["GET", "POST", "PUT", "DELETE"]),
        ])

    async def _fault(self, rec: Recorded) -> JSONResponse | None:
        f = self._failing(rec.path)
        if f is None:
            return None
        if f.hang:
            await asyncio.sleep(f.hang)
            return None
        headers = {"Retry-After": str(int(f.retry_after))} if f.retry_after is not None else None
        return self._answer(rec, {"message": "fake failure"}, f.status, headers)

    def _answer(self, rec: Recorded, body: dict, status: int = 200, headers: dict | None = None) -> JSONResponse:
        with self._cond:
            rec.status = status
            self._cond.notify_all()
        return JSONResponse(body, status_code=status, headers=headers)

    async def _push(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        fault = await self._fault(rec)
        if fault is not None:
            return fault
        body = rec.body if isinstance(rec.body, dict) else {}
        key = request.headers.get("x-line-retry-key")
        with self._cond:
            repeated = key is not None and key in self.retry_keys
            if key is not None:
                self.retry_keys.add(key)
        if repeated:
            return self._answer(rec, {"message": "The retry key is already accepted"}, 409)
        rec.errors = limit_errors(body)
        if rec.errors or not body.get("to"):
            return self._answer(rec, {"message": "The request body has error(s)", "details": rec.errors}, 400)
        return self._answer(rec, {"sentMessages": [{"id": str(2000 + i), "quoteToken": f"p{i}"}
                                                   for i, _ in enumerate(body.get("messages", []))]})

    async def _record(self, request: Request) -> Recorded:
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0]
        try:
            body = json.loads(raw) if raw and content_type == "application/json" else None
        except ValueError:
            body = None
        rec = Recorded(request.method, request.url.path, request.headers.get("authorization"), body, raw,
                       headers=dict(request.headers), content_type=content_type)
        if content_type == "application/json":
            rec.spec_errors = SPEC.errors(request.method, request.url.path, body)
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()
        return rec

    async def _reply(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        gate = self.gate
        if gate is not None:
            await asyncio.to_thread(gate.wait, 10)
        fault = await self._fault(rec)
        if fault is not None:
            return fault
        body = rec.body if isinstance(rec.body, dict) else {}
        token = body.get("replyToken")
        rec.errors = limit_errors(body)
        if rec.errors:
            return self._answer(rec, {"message": "The request body has 1 error(s)", "details": rec.errors}, 400)
        with self._cond:
            used = token in self.used_tokens
            self.used_tokens.add(token)
        if token == EXPIRED or used:
            return self._answer(rec, {"message": "Invalid reply token"}, 400)
        sent = [{"id": str(1000 + i), "quoteToken": f"q{i}"} for i, _ in enumerate(body.get("messages", []))]
        return self._answer(rec, {"sentMessages": sent})

    async def _loading(self, request: Request) -> JSONResponse:
        await self._record(request)
        return JSONResponse({}, status_code=202)

    async def _menu_create(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        if rec.spec_errors or not isinstance(rec.body, dict):
            return JSONResponse({"message": "invalid rich menu", "details": rec.spec_errors}, status_code=400)
        menu_id = f"richmenu-{next(self._ids):032d}"
        self.menus[menu_id] = {"richMenuId": menu_id, **rec.body}
        return JSONResponse({"richMenuId": menu_id})

    async def _menu_list(self, request: Request) -> JSONResponse:
        await self._record(request)
        return JSONResponse({"richmenus": list(self.menus.values())})

    async def _menu_delete(self, request: Request) -> JSONResponse:
        await self._record(request)
        menu_id = request.path_params["id"]
        if self.menus.pop(menu_id, None) is None:
            return JSONResponse({"message": "Not found"}, status_code=404)
        self.images.pop(menu_id, None)
        if self.default_menu == menu_id:
            self.default_menu = None
        return JSONResponse({})

    async def _menu_image(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        menu = self.menus.get(request.path_params["id"])
        if menu is None:
            return JSONResponse({"message": "Not found"}, status_code=404)
        if request.path_params["id"] in self.images:  # LINE: an image cannot be replaced
            return JSONResponse({"message": "An image has already been uploaded"}, status_code=400)
        rec.errors = image_errors(rec.raw, rec.content_type, menu.get("size"))
        if rec.errors:
            return JSONResponse({"message": "invalid image", "details": rec.errors}, status_code=400)
        self.images[request.path_params["id"]] = rec.raw
        return JSONResponse({})

    async def _default_set(self, request: Request) -> JSONResponse:
        await self._record(request)
        menu_id = request.path_params["id"]
        if menu_id not in self.menus or menu_id not in self.images:  # LINE: a menu without an image is refused
            return JSONResponse({"message": "must upload richmenu image before applying it to user"},
                                status_code=400)
        self.default_menu = menu_id
        return JSONResponse({})

    async def _default_get(self, request: Request) -> Response:
        await self._record(request)
        if self.default_menu is None:
            return JSONResponse({"message": "no default rich menu"}, status_code=404)
        return JSONResponse({"richMenuId": self.default_menu})

    async def _other(self, request: Request) -> JSONResponse:
        rec = await self._record(request)
        return self._answer(rec, {"message": "Not found"}, 404)

    # -- for tests --------------------------------------------------------
    def clear(self) -> None:
        with self._cond:
            self.requests.clear()
        self.failure = None

    def delivered(self) -> list[Recorded]:
        """Replies and pushes LINE accepted (200): what residents really received."""
        with self._cond:
            return [r for r in self.requests if r.status == 200 and r.path in (REPLY, PUSH)]

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

    def on(self, path: str) -> list[Recorded]:
        with self._cond:
            return [r for r in self.requests if r.path == path]

    def wait_on(self, path: str, count: int = 1, *, timeout: float = 10.0) -> list[Recorded]:
        """At least `count` requests to `path`, or AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := [r for r in self.requests if r.path == path]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests to {path}, got {[r.path for r in self.requests]}")
                self._cond.wait(left)
            return found

    def nonconforming(self) -> list[tuple[str, list[str]]]:
        """Every recorded JSON body that LINE's OpenAPI schema refuses, with why."""
        with self._cond:
            return [(f"{r.method} {r.path}", r.spec_errors) for r in self.requests if r.spec_errors]
