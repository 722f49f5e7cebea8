"""The webhook's duties to the platform: signatures, size, verification, speed, once-only, many councils."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time

import httpx

from adapters.app import create_app
from adapters.config import Config
from adapters.line.delivery import retry_key
from adapters.runtime import Runtime
from tests.line import webhook as wh
from tests.line.conftest import CHANNELS
from tests.support.server import serve_app


def _refused(line, fake, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    line.settle()
    assert line.runtime.background == set()
    assert fake.requests == []  # nothing processed, nothing sent


def test_missing_signature_is_refused_and_nothing_is_sent(line, fake_line):
    _refused(line, fake_line, line.post("tomakomai", wh.body(wh.text("給食サービス")), signed=False), 400)


def test_wrong_signature_is_refused(line, fake_line):
    raw = wh.body(wh.text("給食サービス"))
    _refused(line, fake_line, line.post("tomakomai", raw, signature="c2lnbmF0dXJl"), 401)
    _refused(line, fake_line, line.post("tomakomai", raw, secret=CHANNELS["kiyose"][0]), 401)  # another council's


def test_tampered_body_is_refused(line, fake_line):
    raw = wh.body(wh.text("給食サービス"))
    signature = wh.sign(CHANNELS["tomakomai"][0], raw)
    tampered = raw.replace("給食".encode(), "配食".encode())
    assert tampered != raw
    _refused(line, fake_line, line.post("tomakomai", tampered, signature=signature), 401)
    _refused(line, fake_line, line.post("tomakomai", raw + b" ", signature=signature), 401)


def test_signed_garbage_is_a_bad_request(line, fake_line):
    _refused(line, fake_line, line.post("tomakomai", b"{not json"), 400)
    _refused(line, fake_line, line.post("tomakomai", b'{"destination": "U1"}'), 400)


def test_body_over_the_limit_gets_413(line, fake_line):
    limit = line.runtime.config.max_body
    raw = wh.body(wh.text("あ" * (limit // 3 + 10)))
    assert len(raw) > limit
    _refused(line, fake_line, line.post("tomakomai", raw), 413)
    chunked = line.http.post(f"{line.url}/line/tomakomai", content=iter([raw[:1000], raw[1000:]]),
                             headers={"x-line-signature": wh.sign(CHANNELS["tomakomai"][0], raw)})
    assert "content-length" not in chunked.request.headers
    _refused(line, fake_line, chunked, 413)  # no Content-Length to trust: the stream is cut off


def test_console_verification_request_gets_200(line, fake_line):
    raw = json.dumps({"destination": wh.BOT_ID, "events": []}).encode()
    r = line.post("kiyose", raw)
    assert r.status_code == 200
    line.settle()
    assert fake_line.requests == []


def test_webhook_answers_before_the_reply_is_sent(line, fake_line):
    """The reply goes out from a background task: the webhook does not wait for LINE's API."""
    fake_line.gate = threading.Event()  # the fake holds every reply until released
    r = line.post("tomakomai", wh.body(wh.text("給食サビース")))
    assert r.status_code == 200  # answered while the fake still holds the reply
    [held] = fake_line.wait_for(1)  # the reply is in flight, and the webhook already answered
    assert held.path == "/v2/bot/message/reply"
    assert line.runtime.background, "the reply task should still be waiting on the API"
    fake_line.gate.set()
    line.settle()


def test_duplicate_event_is_answered_once(line, fake_line):
    event = wh.text("給食サビース")
    line.send("tomakomai", event)
    line.send("tomakomai", {**event, "deliveryContext": {"isRedelivery": True}})  # LINE's redelivery
    line.send("tomakomai", event, event)  # the same event twice in one body
    line.settle()
    replies = fake_line.replies()
    assert len(replies) == 1
    assert replies[0].body["replyToken"] == event["replyToken"]


def test_several_events_in_one_body_each_get_their_reply(line, fake_line):
    a, b = wh.text("給食サビース"), wh.media("sticker")
    line.send("tomakomai", a, b)
    fake_line.wait_for(2)
    line.settle()
    assert sorted(r.body["replyToken"] for r in fake_line.replies()) == sorted([a["replyToken"], b["replyToken"]])


