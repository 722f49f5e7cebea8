"""`serve` answers /healthz before the channel SDKs are imported; early webhooks wait, none is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from adapters.app import create_app
from adapters.deferred import DeferredRoutes
from adapters.serve import build_runtime
from tests.ops.support import FakeLine, knowledge_copy, sign, text_event, wait_for, webhook
from tests.support.server import serve_app


def _gated_app(gate: threading.Event, built: list[str]) -> tuple[Starlette, DeferredRoutes]:
    def build() -> list[Route]:
        gate.wait(10)
        built.append("routes")
        return [Route("/line/tomakomai", lambda r: PlainTextResponse("tomakomai"), methods=["POST"])]

    later = DeferredRoutes(build)
    later.start()
    app = Starlette(routes=[Route("/healthz", lambda r: PlainTextResponse("ok")), Route("/line/{council}", later)])
    return app, later


def test_requests_wait_for_the_routes_while_health_answers_at_once() -> None:
    gate, built = threading.Event(), []
    app, later = _gated_app(gate, built)
    with serve_app(app) as url, ThreadPoolExecutor(2) as pool:
        assert httpx.get(f"{url}/healthz").status_code == 200 and not later.ready
        early = pool.submit(httpx.post, f"{url}/line/tomakomai", timeout=10)
        time.sleep(0.2)
        assert not early.done() and not built  # waiting, not refused
        gate.set()
        assert early.result().status_code == 200 and early.result().text == "tomakomai"
        assert later.ready and built == ["routes"]  # built once
        assert httpx.post(f"{url}/line/kiyose").status_code == 404  # the real routes decide
        assert httpx.get(f"{url}/line/tomakomai").status_code == 405
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_routes_that_cannot_be_built_answer_503_and_health_stays_up() -> None:
    def broken() -> list[Route]:
        raise ImportError("no SDK here")

    later = DeferredRoutes(broken)
    app = Starlette(routes=[Route("/healthz", lambda r: PlainTextResponse("ok")), Route("/line/{council}", later)])
    with serve_app(app) as url:
        assert httpx.post(f"{url}/line/tomakomai").status_code == 503
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_served_app_defers_line_and_slack_and_answers_both(tmp_path) -> None:
    secret, token, slack_secret = "defer-line-secret-0042", "defer-line-token-0042", "defer-slack-secret-0042"
    fake = FakeLine()
    with serve_app(fake.app()) as fake_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": token,
               "LINE_API_ENDPOINT": fake_url, "SLACK_SIGNING_SECRET": slack_secret, "SLACK_BOT_TOKEN": "xoxb-1-2-x",
               "SLACK_API_URL": f"{fake_url}/api/", "MADOGUCHI_DATA_DIR": str(tmp_path / "data")}
        runtime = build_runtime(knowledge=knowledge_copy(tmp_path), env=env)
        app = create_app(runtime, defer_channels=True)
        assert {getattr(r, "path", "") for r in app.routes} >= {"/healthz", "/line/{council}", "/slack/events"}
        with serve_app(app) as url:
            body = webhook(text_event("かぎを預けたい"))
            r = httpx.post(f"{url}/line/tomakomai", content=body,
                           headers={"content-type": "application/json", "x-line-signature": sign(secret, body)})
            assert r.status_code == 200
            assert wait_for(lambda: len(fake.replies()) == 1)
            assert httpx.post(f"{url}/line/kiyose", content=body,
                              headers={"x-line-signature": sign(secret, body)}).status_code == 404
            challenge = json.dumps({"type": "url_verification", "challenge": "c-123"}).encode()
            ts = str(int(time.time()))
            mac = hmac.new(slack_secret.encode(), f"v0:{ts}:".encode() + challenge, hashlib.sha256).hexdigest()
            r = httpx.post(f"{url}/slack/events", content=challenge,
                           headers={"content-type": "application/json", "x-slack-request-timestamp": ts,
                                    "x-slack-signature": f"v0={mac}"})
            assert r.status_code == 200 and "c-123" in r.text
