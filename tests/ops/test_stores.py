"""Redis dedupe and the PostgreSQL query log against real servers on 127.0.0.1, and two replicas sharing them."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time

import httpx
import pytest

from bot.querylog import LogEntry, hash_user
from tests.ops import services
from tests.ops.support import FakeLine, knowledge_copy, sign, text_event, wait_for, webhook
from tests.support.server import serve_app

pytest.importorskip("redis", reason="redis-py not installed (pip install 'madoguchi[ops]')")
pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'madoguchi[ops]')")


@pytest.fixture(scope="module")
def redis_url():
    try:
        with services.redis_server() as url:
            yield url
    except services.Unavailable as exc:
        pytest.skip(f"Redis tests skipped: {exc}")


@pytest.fixture(scope="module")
def pg():
    try:
        with services.postgres_server() as server:
            yield server
    except services.Unavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


# -- Redis ------------------------------------------------------------------------------
def test_redis_dedupe_first_once_across_replicas(redis_url: str) -> None:
    from adapters.stores.redis_dedupe import RedisDedupe

    async def scenario() -> tuple[list[bool], int]:
        a, b = RedisDedupe(redis_url, ttl=60), RedisDedupe(redis_url, ttl=60)  # two replicas
        keys = [f"line:kiyose:ev{i}" for i in range(200)]
        results = await asyncio.gather(*(d.first(k) for k in keys for d in (a, b)))
        ttl = await a._client.ttl(a.prefix + keys[0])
        await a.close()
        await b.close()
        return results, ttl

    results, ttl = asyncio.run(scenario())
    firsts = [results[i] or results[i + 1] for i in range(0, len(results), 2)]
    assert sum(results) == 200 and all(firsts)  # each key: exactly one replica saw it first
    assert 0 < ttl <= 60


def test_redis_down_still_answers_once_per_process() -> None:
    from adapters.stores.redis_dedupe import RedisDedupe

    async def scenario() -> tuple[bool, bool, int]:
        d = RedisDedupe(f"redis://127.0.0.1:{services.free_port()}/0", timeout=0.2)
        first, again = await d.first("k"), await d.first("k")
        await d.close()
        return first, again, d.errors

    first, again, errors = asyncio.run(scenario())
    assert first is True and again is False and errors == 2


# -- PostgreSQL -------------------------------------------------------------------------
def test_postgres_log_masks_hashes_groups_and_purges(pg) -> None:
    from adapters.stores.postgres import PostgresQueryLog

    a = PostgresQueryLog(pg.url)
    b = PostgresQueryLog(pg.url)  # a second replica: same salt from madoguchi_meta
    now = time.time()
    try:
        a.purge(older_than=now + 1)  # a clean table for this test
        a.record(LogEntry(now, "tomakomai", "line", "電話は０９０ー１２３４ー５６７８", "fallback",
                          ("tomakomai/x",), (0.31,), user_hash="Uraw-user", event_id="ev-1"))
        b.record(LogEntry(now, "tomakomai", "line", "かぎを預かってほしい", "choices", user_hash="Uraw-user"))
        b.record(LogEntry(now, "tomakomai", "line", "鍵を預かってほしいです", "fallback"))
        b.record(LogEntry(now, "tomakomai", "line", "メニュー", "choices", reason="menu"))
        b.record(LogEntry(now - 100 * 86_400, "kiyose", "slack", "古い", "fallback"))
        a.feedback(council="tomakomai", event_id="ev-1", value="no")
        assert a.flush(10) and b.flush(10)
        rows = a.recent(limit=10)
        assert len(rows) == 5
        by_q = {r.question: r for r in rows}
        masked = by_q["電話は***ー****ー****"]
        assert masked.feedback == "no" and masked.top_ids == ("tomakomai/x",) and masked.scores == (0.31,)
        assert masked.user_hash == by_q["かぎを預かってほしい"].user_hash  # same salt on both replicas
        assert masked.user_hash not in (None, "Uraw-user") and len(masked.user_hash) == 32
        groups = a.unanswered(council="tomakomai", since=now - 86_400)
        assert groups[0].count == 2 and set(groups[0].questions) == {"かぎを預かってほしい", "鍵を預かってほしいです"}
        assert all(g.example != "メニュー" for g in groups)
        assert a.purge(older_than=now - 90 * 86_400) == 1
        assert b.stats()["failed"] == 0
    finally:
        a.close()
        b.close()


def test_postgres_through_the_entry_point_and_the_report(pg) -> None:
    from bot.querylog.backend import open_querylog
    from bot.querylog.report import run

    store = open_querylog(database_url=pg.url, salt="fixed-salt-for-test")
    assert type(store).__name__ == "PostgresQueryLog"
    store.record(LogEntry(time.time(), "komoro", "line", "ペットを預かってほしい", "fallback", user_hash="U1"))
    store.flush(10)
    assert store.recent(limit=1, council="komoro")[0].user_hash == hash_user("U1", salt="fixed-salt-for-test")
    store.close()
    out = io.StringIO()
    assert run(council="komoro", since="1d", data_dir=None, out=out, env={"DATABASE_URL": pg.url}) == 0
    assert "ペットを預かってほしい" in out.getvalue() and "1件" in out.getvalue()


# -- two replicas behind a load balancer -------------------------------------------------
def test_two_replicas_share_dedupe_and_query_log(redis_url: str, pg, tmp_path) -> None:
    """The same LINE event delivered to both replicas is answered once and logged once."""
    from adapters.app import create_app
    from adapters.logging import JsonFormatter, Redactor, config_secrets
    from adapters.serve import build_runtime
    from adapters.stores.postgres import PostgresQueryLog
    from adapters.stores.redis_dedupe import RedisDedupe

    kb = knowledge_copy(tmp_path)
    secret, token = "replica-line-secret-1234567890", "replica-line-token-abcdef"
    fake = FakeLine()
    logs = io.StringIO()
    with serve_app(fake.app()) as fake_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": token,
               "LINE_API_ENDPOINT": fake_url, "REDIS_URL": redis_url, "DATABASE_URL": pg.url,
               "MADOGUCHI_DATA_DIR": str(tmp_path / "unused")}
        replicas = [build_runtime(knowledge=kb, env=env, stores=True) for _ in range(2)]
        assert all(isinstance(r.dedupe, RedisDedupe) and isinstance(r.querylog, PostgresQueryLog) for r in replicas)
        handler = logging.StreamHandler(logs)
        handler.setFormatter(JsonFormatter(Redactor(config_secrets(replicas[0].config))))
        logging.getLogger().addHandler(handler)
        try:
            with serve_app(create_app(replicas[0])) as url_a, serve_app(create_app(replicas[1])) as url_b:
                event = text_event("家のかぎを預かってほしいです", user="U" + "a" * 32)
                body = webhook(event)
                headers = {"content-type": "application/json", "x-line-signature": sign(secret, body)}
                statuses: list[int] = []

                def deliver(url: str) -> None:
                    statuses.append(httpx.post(f"{url}/line/tomakomai", content=body, headers=headers).status_code)

                threads = [threading.Thread(target=deliver, args=(u,)) for u in (url_a, url_b, url_a)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(10)
                assert statuses == [200, 200, 200]
                assert wait_for(lambda: len(fake.replies()) >= 1 and not any(r.background for r in replicas))
                time.sleep(0.3)  # a second, wrong reply would arrive within this window
                replies = fake.replies()
                assert len(replies) == 1 and replies[0]["auth"] == f"Bearer {token}"
                assert event["replyToken"] == replies[0]["body"]["replyToken"]
                assert "かぎ" in str(replies[0]["body"]["messages"])
                for r in replicas:
                    r.querylog.flush(10)
                logged = [e for e in replicas[0].querylog.recent(limit=50, council="tomakomai")
                          if e.event_id == event["webhookEventId"]]
                assert len(logged) == 1 and logged[0].user_hash != event["source"]["userId"]
        finally:
            logging.getLogger().removeHandler(handler)
            for r in replicas:
                r.querylog.close()
    text = logs.getvalue()
    for value in (secret, token, services.PG_PASSWORD):
        assert value not in text
