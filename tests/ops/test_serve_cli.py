"""`python -m bot serve` as an operator starts it: options after the command, a quiet start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.ops.services import free_port
from tests.ops.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "knowledge"


def _installed(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


# auto: httptools and uvloop when installed (the lock files have them); h11 and asyncio: the pure-Python fallback
@pytest.mark.parametrize(("http", "loop"), [("auto", "auto"), ("h11", "asyncio")])
def test_serve_takes_knowledge_after_the_command_and_starts_without_sdk_noise(tmp_path: Path, http: str,
                                                                             loop: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LINE_", "MADOGUCHI_", "REDIS_",
                                                                       "DATABASE_"))}
    # MADOGUCHI_ENCODER=none: the fixture has no vector cache, and the start is under test, not retrieval
    env.update(MADOGUCHI_ENCODER="none", MADOGUCHI_DATA_DIR=str(tmp_path), SLACK_BOT_TOKEN="xoxb-serve-cli-test",
               SLACK_SIGNING_SECRET="serve-cli-signing-secret", SLACK_API_URL="http://127.0.0.1:9/api/")
    err = open(tmp_path / "stderr", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--knowledge", str(FIXTURE), "--port", str(port),
                             "--http", http, "--loop", loop], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        def health() -> dict | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
            except httpx.HTTPError:
                return None

        assert wait_for(lambda: health() is not None, timeout=60), (tmp_path / "stderr").read_text()[-2000:]
        assert sorted(health()["councils"]) == ["minato", "yama"]  # the fixture, not the bundled knowledge
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(20)
    assert code == 0
    err.seek(0)
    logs = [json.loads(line) for line in err.read().splitlines() if line.strip()]
    parser = http if http != "auto" else "httptools" if _installed("httptools") else "h11"
    runner = loop if loop != "auto" else "uvloop" if _installed("uvloop") else "asyncio"
    assert any(o["msg"].startswith("serving on 127.0.0.1:") and o["msg"].endswith(f"({parser}, {runner})")
               for o in logs), [o["msg"] for o in logs]
    assert not [o for o in logs if "will be unused" in o["msg"]], logs
    # nothing to act on at a normal start, apart from the dense retrieval this test switched off
    assert not [o for o in logs if o["level"] in ("warning", "error") and not o["msg"].startswith("dense retrieval off")]