def test_two_councils_each_answer_with_their_own_knowledge_and_token(line, fake_line):
    to_tomakomai, to_kiyose = wh.text("かぎ預かり"), wh.text("かぎ預かり")
    line.send("tomakomai", to_tomakomai)
    line.send("kiyose", to_kiyose)
    fake_line.wait_for(2)
    line.settle()
    by_token = {r.body["replyToken"]: r for r in fake_line.replies()}
    tomakomai, kiyose = by_token[to_tomakomai["replyToken"]], by_token[to_kiyose["replyToken"]]
    assert tomakomai.authorization == "Bearer token-tomakomai"
    assert kiyose.authorization == "Bearer token-kiyose"
    assert tomakomai.messages[0]["type"] == "flex"  # tomakomai runs かぎ預かり
    assert tomakomai.messages[0]["altText"].startswith("【かぎ預かり】")
    assert kiyose.messages[0]["text"].startswith("かぎ預かりは清瀬市社協では行っていません。")  # kiyose does not


def test_expired_reply_token_is_pushed_instead_with_a_retry_key(line, fake_line):
    event = wh.text("給食サビース", event_id="01JEXPIRED0000000000000000") | {"replyToken": "expired"}
    line.send("tomakomai", event)
    line.settle()
    delivered = fake_line.delivered()
    assert [r.path for r in delivered] == ["/v2/bot/message/push"]
    push = delivered[0]
    assert push.body["to"] == wh.USER_ID and push.messages and push.authorization == "Bearer token-tomakomai"
    assert push.headers["x-line-retry-key"] == retry_key("tomakomai", event["webhookEventId"])
    metrics = line.http.get(f"{line.url}/metrics").text
    assert 'madoguchi_line_events_total{status="pushed",type="message"}' in metrics


def test_metrics_count_webhooks_by_outcome(line, fake_line):
    line.post("kiyose", wh.body(wh.text("x")), signed=False)
    line.send("kiyose", wh.text("ボランティア"))
    line.settle()
    metrics = line.http.get(f"{line.url}/metrics").text
    for needle in ('madoguchi_requests_total{channel="line",status="ok"}',
                   'madoguchi_requests_total{channel="line",status="missing_signature"}',
                   'madoguchi_webhook_seconds_count{channel="line"}',
                   'madoguchi_answers_total{channel="line",council="kiyose",kind='):
        assert needle in metrics, needle
    cpu = re.search(r'^madoguchi_answer_cpu_seconds_total\{channel="line"\} (\S+)$', metrics, re.M)
    assert cpu is not None and float(cpu.group(1)) > 0  # the core's CPU, apart from the web stack's


def test_only_councils_with_credentials_get_a_route(line, fake_line, caplog):
    r = line.post("komoro", wh.body(wh.text("給食サービス")), secret="anything")
    assert r.status_code == 404
    with caplog.at_level(logging.INFO, logger="madoguchi.line"):
        config = Config.from_env(sorted(line.runtime.live.assistant.knowledge.councils), {
            "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "MADOGUCHI_COUNCIL": "komoro"})
        app = create_app(Runtime(live=line.runtime.live, config=config))
    paths = {getattr(r, "path", "") for r in app.routes}
    assert "/line/komoro" in paths and "/line/tomakomai" not in paths  # the one-council form works too
    assert any("no LINE channel for tomakomai" in rec.getMessage() for rec in caplog.records)


def test_unreachable_line_api_is_retried_without_a_traceback(line, caplog, tmp_path):
    """A closed port on 127.0.0.1 stands in for api.line.me being down: the event stays in the outbox."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    secret, token = CHANNELS["tomakomai"]
    config = Config.from_env(["tomakomai"], {"LINE_CHANNEL_SECRET__TOMAKOMAI": secret,
                                             "LINE_CHANNEL_ACCESS_TOKEN__TOMAKOMAI": token,
                                             "LINE_API_ENDPOINT": dead, "MADOGUCHI_DATA_DIR": str(tmp_path)})
    runtime = Runtime(live=line.runtime.live, config=config)
    with caplog.at_level(logging.INFO, logger="madoguchi.line"), serve_app(create_app(runtime)) as url:
        raw = wh.body(wh.text("給食サビース"))
        r = line.http.post(f"{url}/line/tomakomai", content=raw, headers={"x-line-signature": wh.sign(secret, raw)})
        assert r.status_code == 200
        deadline = time.monotonic() + 10
        while runtime.metrics.value("madoguchi_line_retries_total", status="timeout") < 2:
            assert time.monotonic() < deadline, runtime.metrics.render()
            time.sleep(0.01)
        assert line.http.get(f"{url}/healthz").status_code == 200
        assert [row["state"] for row in runtime.outbox.rows()] == ["pending"]  # kept, not lost
    failures = [r for r in caplog.records if r.name == "madoguchi.line" and "ClientConnectorError" in r.getMessage()]
    assert len(failures) >= 2 and all(r.exc_info is None for r in failures)
