"""The outbox stores' contract, the same for SQLite and PostgreSQL (a real server on 127.0.0.1):
durable adds with duplicates recognised, a bound, leases that expire, and two replicas that
never take the same row."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from adapters.outbox import Added, Incoming, Lease, OutboxFull
from tests.ops import services


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'madoguchi[ops]')")
    try:
        with services.postgres_server() as server:
            yield server.url
    except services.Unavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request, tmp_path):
    """A factory of outbox handles on one shared store (as two replicas would have)."""
    opened = []
    if request.param == "sqlite":
        from adapters.outbox.sqlite import SqliteOutbox

        def make(**kw):
            opened.append(SqliteOutbox.in_dir(tmp_path, **kw))
            return opened[-1]
    else:
        from adapters.stores.postgres_outbox import PostgresOutbox

        url = request.getfixturevalue("pg_url")
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            db.execute("DROP TABLE IF EXISTS madoguchi_outbox")

        def make(**kw):
            opened.append(PostgresOutbox(url, **kw))
            return opened[-1]
    yield make
    for store in opened:
        asyncio.run(store.close())


def incoming(n: int, prefix: str = "ev") -> list[Incoming]:
    return [Incoming("line", "kiyose", f"{prefix}{i}", f'{{"event": {i}}}', time.time()) for i in range(n)]


def test_add_claim_finish_and_duplicates(open_store) -> None:
    async def scenario() -> None:
        store = open_store(max_pending=10)
        assert await store.add(incoming(3)) == Added([True, True, True], [])
        assert (await store.add(incoming(4))).fresh == [False, False, False, True]  # redelivered ids are not new
        jobs = await store.claim("a", limit=10, lease=30)
        assert [j.event_id for j in jobs] == ["ev0", "ev1", "ev2", "ev3"] and all(j.attempts == 1 for j in jobs)
        assert await store.claim("b", limit=10, lease=30) == []  # leased: nobody else takes them
        assert await store.finish(jobs[0], "a", outcome="replied")
        assert not await store.finish(jobs[1], "b", outcome="replied")  # not b's lease
        await store.retry(jobs[1], "a", at=time.time() + 60, mode="push", maybe_sent=True)
        assert await store.pending() == 3
        with pytest.raises(OutboxFull):
            await store.add(incoming(8, prefix="more"))  # 3 waiting + 8 > 10: none of them taken
        assert await store.pending() == 3
        rows = {r["event_id"]: r for r in store.rows()}
        assert rows["ev0"]["payload"] is None and rows["ev0"]["state"] == "done"
        assert rows["ev1"]["mode"] == "push" and rows["ev1"]["payload"]

    asyncio.run(scenario())


def test_concurrent_adds_and_finishes_keep_each_calls_outcome(open_store) -> None:
    """Calls arriving together (SQLite writes them in one transaction) answer as if made one by one:
    the bound refuses whole calls, a redelivery within the burst is not new, each finish is its own."""
    async def scenario() -> None:
        store = open_store(max_pending=30)
        calls = [incoming(2, prefix=f"burst{i}-") for i in range(20)] + [incoming(2, prefix="burst0-")]
        outcomes = await asyncio.gather(*(store.add(c) for c in calls), return_exceptions=True)
        accepted = [o.fresh for o in outcomes if isinstance(o, Added)]
        refused = [o for o in outcomes if isinstance(o, OutboxFull)]
        assert len(accepted) + len(refused) == len(calls) and refused  # 20 × 2 > 30: some refused whole
        assert sum(map(sum, accepted)) == await store.pending() <= 30
        ids = [e.event_id for c, o in zip(calls, outcomes) if isinstance(o, Added) for e, new in zip(c, o.fresh)
               if new]
        assert len(ids) == len(set(ids))  # "burst0-*" sent twice is new once
        jobs = await store.claim("a", limit=100, lease=30)
        done = await asyncio.gather(*(store.finish(j, "a" if j.id % 2 else "b", outcome="replied") for j in jobs))
        assert done == [bool(j.id % 2) for j in jobs]  # only the lease holder's finishes count
        assert await store.pending() == sum(1 for j in jobs if not j.id % 2)

    asyncio.run(scenario())


def test_an_add_leases_its_first_new_rows_as_a_claim_would(open_store) -> None:
    """The webhook's add hands the rows it has room for to its own process in the same
    transaction; the rest, and duplicates, are left for claims."""
    async def scenario() -> None:
        store, other = open_store(), open_store()
        await store.add(incoming(1))
        added = await store.add(incoming(4), lease=Lease("a", 2, 30))
        assert added.fresh == [False, True, True, True]
        assert [(j.event_id, j.attempts, j.mode, j.maybe_sent) for j in added.jobs] == \
            [("ev1", 1, "reply", False), ("ev2", 1, "reply", False)]
        assert added.jobs[0].payload == '{"event": 1}'
        assert [j.event_id for j in await other.claim("b", limit=10, lease=30)] == ["ev0", "ev3"]
        assert await store.claim("c", limit=10, lease=30) == []  # all leased
        assert await store.finish(added.jobs[0], "a", outcome="replied")
        assert not await other.finish(added.jobs[1], "b", outcome="replied")  # a's lease, not b's
        assert await store.pending() == 3

    asyncio.run(scenario())


def test_a_lease_taken_at_add_expires_like_any_other(open_store) -> None:
    async def scenario() -> None:
        store = open_store()
        first = (await store.add(incoming(1), lease=Lease("dead-worker", 5, 0.2))).jobs[0]
        await asyncio.sleep(0.3)
        again = (await store.claim("restarted", limit=5, lease=30))[0]
        assert again.id == first.id and again.attempts == 2 and again.maybe_sent
        assert not await store.finish(first, "dead-worker", outcome="replied")

    asyncio.run(scenario())


def test_an_expired_lease_is_taken_again_and_marked_maybe_sent(open_store) -> None:
    async def scenario() -> None:
        store = open_store()
        await store.add(incoming(1))
        first = (await store.claim("dead-worker", limit=5, lease=0.2))[0]
        assert not first.maybe_sent
        await asyncio.sleep(0.3)
        again = (await store.claim("restarted", limit=5, lease=30))[0]
        assert again.id == first.id and again.attempts == 2 and again.maybe_sent
        assert not await store.finish(first, "dead-worker", outcome="replied")  # too late
        assert await store.finish(again, "restarted", outcome="replied")

    asyncio.run(scenario())


def test_two_replicas_claiming_together_never_share_a_row(open_store) -> None:
    async def scenario() -> None:
        a, b = open_store(max_pending=1000), open_store(max_pending=1000)
        await a.add(incoming(300))
        taken: dict[str, list[int]] = {"a": [], "b": []}

        async def worker(name: str, store) -> None:
            while jobs := await store.claim(name, limit=7, lease=30):
                taken[name] += [j.id for j in jobs]
                await asyncio.gather(*(store.finish(j, name, outcome="replied") for j in jobs))

        await asyncio.gather(worker("a", a), worker("b", b))
        assert len(taken["a"]) + len(taken["b"]) == 300
        assert not set(taken["a"]) & set(taken["b"])

    asyncio.run(scenario())


def test_two_replicas_over_http_answer_each_event_once(pg_url, tmp_path) -> None:
    """Two servers sharing DATABASE_URL; LINE redelivers some events to the other replica."""
    import httpx
    import psycopg

    from adapters.app import create_app
    from adapters.serve import build_runtime
    from adapters.stores.postgres_outbox import PostgresOutbox
    from tests.line.fake_api import REPLY, FakeLineAPI
    from tests.ops.support import knowledge_copy, sign, text_event, wait_for, webhook
    from tests.support.server import serve_app

    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS madoguchi_outbox")
    kb, secret = knowledge_copy(tmp_path), "replica-outbox-secret-123456"
    fake = FakeLineAPI()
    with serve_app(fake.app()) as fake_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": "tok",
               "LINE_API_ENDPOINT": fake_url, "DATABASE_URL": pg_url}
        replicas = [build_runtime(knowledge=kb, env={**env, "MADOGUCHI_DATA_DIR": str(tmp_path / f"r{i}")},
                                  stores=True) for i in range(2)]
        assert all(isinstance(r.outbox, PostgresOutbox) for r in replicas)
        try:
            with serve_app(create_app(replicas[0])) as a, serve_app(create_app(replicas[1])) as b:
                events = [text_event("家のかぎを預かってほしい") for _ in range(40)]
                for i, e in enumerate(events):
                    body = webhook(e)
                    headers = {"content-type": "application/json", "x-line-signature": sign(secret, body)}
                    targets = (a, b) if i % 3 == 0 else ((a,) if i % 2 else (b,))  # every third twice
                    for url in targets:
                        assert httpx.post(f"{url}/line/tomakomai", content=body, headers=headers).status_code == 200
                tokens = {e["replyToken"] for e in events}
                assert wait_for(lambda: {r.body["replyToken"] for r in fake.delivered()} >= tokens, timeout=30)
                time.sleep(0.5)
                got = [r.body["replyToken"] for r in fake.delivered() if r.path == REPLY]
                assert sorted(got) == sorted(tokens)  # each once, none twice
        finally:
            for r in replicas:
                r.querylog.close()


def test_sqlite_burst_of_mixed_calls_is_one_transaction_in_arrival_order(tmp_path) -> None:
    """Adds, a claim and finishes arriving together share one commit (one fsync), and each call
    answers as if made one by one in that order: the claim takes the adds before it, a finish
    frees room for the adds after it, and a refused add refuses only itself."""
    from adapters.outbox.sqlite import SqliteOutbox

    async def scenario() -> None:
        store = SqliteOutbox.in_dir(tmp_path, max_pending=4)
        try:
            await store.add(incoming(2, prefix="old"))
            old = await store.claim("a", limit=10, lease=30)
            commits: list[str] = []
            store._executor.submit(store._db.set_trace_callback,
                                   lambda sql: commits.append(sql) if sql == "COMMIT" else None).result()
            busy = threading.Event()
            store._executor.submit(busy.wait, 10)  # the store's thread is writing: the calls queue up
            calls = [store.add(incoming(2, prefix="new")),  # 2 + 2 waiting: at the bound
                     store.add(incoming(1, prefix="over")),  # refused, alone
                     store.claim("a", limit=10, lease=30),  # takes new0, new1
                     store.finish(old[0], "a", outcome="replied"),
                     store.finish(old[1], "b", outcome="replied"),  # not b's lease
                     store.add(incoming(1, prefix="late"))]  # room again after old0 was finished
            tasks = [asyncio.ensure_future(c) for c in calls]
            await asyncio.sleep(0.05)
            busy.set()
            added, over, claimed, done, not_done, late = await asyncio.gather(*tasks, return_exceptions=True)
            assert commits == ["COMMIT"]
            assert added.fresh == [True, True] and isinstance(over, OutboxFull) and late.fresh == [True]
            assert [j.event_id for j in claimed] == ["new0", "new1"]
            assert done is True and not_done is False
            assert await store.pending() == 4  # old1, new0, new1, late0
        finally:
            await store.close()

    asyncio.run(scenario())


def test_sqlite_finish_rides_with_the_next_add(tmp_path) -> None:
    """At a steady pace each event costs one commit: a finish waits (`settle`) for the next add
    and shares its transaction, and closing the store commits a finish still waiting."""
    from adapters.outbox.sqlite import SqliteOutbox

    async def scenario() -> None:
        store = SqliteOutbox.in_dir(tmp_path, settle=30.0)
        job = (await store.add(incoming(1), lease=Lease("a", 1, 30))).jobs[0]
        commits: list[str] = []
        store._executor.submit(store._db.set_trace_callback,
                               lambda sql: commits.append(sql) if sql == "COMMIT" else None).result()
        finish = asyncio.ensure_future(store.finish(job, "a", outcome="replied"))
        await asyncio.sleep(0.1)
        assert not finish.done() and commits == []  # waiting for company, not for 30 s of idling
        nxt = (await store.add(incoming(2, prefix="next"), lease=Lease("a", 2, 30))).jobs
        assert await finish is True and commits == ["COMMIT"]
        last = asyncio.ensure_future(store.finish(nxt[0], "a", outcome="replied"))
        await asyncio.sleep(0)
        await store.close()
        assert await last is True
        reopened = SqliteOutbox.in_dir(tmp_path)
        try:
            states = {r["event_id"]: r["state"] for r in reopened.rows()}
            assert states == {"ev0": "done", "next0": "done", "next1": "pending"}
        finally:
            await reopened.close()

    asyncio.run(scenario())
