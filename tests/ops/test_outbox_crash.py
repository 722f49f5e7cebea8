"""kill -9 of a real server in the middle of a burst, then a restart on the same data dir:
no acknowledged LINE event is lost and none is answered twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.line.fake_api import REPLY, FakeLineAPI
from tests.ops.services import free_port
from tests.ops.support import knowledge_copy, sign, text_event, wait_for, webhook
from tests.support.server import serve_app

ROOT = Path(__file__).resolve().parents[2]
SECRET, TOKEN = "crash-line-secret-0123456789", "crash-line-token-abcdef"


def start(kb: Path, data: Path, fake_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MADOGUCHI_ENCODER": "none",  # no vector cache in the copy: delivery is tested here
           "MADOGUCHI_DATA_DIR": str(data), "MADOGUCHI_COUNCIL": "tomakomai",
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_ENDPOINT": fake_url}
    for key in ("REDIS_URL", "DATABASE_URL"):
        env.pop(key, None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--knowledge", str(kb), "serve", "--port", str(port),
                             "--no-access-log"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("a"))

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_for(up, timeout=60), log.read_text()[-2000:]
    return proc


def delivered(fake: FakeLineAPI) -> Counter:
    return Counter(r.body["replyToken"] if r.path == REPLY else r.body["to"] for r in fake.delivered())


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_kill_9_mid_burst_loses_nothing_acknowledged_and_doubles_nothing(tmp_path) -> None:
    kb, data, log = knowledge_copy(tmp_path), tmp_path / "data", tmp_path / "stderr"
    fake = FakeLineAPI()
    fake.hang(0.15)  # LINE answers slowly: a backlog builds up, so the kill finds work in every state
    port = free_port()
    url = f"http://127.0.0.1:{port}/line/tomakomai"
    with serve_app(fake.app()) as fake_url:
        fake.url = fake_url
        proc = start(kb, data, fake_url, port, log)
        events = [text_event("家のかぎを預かってほしい") for _ in range(240)]
        acked: list[dict] = []
        lock = threading.Lock()

        def send(event: dict) -> None:
            body = webhook(event)
            try:
                r = httpx.post(url, content=body, timeout=5,
                               headers={"content-type": "application/json", "x-line-signature": sign(SECRET, body)})
            except httpx.HTTPError:
                return  # not acknowledged: LINE would redeliver it
            if r.status_code == 200:
                with lock:
                    acked.append(event)

        def killer() -> None:
            wait_for(lambda: len(acked) >= 80, timeout=30, interval=0.001)
            proc.send_signal(signal.SIGKILL)

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send, events))
        k.join()
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        before = delivered(fake)
        assert len(acked) < len(events)  # the kill came mid-burst
        assert sum(before[e["replyToken"]] + before[e["source"]["userId"]] for e in acked) < len(acked)

        proc = start(kb, data, fake_url, port, log)
        try:
            def all_delivered() -> bool:
                got = delivered(fake)
                return all(got[e["replyToken"]] + got[e["source"]["userId"]] >= 1 for e in acked)

            assert wait_for(all_delivered, timeout=60), f"{len(acked)} acknowledged"
            time.sleep(1.0)  # a second copy of anything would arrive within this
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        got = delivered(fake)
        for e in events:
            assert got[e["replyToken"]] + got[e["source"]["userId"]] <= 1, e["webhookEventId"]
        assert "Traceback" not in log.read_text()
