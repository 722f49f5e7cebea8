"""Start-up benchmark: `serve` → /healthz 200, → first webhook routed, and `ask` one question.

    .venv/bin/python benchmarks/start_bench.py [--repeats 5] [--encoders none,default]

Each figure is the median of `--repeats` fresh processes, measured from the
moment the process is spawned. The server runs as deployed: LINE channels
for every council and Slack configured (their APIs point at a closed port on
127.0.0.1; nothing is sent), query log in a temporary SQLite file. For each
encoder setting (MADOGUCHI_ENCODER=none: lexical only; default: dense
retrieval on) it prints, side by side:

- serve → /healthz 200 (target 1.2 s);
- serve → a LINE webhook is routed (an unsigned POST gets its 400: the
  channel routes, built in a thread after start, are ready);
- `python -m bot ask` with one question, to its exit (target 1.0 s);
- for scale, the interpreter alone and the import of line-bot-sdk alone.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNCILS = ("tomakomai", "ichinoseki", "kiyose", "komoro", "mimasaka")
TARGETS = {"serve → /healthz": 1.2, "ask one question": 1.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(port: int, method: str, path: str) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request(method, path, body=b"{}" if method == "POST" else None)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def _env(encoder: str, data: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "MADOGUCHI_ENCODER")}
    dead = f"http://127.0.0.1:{_free_port()}"  # closed: nothing leaves the machine
    env.update(MADOGUCHI_DATA_DIR=data, LINE_API_ENDPOINT=dead, SLACK_API_URL=dead + "/api/",
               SLACK_SIGNING_SECRET="bench-slack-secret", SLACK_BOT_TOKEN="xoxb-bench")
    for c in COUNCILS:
        env[f"LINE_CHANNEL_SECRET__{c.upper()}"] = f"bench-secret-{c}"
        env[f"LINE_CHANNEL_ACCESS_TOKEN__{c.upper()}"] = f"bench-token-{c}"
    if encoder != "default":
        env["MADOGUCHI_ENCODER"] = encoder
    return env


def serve_once(encoder: str, *, timeout: float = 60.0) -> tuple[float, float]:
    """(seconds to /healthz 200, seconds until a LINE webhook is routed) of one fresh server."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-access-log",
                                 "--log-level", "warning"], cwd=ROOT, env=_env(encoder, data),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            health = routed = None
            while time.perf_counter() - t0 < timeout and proc.poll() is None:
                if health is None and _status(port, "GET", "/healthz") == 200:
                    health = time.perf_counter() - t0
                if health is not None and _status(port, "POST", "/line/tomakomai") == 400:
                    routed = time.perf_counter() - t0
                    break
                time.sleep(0.005)
            if health is None or routed is None:
                raise RuntimeError(f"server did not come up (exit {proc.poll()})")
            return health, routed
        finally:
            proc.terminate()
            proc.wait(20)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--encoders", default="none,default", help="MADOGUCHI_ENCODER values, comma-separated")
    args = ap.parse_args()
    encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as data:
        for enc in encoders:
            env = _env(enc, data)
            serve = [serve_once(enc) for _ in range(args.repeats)]
            asks = [timed([sys.executable, "-m", "bot", "ask", "--council", "tomakomai", "かぎを預けたい"], env)
                    for _ in range(args.repeats)]
            rows[enc] = {
                "serve → /healthz": statistics.median(h for h, _ in serve),
                "serve → LINE route ready": statistics.median(r for _, r in serve),
                "ask one question": statistics.median(asks),
            }
        env = _env("none", data)
        base = {
            "python -c pass": statistics.median(timed([sys.executable, "-c", "pass"], env)
                                                for _ in range(args.repeats)),
            "import line-bot-sdk": statistics.median(
                timed([sys.executable, "-c", "import linebot.v3.messaging, linebot.v3.webhook"], env)
                for _ in range(args.repeats)),
        }
    print(f"start-up, median of {args.repeats} fresh processes (s); ratio = figure / target")
    head = "".join(f"{'encoder=' + e:>22}" for e in encoders)
    print(f"{'':28}{head}{'target':>10}")
    for name in rows[encoders[0]]:
        target = TARGETS.get(name)
        cells = "".join(
            f"{rows[e][name]:>12.2f}" + (f" (×{rows[e][name] / target:.2f})" if target else " " * 8).rjust(10)
            for e in encoders)
        print(f"{name:28}{cells}{(f'{target:.1f}' if target else '-'):>10}")
    for name, value in base.items():
        print(f"{name:28}{value:>12.2f}")


if __name__ == "__main__":
    main()
