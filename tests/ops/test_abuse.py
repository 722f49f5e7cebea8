"""Abuse over real HTTP: malformed, mistyped, oversized and fuzzed bodies get clean 4xx,
and nothing secret (tokens, signing secrets, a resident's phone number) reaches the logs."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.app import create_app
from adapters.logging import JsonFormatter, Redactor, config_secrets
from adapters.serve import build_runtime
from tests.ops.support import knowledge_copy, sign, text_event, wait_for, webhook
from tests.support.server import serve_app

LINE_SECRET = "abuse-line-channel-secret-7d41c0"
LINE_TOKEN = "abuse-line-access-token-Zq81kL02"
SLACK_SECRET = "abuse-slack-signing-secret-93be"
SLACK_TOKEN = "xoxb-1111-2222-abuseSlackBotToken"
PHONE = "090-8765-4321"


class FakeApis:
    """LINE refuses every reply and echoes the Authorization header back (as some proxies do);
    Slack's auth.test succeeds. Full request bodies are kept."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    def app(self) -> Starlette:
        async def line_reply(request: Request) -> JSONResponse:
            self.bodies.append((request.url.path, await request.body()))
            return JSONResponse({"message": f"Authentication failed: {request.headers.get('authorization')}"},
                                status_code=401)

        async def slack(request: Request) -> JSONResponse:
            self.bodies.append((request.url.path, await request.body()))
            return JSONResponse({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "ts": "1.0",
                                 "channel": "C1"})

        return Starlette(routes=[Route("/v2/bot/message/reply", line_reply, methods=["POST"]),
                                 Route("/api/{method}", slack, methods=["POST"])])


@dataclass
class Server:
    url: str
    runtime: object
    http: httpx.Client
    logs: io.StringIO
    fake: FakeApis

    def line(self, body: bytes, *, signature: str | None = "sign", content_type: str = "application/json"):
        headers = {"content-type": content_type}
        if signature == "sign":
            signature = sign(LINE_SECRET, body)
        if signature is not None:
            headers["x-line-signature"] = signature
        return self.http.post(f"{self.url}/line/tomakomai", content=body, headers=headers)

    def slack(self, body: bytes, *, content_type: str = "application/json", signed: bool = True):
        ts = str(int(time.time()))
        headers = {"content-type": content_type, "x-slack-request-timestamp": ts}
        if signed:
            base = f"v0:{ts}:".encode() + body
            headers["x-slack-signature"] = "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("abuse")
    fake = FakeApis()
    logs = io.StringIO()
    with serve_app(fake.app()) as fake_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": LINE_SECRET,
               "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_ENDPOINT": fake_url,
               "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": SLACK_TOKEN,
               "SLACK_API_URL": f"{fake_url}/api/", "MADOGUCHI_DATA_DIR": str(tmp / "data")}
        runtime = build_runtime(knowledge=knowledge_copy(tmp), env=env, stores=True)
        handler = logging.StreamHandler(logs)
        handler.setFormatter(JsonFormatter(Redactor(config_secrets(runtime.config))))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)  # the SDKs' debug output must be clean too
        try:
            with serve_app(create_app(runtime)) as url, httpx.Client(timeout=10) as http:
                yield Server(url, runtime, http, logs, fake)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            runtime.querylog.close()


def test_line_rejects_malformed_requests_cleanly(server: Server) -> None:
    cases = {
        "not json": (b"{not json", "sign", "application/json"),
        "json, not a webhook": (b'[1, 2, 3]', "sign", "application/json"),
        "events not a list": (b'{"destination": "U1", "events": "x"}', "sign", "application/json"),
        "wrong content type": (b"destination=U1&events=", "sign", "application/x-www-form-urlencoded"),
        "not utf-8": (b"\xff\xfe\x00{", "sign", "application/json"),
        "no signature": (webhook(text_event("こんにちは")), None, "application/json"),
        "bad signature": (webhook(text_event("こんにちは")), "bm90IGEgc2lnbmF0dXJl", "application/json"),
        "oversized": (b'{"events": [' + b" " * (server.runtime.config.max_body + 10) + b"]}", "sign",
                      "application/json"),
    }
    for name, (body, signature, ctype) in cases.items():
        r = server.line(body, signature=signature, content_type=ctype)
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
        assert "Traceback" not in r.text and LINE_SECRET not in r.text
    text = server.runtime.metrics.render()
    assert 'madoguchi_requests_total{channel="line",status="bad_signature"}' in text
    assert 'madoguchi_requests_total{channel="line",status="too_large"}' in text


