"""Delivery from the outbox over real HTTP: a fake Messaging API that fails on demand
(500s for a while, 429 with Retry-After, hung calls) and every event still reaches
the resident exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from adapters.app import create_app
from adapters.config import Config
from adapters.line.delivery import retry_key
from adapters.runtime import Runtime
from tests.line import webhook as wh
from tests.line.conftest import CHANNELS, LineServer, MemoryQueryLog
from tests.line.fake_api import PUSH, REPLY, FakeLineAPI
from tests.support.server import serve_app


@contextmanager
def server(live, fake: FakeLineAPI, tmp_path, *, slots: int = 16, **env: str) -> Iterator[LineServer]:
    secret, token = CHANNELS["tomakomai"]
    values = {"LINE_API_ENDPOINT": fake.url, "MADOGUCHI_DATA_DIR": str(tmp_path),
              "LINE_CHANNEL_SECRET__TOMAKOMAI": secret, "LINE_CHANNEL_ACCESS_TOKEN__TOMAKOMAI": token, **env}
    config = Config.from_env(sorted(live.assistant.knowledge.councils), values)
    runtime = Runtime(live=live, config=config, querylog=MemoryQueryLog(), max_background=slots)
    with serve_app(create_app(runtime)) as url, httpx.Client(timeout=10) as http:
        yield LineServer(url, runtime, runtime.querylog, http)


@pytest.fixture()
def fake(fake_line: FakeLineAPI) -> Iterator[FakeLineAPI]:
    fake_line.clear()
    yield fake_line
    fake_line.heal()


def events(n: int) -> list[dict]:
    return [wh.text("給食サービス", source={"type": "user", "userId": f"U{i:032x}"}) for i in range(n)]


def delivered_once(fake: FakeLineAPI, sent: list[dict]) -> None:
    """Each event reached its resident exactly once (a reply with its token, or a push to its user)."""
    got = Counter()
    for r in fake.delivered():
        got[r.body["replyToken"] if r.path == REPLY else r.body["to"]] += 1
    for e in sent:
        assert got[e["replyToken"]] + got[e["source"]["userId"]] == 1, (e["webhookEventId"], got)


def refused_each_once(fake: FakeLineAPI, sent: list[dict], *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    tokens = {e["replyToken"] for e in sent}
    while not tokens <= {r.body["replyToken"] for r in fake.requests if r.path == REPLY and r.status == 500}:
        assert time.monotonic() < deadline, "not every event was tried while LINE failed"
        time.sleep(0.05)


def test_five_hundreds_for_a_while_then_every_event_once(live, fake, tmp_path):
    with server(live, fake, tmp_path) as line:
        fake.fail(500)
        sent = events(12)
        for e in sent:
            line.send("tomakomai", e)
        refused_each_once(fake, sent)  # a while of 500s, however slowly a loaded machine answers
        fake.heal()
        line.settle(timeout=20)
        delivered_once(fake, sent)
        assert sum(r.status == 500 for r in fake.requests) >= 12  # each was refused at least once
        assert line.runtime.metrics.value("madoguchi_line_retries_total", status="500") >= 12
        assert all(r.path == REPLY for r in fake.delivered())  # recovered well within the token's life


def test_429_retry_after_is_honoured(live, fake, tmp_path):
    with server(live, fake, tmp_path) as line:
        fake.fail(429, count=1, retry_after=2)
        event = events(1)[0]
        line.send("tomakomai", event)
        line.settle(timeout=15)
        delivered_once(fake, [event])
        first, second = [r for r in fake.requests if r.path == REPLY][:2]
        assert first.status == 429 and second.status == 200
        assert len([r for r in fake.requests if r.path == REPLY]) == 2
        # the second call came no sooner than Retry-After (timestamps taken by the fake as requests arrive)
        assert second.at - first.at >= 1.9, second.at - first.at


def test_a_hung_call_times_out_and_holds_up_nobody(live, fake, tmp_path):
    with server(live, fake, tmp_path, MADOGUCHI_LINE_TIMEOUT="3") as line:
        fake.hang(4.0, count=1)
        stuck, *others = events(6)
        line.send("tomakomai", stuck)
        time.sleep(0.1)
        started = time.monotonic()
        for e in others:
            line.send("tomakomai", e)
        tokens = {e["replyToken"] for e in others}
        while not tokens <= {r.body["replyToken"] for r in fake.delivered() if r.path == REPLY}:
            # under the call's 3 s timeout: had they waited behind it, they could not be here yet
            assert time.monotonic() - started < 2.5, "replies waited behind the hung call"
            time.sleep(0.01)
        line.settle(timeout=15)
        time.sleep(2.0)  # the hung call ends now: LINE took its token, so nothing more may arrive
        delivered_once(fake, [stuck, *others])


def test_token_outlasted_by_retries_becomes_one_push_with_a_retry_key(live, fake, tmp_path):
    with server(live, fake, tmp_path, MADOGUCHI_REPLY_WINDOW="1", MADOGUCHI_LINE_TIMEOUT="0.5") as line:
        fake.fail(503, seconds=1.5)
        event = events(1)[0]
        line.send("tomakomai", event)
        line.settle(timeout=15)
        delivered_once(fake, [event])
        push = fake.delivered()[0]
        assert push.path == PUSH and push.body["to"] == event["source"]["userId"]
        assert push.headers["x-line-retry-key"] == retry_key("tomakomai", event["webhookEventId"])


def test_a_push_whose_answer_was_lost_is_not_sent_twice(live, fake, tmp_path):
    """The push reaches LINE but its answer never comes back (hang past the timeout): the retry
    carries the same X-Line-Retry-Key, LINE says 409, and the resident has one message."""
    with server(live, fake, tmp_path, MADOGUCHI_LINE_TIMEOUT="0.4") as line:
        event = events(1)[0] | {"replyToken": "expired"}
        fake.hang(0.8, count=1, only=PUSH)
        line.send("tomakomai", event)
        line.settle(timeout=15)
        pushes = [r for r in fake.requests if r.path == PUSH]
        time.sleep(0.5)  # the hung push has surely been answered by now
        assert sorted(r.status for r in pushes) == [200, 409]
        assert len(fake.delivered()) == 1
        assert line.runtime.metrics.value("madoguchi_line_events_total", type="message", status="pushed") == 1


def test_past_the_bound_the_webhook_answers_503_so_that_line_redelivers(live, fake, tmp_path):
    import threading

    with server(live, fake, tmp_path, MADOGUCHI_OUTBOX_MAX="3") as line:
        fake.gate = threading.Event()  # LINE stalls: nothing is delivered meanwhile
        try:
            statuses = [line.post("tomakomai", wh.body(e)).status_code for e in events(5)]
        finally:
            fake.gate.set()
            fake.gate = None
        assert statuses == [200, 200, 200, 503, 503]
        line.settle(timeout=15)
        assert len(fake.delivered()) == 3
        assert line.runtime.metrics.value("madoguchi_line_refused_total", reason="full") == 2


def test_events_beyond_the_free_slots_wait_in_the_outbox_and_are_each_answered_once(live, fake, tmp_path):
    """The webhook leases only as many new rows as there are free slots; the dispatcher takes the
    rest as slots free, so no more than the bound are ever being sent at once."""
    import threading

    with server(live, fake, tmp_path, slots=3) as line:
        fake.gate = threading.Event()  # LINE stalls: the first answers hold their slots
        sent = events(7)
        try:
            assert [line.post("tomakomai", wh.body(e)).status_code for e in sent] == [200] * 7
            fake.wait_for(3)
            time.sleep(0.3)
            assert len(fake.requests) == 3  # the other four wait in the outbox
        finally:
            fake.gate.set()
            fake.gate = None
        line.settle(timeout=15)
        delivered_once(fake, sent)


def test_delivered_rows_keep_no_text_and_no_user_id(live, fake, tmp_path):
    with server(live, fake, tmp_path) as line:
        sent = events(3)
        for e in sent:
            line.send("tomakomai", e)
        line.send("tomakomai", sent[0])  # a redelivery: recognised, not answered again
        line.settle()
        time.sleep(0.7)  # one idle poll: the WAL is checkpointed and truncated
        delivered_once(fake, sent)
        rows = line.runtime.outbox.rows()
        assert [(r["state"], r["payload"], r["outcome"]) for r in rows] == [("done", None, "replied")] * 3
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.sqlite3*"))
        for e in sent:
            assert e["source"]["userId"].encode() not in stored
        assert "給食".encode() not in stored


@pytest.mark.parametrize("window", ["50", "0"])  # a reply (after one 500), or a push at once
def test_what_line_receives_is_the_rendered_answer_in_utf8(live, fake, tmp_path, window):
    """The messages' JSON is built once, on the matching thread: what LINE receives, as a reply or
    a push, is exactly what rendering the answer gives, sent as UTF-8 (not \\u escapes)."""
    from adapters.line.dialogue import render_turn

    question = "給食サービス"
    event = wh.text(question, source={"type": "user", "userId": "U" + "7" * 32})
    expected = render_turn(live.assistant.ask("tomakomai", question), origin=event["webhookEventId"])
    with server(live, fake, tmp_path, MADOGUCHI_REPLY_WINDOW=window) as line:
        fake.fail(500, count=1, only=REPLY)
        line.send("tomakomai", event)
        line.settle(timeout=15)
    sent = [r for r in fake.requests if r.path in (REPLY, PUSH)]
    assert [(r.path, r.status) for r in sent] == ([(REPLY, 500), (REPLY, 200)] if window == "50" else [(PUSH, 200)])
    for r in sent:
        assert r.messages == expected and not r.spec_errors
        assert question.encode() in r.raw
