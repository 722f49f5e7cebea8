"""Storage failures degrade, never stop: an unusable data dir at start, and a full disk
while running (SQLite's own "database or disk is full", made real with max_page_count).
Residents are still answered; /healthz says "degraded" and names the cause; /metrics counts it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from adapters.app import create_app
from adapters.serve import build_runtime
from tests.line.conftest import settle
from tests.line.fake_api import FakeLineAPI
from tests.ops.support import knowledge_copy, sign, text_event, webhook
from tests.support.server import serve_app

SECRET = "storage-line-secret-0123456"


@contextmanager
def serving(tmp_path: Path, data: Path) -> Iterator[tuple[str, object, FakeLineAPI]]:
    fake = FakeLineAPI()
    with serve_app(fake.app()) as fake_url:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "tok",
               "LINE_API_ENDPOINT": fake_url, "MADOGUCHI_DATA_DIR": str(data)}
        runtime = build_runtime(knowledge=knowledge_copy(tmp_path), env=env, stores=True)
        try:
            with serve_app(create_app(runtime)) as url:
                yield url, runtime, fake
        finally:
            asyncio.run(runtime.close())


def ask(url: str, text: str = "家のかぎを預かってほしい") -> None:
    body = webhook(text_event(text))
    r = httpx.post(f"{url}/line/tomakomai", content=body,
                   headers={"content-type": "application/json", "x-line-signature": sign(SECRET, body)})
    assert r.status_code == 200, r.text


def test_unusable_data_dir_at_start_serves_without_the_log(tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    with serving(tmp_path, blocker / "data") as (url, runtime, fake):
        assert runtime.querylog is None
        ask(url)
        settle(runtime)
        assert len(fake.delivered()) == 1  # answered all the same
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "degraded"
        assert set(health["storage"]) == {"dedupe", "querylog", "outbox"}  # dedupe: in memory only
        assert "NotADirectoryError" in health["storage"]["querylog"]
        metrics = httpx.get(f"{url}/metrics").text
        assert 'madoguchi_storage_errors_total{store="querylog"} 1' in metrics
        assert 'madoguchi_storage_errors_total{store="outbox"} 1' in metrics


def test_full_disk_while_running_degrades_and_recovers(tmp_path) -> None:
    with serving(tmp_path, tmp_path / "data") as (url, runtime, fake):
        ask(url)
        settle(runtime)
        runtime.querylog.flush(5)
        outbox = runtime.outbox.primary
        full = lambda db: db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")  # noqa: E731
        outbox._executor.submit(lambda: full(outbox._db)).result()
        full(runtime.querylog._writer_db)  # the writer thread is idle between batches
        for i in range(12):  # long questions: the outbox and the log need new pages, which they cannot have
            ask(url, "家のかぎを預かってほしい" + "とても" * 300 + str(i))
        settle(runtime, timeout=20)
        runtime.querylog.flush(5)
        assert len(fake.delivered()) == 13  # every resident answered, from memory
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "degraded", health
        assert "full" in health["storage"]["outbox"] and "full" in health["storage"]["querylog"]
        assert runtime.metrics.value("madoguchi_storage_errors_total", store="outbox") >= 1
        assert 'madoguchi_querylog_entries_total{outcome="failed"}' in httpx.get(f"{url}/metrics").text

        roomy = lambda db: db.execute("PRAGMA max_page_count = 1000000")  # noqa: E731  (space freed)
        outbox._executor.submit(lambda: roomy(outbox._db)).result()
        roomy(runtime.querylog._writer_db)
        ask(url)
        settle(runtime)
        runtime.querylog.flush(5)
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        assert len(fake.delivered()) == 14


def test_read_only_data_dir_at_start_serves_without_the_log(tmp_path) -> None:
    """A real read-only file system (a read-only bind mount; needs root, else skipped)."""
    import os
    import shutil
    import subprocess

    import pytest

    data = tmp_path / "ro"
    data.mkdir()
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None or subprocess.run(
            [mount, "--bind", "-o", "ro", str(data), str(data)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only bind mount here (needs root and mount)")
    try:
        with serving(tmp_path, data) as (url, runtime, fake):
            ask(url)
            settle(runtime)
            assert len(fake.delivered()) == 1
            health = httpx.get(f"{url}/healthz").json()
            assert health["status"] == "degraded"
            assert "Read-only file system" in health["storage"]["outbox"]
            assert "querylog" in health["storage"]
    finally:
        subprocess.run(["umount", str(data)], capture_output=True)