@pytest.mark.parametrize(("body", "ctype", "signed"), [
    pytest.param(b'{"type": "event_callback"}', "application/json", False, id="unsigned"),
    pytest.param(b"\x00\x01\x02", "application/octet-stream", True, id="wrong-content-type"),
    pytest.param(b"%%%", "application/x-www-form-urlencoded", False, id="unsigned-form-junk"),
    pytest.param(None, "application/json", True, id="oversized"),
    pytest.param(b"{not json", "application/json", False, id="unsigned-not-json"),
    pytest.param(b"{not json", "application/json", True, id="signed-not-json"),
    pytest.param(b"[1, 2]", "application/json", True, id="signed-json-array"),
    pytest.param(b"payload=%7Bnot", "application/x-www-form-urlencoded", True, id="signed-bad-payload"),
])
def test_slack_rejects_malformed_requests_cleanly(server: Server, body: bytes | None, ctype: str,
                                                  signed: bool) -> None:
    if body is None:
        body = b'{"type": "event_callback", "x": "' + b"a" * (server.runtime.config.max_body + 10) + b'"}'
    with httpx.Client(timeout=10) as fresh:  # a 500 may close the connection: do not poison the shared one
        server.http, shared = fresh, server.http
        try:
            r = server.slack(body, content_type=ctype, signed=signed)
        finally:
            server.http = shared
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert SLACK_SECRET not in r.text and SLACK_TOKEN not in r.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=2000),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                 lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=10), kids, max_size=5),
                 max_leaves=30).map(lambda v: json.dumps({"destination": "U1", "events": [v]}).encode()),
))
def test_fuzzed_signed_line_bodies_never_cause_a_server_error(server: Server, body: bytes) -> None:
    r = server.line(body)
    assert r.status_code in (200, 400, 401, 413), (body[:200], r.status_code, r.text[:200])


def test_no_secret_or_phone_number_in_logs(server: Server) -> None:
    """Drive every path that logs (a reply LINE refuses with the token echoed back, bad
    signatures, Slack failures) and look for the secrets and the number in all log lines."""
    server.logs.truncate(0)
    server.logs.seek(0)
    for text in (f"電話は{PHONE}です、折り返してください", "かぎを預かってほしい"):
        assert server.line(webhook(text_event(text))).status_code == 200
    server.line(webhook(text_event("x")), signature=sign("wrong-secret", b"x"))
    server.slack(b'{"type": "event_callback"}', signed=False)
    event = {"type": "event_callback", "event_id": "Ev1", "team_id": "T1", "api_app_id": "A1",
             "event": {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
                       "text": f"電話 {PHONE}", "ts": "1.0"}}
    server.slack(json.dumps(event).encode())
    assert wait_for(lambda: sum(p.startswith("/v2/") for p, _ in server.fake.bodies) >= 2, timeout=15)
    assert wait_for(lambda: not server.runtime.background, timeout=15)
    logging.getLogger("madoguchi.test").warning("config %r token=%s", server.runtime.config, LINE_TOKEN)
    lines = [line for line in server.logs.getvalue().splitlines() if line.strip()]
    assert len(lines) >= 3
    for line in lines:
        json.loads(line)  # one JSON object per line
    text = server.logs.getvalue()
    for secret in (LINE_SECRET, LINE_TOKEN, SLACK_SECRET, SLACK_TOKEN, PHONE, "8765-4321"):
        assert secret not in text, secret
    # The refused reply was logged (with the echoed token redacted): the path really ran.
    assert any("401" in line and "***" in line for line in lines)


def _slack_raw(server: Server, body: bytes, *, ts: str, content_type: str = "application/json",
               signed: bool = True) -> httpx.Response:
    headers = {"content-type": content_type, "x-slack-request-timestamp": ts}
    if signed:
        base = f"v0:{ts}:".encode() + body
        headers["x-slack-signature"] = "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return server.http.post(f"{server.url}/slack/events", content=body, headers=headers)


