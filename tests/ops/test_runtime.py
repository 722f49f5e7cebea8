"""Runtime plumbing: bounded background work, store choice from the environment, shutdown."""

from __future__ import annotations

import asyncio

from adapters.config import Config
from adapters.runtime import Runtime
from adapters.stores.choose import choose_stores, describe_url
from bot.knowledge.live import LiveKnowledge
from bot.querylog import LogEntry
from bot.querylog.sqlite import SqliteQueryLog
from tests.ops.support import knowledge_copy


def test_background_work_is_bounded_and_drained(tmp_path) -> None:
    runtime = Runtime(live=LiveKnowledge(knowledge_copy(tmp_path)), config=Config(), max_background=2)
    running, peak, done = 0, 0, []

    async def job(i: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(i)

    async def scenario() -> None:
        for i in range(7):
            runtime.spawn(job(i))
        assert len(runtime.background) == 7  # all accepted at once: the webhook never waits
        await runtime.drain(5)

    asyncio.run(scenario())
    assert peak == 2 and sorted(done) == list(range(7)) and not runtime.background


def test_stores_from_the_environment_default_to_sqlite(tmp_path) -> None:
    from adapters.stores.sqlite_dedupe import SqliteDedupe

    config = Config.from_env([], {"MADOGUCHI_DATA_DIR": str(tmp_path / "data")})
    dedupe, querylog = choose_stores(config)
    try:
        assert isinstance(dedupe, SqliteDedupe) and isinstance(querylog, SqliteQueryLog)
        assert querylog.path == tmp_path / "data" / "querylog.sqlite3"
        assert (tmp_path / "data" / "dedupe.sqlite3").exists()
    finally:
        querylog.close()
        asyncio.run(dedupe.close())


def test_close_writes_the_query_log_out(tmp_path) -> None:
    config = Config.from_env([], {"MADOGUCHI_DATA_DIR": str(tmp_path)})
    _, querylog = choose_stores(config)
    runtime = Runtime(live=LiveKnowledge(knowledge_copy(tmp_path)), config=config, querylog=querylog)
    for i in range(300):
        querylog.record(LogEntry(1e9 + i, "tomakomai", "line", f"質問{i}", "fallback"))
    asyncio.run(runtime.close())
    reopened = SqliteQueryLog.in_dir(tmp_path, retention_days=0)
    assert len(reopened.recent(limit=1000)) == 300
    reopened.close()


def test_urls_are_described_without_credentials() -> None:
    assert describe_url("postgresql://u:secret@db:5432/m") == "postgresql://db:5432/m"
    assert describe_url("redis://:pw@cache/0") == "redis://cache/0"
