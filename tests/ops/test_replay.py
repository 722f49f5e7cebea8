"""Replays: the duplicate memory survives a restart (SQLite without Redis), and events older
than MADOGUCHI_MAX_EVENT_AGE are refused."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx

from adapters.app import create_app
from adapters.serve import build_runtime
from adapters.stores.sqlite_dedupe import SqliteDedupe
from tests.line.conftest import settle
from tests.line.fake_api import FakeLineAPI
from tests.ops.support import knowledge_copy, sign, text_event, webhook
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app

LINE_SECRET, SLACK_SECRET = "replay-line-secret-0123456", "replay-slack-secret-abcdef"


def test_sqlite_dedupe_remembers_across_reopening_and_forgets_after_ttl(tmp_path) -> None:
    async def scenario() -> list[bool]:
        a = SqliteDedupe.in_dir(tmp_path, ttl=0.3)
        seen = [await a.first("k1"), await a.first("k1")]
        await a.close()
        b = SqliteDedupe.in_dir(tmp_path, ttl=0.3)  # a restart
        seen.append(await b.first("k1"))
        await asyncio.sleep(0.4)
        seen.append(await b.first("k1"))  # expired: older replays are refused by their timestamp instead
        await b.close()
        return seen

    assert asyncio.run(scenario()) == [True, False, False, True]


def _slack_request(url: str, body: bytes, ts: str) -> int:
    sig = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return httpx.post(f"{url}/slack/events", content=body, headers={
        "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": sig}).status_code


def test_requests_replayed_after_a_restart_are_not_answered_again(tmp_path) -> None:
    kb, data = knowledge_copy(tmp_path), tmp_path / "data"
    line_api = FakeLineAPI()
    line_event = text_event("家のかぎを預かってほしい")
    line_body = webhook(line_event)
    slack_body = json.dumps({"type": "event_callback", "event_id": "EvReplay1", "team_id": "T1", "api_app_id": "A1",
                             "event": {"type": "message", "channel_type": "im", "channel": "DREPLAY", "user": "U1",
                                       "text": "車いす", "ts": "1.000001"}}).encode()
    ts = str(int(time.time()))
    with serve_app(line_api.app()) as line_url, FakeSlack().running() as slack:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": LINE_SECRET,
               "LINE_CHANNEL_ACCESS_TOKEN": "tok", "LINE_API_ENDPOINT": line_url, "SLACK_SIGNING_SECRET": SLACK_SECRET,
               "SLACK_BOT_TOKEN": "xoxb-replay", "SLACK_API_URL": slack.api_url, "MADOGUCHI_DATA_DIR": str(data)}
        for _ in range(2):  # the same captured requests, before and after a restart
            runtime = build_runtime(knowledge=kb, env=env, stores=True)
            try:
                with serve_app(create_app(runtime)) as url:
                    r = httpx.post(f"{url}/line/tomakomai", content=line_body, headers={
                        "content-type": "application/json", "x-line-signature": sign(LINE_SECRET, line_body)})
                    assert r.status_code == 200
                    assert _slack_request(url, slack_body, ts) == 200
                    settle(runtime)
                    time.sleep(0.5)
            finally:
                asyncio.run(runtime.close())
        assert len(line_api.delivered()) == 1
        assert len(slack.find(lambda c: c.method == "chat.postMessage" and c.body.get("channel") == "DREPLAY")) == 1


def test_line_events_older_than_the_limit_are_refused(tmp_path) -> None:
    line_api = FakeLineAPI()
    with serve_app(line_api.app()) as line_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "tok",
               "LINE_API_ENDPOINT": line_url, "MADOGUCHI_DATA_DIR": str(tmp_path / "data"),
               "MADOGUCHI_MAX_EVENT_AGE": "600"}
        runtime = build_runtime(knowledge=knowledge_copy(tmp_path), env=env, stores=True)
        try:
            with serve_app(create_app(runtime)) as url:
                old = text_event("家のかぎを預かってほしい") | {"timestamp": int((time.time() - 601) * 1000)}
                fresh = text_event("家のかぎを預かってほしい")
                body = webhook(old, fresh)
                r = httpx.post(f"{url}/line/tomakomai", content=body, headers={
                    "content-type": "application/json", "x-line-signature": sign(LINE_SECRET, body)})
                assert r.status_code == 200  # the request is fine; only the old event in it is refused
                settle(runtime)
                assert [d.body["replyToken"] for d in line_api.delivered()] == [fresh["replyToken"]]
                assert runtime.metrics.value("madoguchi_line_events_total", type="message", status="stale") == 1
        finally:
            asyncio.run(runtime.close())