@pytest.mark.parametrize("ts", ["abc", "", "1e9", "NaN", "-1", "+1", "1.5", "0x10", "9" * 40])
def test_slack_malformed_timestamps_get_401_without_a_traceback(server: Server, ts: str) -> None:
    server.logs.truncate(0)
    server.logs.seek(0)
    r = _slack_raw(server, b'{"type": "event_callback"}', ts=ts)
    assert r.status_code == 401, (ts, r.status_code)
    assert "Traceback" not in server.logs.getvalue()


_NOW = lambda: str(int(time.time()))  # noqa: E731


@pytest.mark.parametrize(("body", "ctype"), [
    pytest.param(b"\xff\xfe{\x00", "application/json", id="invalid-utf8"),
    pytest.param(b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}", "application/json", id="nested-1000"),
    pytest.param(b'{"a": ' + b'{"b": ' * 100 + b"1" + b"}" * 100 + b"}", "application/json", id="nested-100"),
    pytest.param(b'{"type": "event_callback", "event_id": "Ev9", "event": null}', "application/json",
                 id="event-null"),
    pytest.param(b'{"type": "event_callback", "event_id": "Ev8", "event": [1]}', "application/json",
                 id="event-list"),
    pytest.param(b'{"type": "event_callback", "event_id": "Ev7", "event": {"type": "app_mention", "text": 5,'
                 b' "channel": "C1", "user": "U1", "ts": "1.1"}}', "application/json", id="text-5"),
    pytest.param(b'{"type": "event_callback", "event_id": "Ev6", "event": {"type": "message", "channel": 5,'
                 b' "channel_type": "im", "text": "x", "user": "U1", "ts": "1.1"}}', "application/json",
                 id="channel-5"),
    pytest.param(b"payload=", "application/x-www-form-urlencoded", id="empty-payload"),
    pytest.param(b"payload=%5B%5D", "application/x-www-form-urlencoded", id="payload-list"),
    pytest.param(b'payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A5%7D',
                 "application/x-www-form-urlencoded", id="actions-5"),
])
def test_signed_odd_slack_bodies_get_4xx_without_a_traceback(server: Server, body: bytes, ctype: str) -> None:
    server.logs.truncate(0)
    server.logs.seek(0)
    r = _slack_raw(server, body, ts=_NOW(), content_type=ctype)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    time.sleep(0.05)  # a listener failing after the ack would log now
    assert "Traceback" not in server.logs.getvalue() and "Failed to run" not in server.logs.getvalue()


def test_lone_surrogate_in_a_line_text_is_answered(server: Server) -> None:
    event = text_event("x")
    raw = webhook(event).replace(b'"text": "x"', b'"text": "\\ud800\\u8eca\\u3044\\u3059"')
    before = len(server.fake.bodies)
    assert server.line(raw).status_code == 200
    assert wait_for(lambda: any(json.loads(b).get("replyToken") == event["replyToken"]
                                for _, b in server.fake.bodies[before:]))
    sent = next(json.loads(b) for _, b in server.fake.bodies[before:]
                if json.loads(b).get("replyToken") == event["replyToken"])
    assert sent["messages"], sent


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "event", "text", "channel", "user", "ts", "payload", "actions", "value", "block_id",
         "container", "message", "event_id", "channel_type", "x"]), kids, max_size=5),
    max_leaves=25)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_json_values, form=st.booleans(), ts=st.one_of(st.just("now"), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=12)),
       signed=st.booleans())
def test_fuzzed_slack_requests_never_cause_a_server_error(server: Server, value: object, form: bool, ts: str,
                                                         signed: bool) -> None:
    from urllib.parse import urlencode

    data = json.dumps({"type": "event_callback", "event_id": f"Ev{time.monotonic_ns()}", "event": value}
                      if not form else value)
    body = urlencode({"payload": data}).encode() if form else data.encode()
    ctype = "application/x-www-form-urlencoded" if form else "application/json"
    r = _slack_raw(server, body, ts=_NOW() if ts == "now" else ts, content_type=ctype, signed=signed)
    assert r.status_code < 500, (body[:200], r.status_code, r.text[:200])
