"""A local fake of the Slack Web API (and Socket Mode) on 127.0.0.1, port 0.

Records every request in full (method, headers, raw and parsed body):
chat.postMessage, chat.postEphemeral, chat.update, views.publish, views.open,
views.update, auth.test, apps.connections.open, response_url posts, and Socket Mode acknowledgements. Runs aiohttp on its own
event loop in a thread, so tests wait on it with a condition, never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str  # "chat.postMessage", "respond/<name>", "socket.ack", …
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic)  # when it arrived


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    for key in ("blocks", "attachments", "view"):  # the SDK sends these JSON-encoded in forms
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    return form


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.port = 0
        self._ts = 0
        self._views = 0
        self.post_failures: list[tuple[int, str | None]] = []  # (status, Retry-After) for the next posts

    def fail_posts(self, status: int, *, count: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `count` chat.postMessage calls with `status` (429 with Retry-After, 5xx)."""
        self.post_failures = [(status, str(retry_after) if retry_after is not None else None)] * count

    # -- URLs --------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # -- recording -----------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def find(self, pred: Callable[[Call], bool]) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if pred(c)]

    def wait(self, pred: Callable[[Call], bool], *, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The matching calls once at least `count` exist; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if pred(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} matching call(s), got {len(found)}; calls: {names}")
                self._cond.wait(left)

    # -- handlers ------------------------------------------------------------
    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        body = _parse(raw, request.headers.get("content-type", ""))
        self._record(Call(method, dict(request.headers), raw, body))
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://fake.slack.com/", "team": "fake", "user": "madoguchi",
                                      "team_id": "T0001", "user_id": BOT_USER, "bot_id": "B0001"})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if method == "chat.postMessage" and self.post_failures:
            status, retry_after = self.post_failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.json_response({"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"},
                                     status=status, headers=headers)
        if method == "chat.postMessage":
            ts = self._next_ts()
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts,
                                      "message": {"ts": ts, "text": body.get("text", "")}})
        if method in ("views.open", "views.update", "views.publish"):
            view = dict(body.get("view") or {}) if isinstance(body.get("view"), dict) else {}
            self._views += 1
            view_id = body.get("view_id") or f"V{self._views:06d}"
            return web.json_response({"ok": True, "view": {**view, "id": view_id}})
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": self._next_ts()})
        return web.json_response({"ok": True})

    async def _respond(self, request: web.Request) -> web.Response:
        raw = await request.read()
        call = Call(f"respond/{request.match_info['name']}", dict(request.headers), raw,
                    _parse(raw, request.headers.get("content-type", "")))
        self._record(call)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._record(Call("socket.connect", dict(request.headers), b""))
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self._record(Call("socket.ack", {}, msg.data.encode(), json.loads(msg.data)))
        self._sockets.remove(ws)
        return ws

    def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope to every connected client."""

        async def push() -> None:
            for ws in list(self._sockets):
                await ws.send_json(envelope)

        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)

    # -- lifecycle -------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[FakeSlack]:
        started = threading.Event()
        stop: list[asyncio.Event] = []

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/api/{method}", self._api)
            app.router.add_post("/respond/{name}", self._respond)
            app.router.add_get("/socket", self._socket)
            runner = web.AppRunner(app, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = runner.addresses[0][1]
            self._loop = asyncio.get_running_loop()
            stop.append(asyncio.Event())
            started.set()
            await stop[0].wait()
            for ws in list(self._sockets):
                await ws.close()
            await runner.cleanup()

        thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        thread.start()
        if not started.wait(10):
            raise RuntimeError("fake Slack did not start")
        try:
            yield self
        finally:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(stop[0].set)
            thread.join(10)
