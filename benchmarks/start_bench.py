"""Start-up benchmark: `serve` → /healthz 200, → first webhook routed, and `ask` one question.

    .venv/bin/python benchmarks/start_bench.py [--repeats 5] [--encoders none,default] [--against main]

Each figure is the median of `--repeats` fresh processes, measured from the
moment the process is spawned, after one unmeasured start that fills the
data dir as a deployment's is (a restart: the analysis keys of the
knowledge's texts are there, `bot.language.keystore`). The server runs as deployed: LINE channels
for every council and Slack configured (their APIs point at a closed port on
127.0.0.1; nothing is sent), query log in a temporary SQLite file. For each
encoder setting (MADOGUCHI_ENCODER=none: lexical only; default: dense
retrieval on) it prints, side by side:

- serve → /healthz 200 (target 1.2 s);
- serve → a LINE webhook is routed (an unsigned POST gets its 400: the
  channel routes, built in a thread after start, are ready);
- `python -m bot ask` with one question, to its exit (target 1.0 s);
- for scale, the interpreter alone and the import of line-bot-sdk alone.

`--against REF` measures that git revision too (exported to a temporary
folder), interleaved with this tree so both see the same machine load, and
prints this tree's figures with the ratio this/REF.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
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


def _env(encoder: str, data: str, tree: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "MADOGUCHI_ENCODER")}
    env["PYTHONPATH"] = str(tree)
    dead = f"http://127.0.0.1:{_free_port()}"  # closed: nothing leaves the machine
    env.update(MADOGUCHI_DATA_DIR=data, LINE_API_ENDPOINT=dead, SLACK_API_URL=dead + "/api/",
               SLACK_SIGNING_SECRET="bench-slack-secret", SLACK_BOT_TOKEN="xoxb-bench")
    for c in COUNCILS:
        env[f"LINE_CHANNEL_SECRET__{c.upper()}"] = f"bench-secret-{c}"
        env[f"LINE_CHANNEL_ACCESS_TOKEN__{c.upper()}"] = f"bench-token-{c}"
    if encoder != "default":
        env["MADOGUCHI_ENCODER"] = encoder
    return env


def serve_once(encoder: str, tree: Path = ROOT, *, data: str, timeout: float = 60.0) -> tuple[float, float]:
    """(seconds to /healthz 200, seconds until a LINE webhook is routed) of one fresh server
    (a restart: the data dir, with what the previous run kept there, is shared)."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-access-log",
                             "--log-level", "warning"], cwd=tree, env=_env(encoder, data, tree),
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


def timed(cmd: list[str], env: dict[str, str], tree: Path = ROOT) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def _export(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(trees: dict[str, Path], encoders: list[str], repeats: int, data: str) -> dict:
    """{tree: {encoder: {figure: [seconds per repeat]}}}, trees interleaved per repeat."""
    out: dict = {t: {e: {"serve → /healthz": [], "serve → LINE route ready": [], "ask one question": []}
                     for e in encoders} for t in trees}
    ask = [sys.executable, "-m", "bot", "ask", "--council", "tomakomai", "かぎを預けたい"]
    for enc in encoders:  # a first start of each fills the data dir (analysis keys), as a deployment's has
        for name, tree in trees.items():  # and encodes what the tree's vector cache lacks (saved for the next)
            serve_once(enc, tree, data=f"{data}-{name}", timeout=900)
            timed(ask, _env(enc, f"{data}-{name}", tree), tree)
    for _ in range(repeats):
        for enc in encoders:
            for name, tree in trees.items():
                health, routed = serve_once(enc, tree, data=f"{data}-{name}")
                row = out[name][enc]
                row["serve → /healthz"].append(health)
                row["serve → LINE route ready"].append(routed)
                row["ask one question"].append(timed(ask, _env(enc, f"{data}-{name}", tree), tree))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--encoders", default="none,default", help="MADOGUCHI_ENCODER values, comma-separated")
    ap.add_argument("--against", default="main", help="git revision to compare with ('' for none)")
    args = ap.parse_args()
    encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this": ROOT}
        if args.against:
            trees[args.against] = _export(args.against, Path(tmp) / "tree")
        data = str(Path(tmp) / "data")
        runs = measure(trees, encoders, args.repeats, data)
        env = _env("none", data)
        base = {
            "python -c pass": statistics.median(timed([sys.executable, "-c", "pass"], env)
                                                for _ in range(args.repeats)),
            "import line-bot-sdk": statistics.median(
                timed([sys.executable, "-c", "import linebot.v3.messaging, linebot.v3.webhook"], env)
                for _ in range(args.repeats)),
        }
    med = {t: {e: {k: statistics.median(v) for k, v in rows.items()} for e, rows in by.items()}
           for t, by in runs.items()}
    ref = args.against if args.against else None
    print(f"start-up, median of {args.repeats} fresh processes (s); ×target = figure / target"
          + (f"; ×{ref} = this / {ref}, measured interleaved in this run" if ref else ""))
    print(f"{'':28}" + "".join(f"{'encoder=' + e:>34}" for e in encoders) + f"{'target':>9}")
    for name in med["this"][encoders[0]]:
        target = TARGETS.get(name)
        cells = ""
        for e in encoders:
            v = med["this"][e][name]
            cell = f"{v:.2f}" + (f" ×target {v / target:.2f}" if target else "")
            if ref:
                cell += f" ({ref} {med[ref][e][name]:.2f}, ×{v / med[ref][e][name]:.2f})"
            cells += f"{cell:>34}" if len(cell) <= 34 else " " + cell
        print(f"{name:28}{cells}{(f'{target:.1f}' if target else '-'):>9}")
    for name, value in base.items():
        print(f"{name:28}{value:>34.2f}")


if __name__ == "__main__":
    main()
