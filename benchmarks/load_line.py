"""Load benchmark: signed LINE webhooks against one `python -m bot serve` process, on loopback.

    .venv/bin/python benchmarks/load_line.py [--requests 2000] [--concurrency 50]

Starts a fake LINE Messaging API (aiohttp, 127.0.0.1, port 0) that records
every reply and push (an event past LINE's reply window is pushed), starts
one server process pointed at it (SQLite query log in a temporary data dir,
JSON logs to a file), then sends `--requests` signed
webhooks (one text event each; a share of them delivered twice, as LINE does
on retries) over `--concurrency` keep-alive connections. Prints requests/s,
acknowledgement latency p50/p99, errors, and replies sent versus expected
(each distinct event exactly once). `--warmup` requests (default 100) go
first and are not measured. Bounded: `--timeout` seconds in all.
Exit status 0 when there were no errors and every event got exactly one
reply; the p99 target (100 ms) is reported, not enforced (`--strict` does).
BENCH_TRACE=1 also lists the slowest requests with when they were sent.
`--large 5` also sends five 100 KB messages with the first requests, each
on its own connection: acknowledgements must stay fast while they are
being answered (their own acks are reported apart). `--rate 300` makes it
an open loop: the connections together send 300 requests/s whether or not
earlier ones were acknowledged, each event stamped when it is sent, and each
latency counts from when its request was due (a closed loop at full speed
measures concurrency ÷ throughput). `--echo` sends the same load to
`benchmarks/echo_bot.py` instead (the same HTTP stack, no outbox, no core,
no dedupe: redeliveries are echoed again), the floor for the figures.
`--wrk` sends the same signed requests with wrk (Debian's package) instead
of aiohttp: a load generator in C takes a fraction of the CPU that a Python
one takes from the two cores it shares with the server, so the closed
loop's figure is the server's more than the generator's. It acknowledges
faster than one process answers, so past `MADOGUCHI_OUTBOX_MAX` (2,000)
waiting events the webhook answers 503, as it should (the first non-200
answers are printed); set it higher to measure the acknowledgements alone.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-line-channel-secret-" + uuid.uuid4().hex[:8]
TOKEN = "bench-line-access-token-" + uuid.uuid4().hex[:8]
QUESTIONS = (
    "家のかぎを預かってほしい", "配食サービスを使いたい", "車いすを借りたいです", "ボランティアをしてみたい",
    "お金に困っています。貸付はありますか", "成年後見について相談したい", "電話は090-1234-5678です、折り返してください",
    "ひとり暮らしの母が心配", "こんにちは", "ふくしの相談窓口はどこですか", "ゴミ出しを手伝ってほしい", "🐱🐱",
    "生活費が足りない", "子育てのサークルを探しています", "介護の相談をしたい", "ペットを預かってもらえますか",
)
TARGET_P99_MS = 100.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


LARGE_UNIT = "ひとり暮らしの母の介護と配食サービスとお金のことで相談したいです。"


def large_text(size: int) -> str:
    """A question of about `size` bytes of UTF-8 (a long, rambling message: the matching holds the GIL)."""
    return (LARGE_UNIT * (size // len(LARGE_UNIT.encode()) + 1))[: size // 3]


def event_body(i: int, rng: random.Random, *, text: str | None = None) -> tuple[str, bytes]:
    """(reply token, webhook body) of one text event; its user id is `user_of(token)`."""
    event_id = f"01BENCH{i:08d}{uuid.uuid4().hex[:11].upper()}"
    token = f"rt{i:08d}" + uuid.uuid4().hex[:22]
    event = {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_of(token)},
        "webhookEventId": event_id, "deliveryContext": {"isRedelivery": False},
        "replyToken": token,
        "message": {"type": "text", "id": str(10**17 + i), "quoteToken": "q", "text": text or rng.choice(QUESTIONS)},
    }
    return event["replyToken"], json.dumps({"destination": "U" + "0" * 32, "events": [event]},
                                           ensure_ascii=False).encode()


def stamped(body: bytes) -> bytes:
    """The same webhook with its event's timestamp set to now (the reply window counts from it)."""
    data = json.loads(body)
    data["events"][0]["timestamp"] = int(time.time() * 1000)
    return json.dumps(data, ensure_ascii=False).encode()


def user_of(token: str) -> str:
    """Each event its own user, so a push (to the user) names the event it answers."""
    return "U" + hashlib.md5(token.encode()).hexdigest()


class FakeLine:
    """Replies and pushes, counted per event (a push by its user); a repeated
    X-Line-Retry-Key gets 409 as LINE answers it, and is not counted again."""

    def __init__(self) -> None:
        self.tokens: Counter[str] = Counter()
        self.users: dict[str, str] = {}  # user id → reply token of the event, filled by `expect`
        self.keys: set[str] = set()
        self.pushes = 0
        self.bodies = 0
        self.bad_auth = 0
        self.changed = asyncio.Event()

    async def reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.bad_auth += 1
        if not body.get("messages"):
            return web.json_response({"message": "no messages"}, status=400)
        self.tokens[body["replyToken"]] += 1
        self.bodies += 1
        self.changed.set()
        return web.json_response({"sentMessages": [{"id": "1", "quoteToken": "q"}]})

    def expect(self, token: str) -> str:
        self.users[user_of(token)] = token
        return token

    async def push(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.bad_auth += 1
        key = request.headers.get("X-Line-Retry-Key", "")
        if key and key in self.keys:
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        self.keys.add(key)
        self.tokens[self.users.get(body.get("to", ""), "push to an unknown user")] += 1
        self.bodies += 1
        self.pushes += 1
        self.changed.set()
        return web.json_response({"sentMessages": [{"id": "1", "quoteToken": "q"}]})


async def wait_healthy(session: ClientSession, url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            async with session.get(f"{url}/healthz") as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def wrk_script(bodies: list[bytes], path: Path) -> None:
    """A wrk script that sends each signed body in order over the connections and says so once all are
    acknowledged (wrk runs for its whole duration unless interrupted; a request sent before it stops
    is a redelivery of an earlier one)."""
    rows = []
    for body in bodies:
        text = body.decode()
        assert "]==]" not in text
        rows.append(f'{{[==[{text}]==], "{sign(body)}"}}')
    path.write_text(
        "local bodies = {\n" + ",\n".join(rows) + "\n}\n"
        "local n, done_n, total = 0, 0, #bodies\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local b = bodies[(n - 1) % total + 1]\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Line-Signature"] = b[2]}, b[1])\n'
        "end\n"
        "local shown = 0\n"
        "response = function(status, headers, body)\n"
        "  done_n = done_n + 1\n"
        '  if status ~= 200 and shown < 3 then shown = shown + 1; io.write("STATUS ", status, " ", body, "\\n") end\n'
        '  if done_n == total then io.write("WRKSENT\\n"); io.flush(); wrk.thread:stop() end\n'
        "end\n"
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("WRK %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,\n'
        "    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,\n"
        "    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write\n"
        "    + summary.errors.timeout))\n"
        "end\n")


async def run_wrk(url: str, bodies: list[bytes], *, concurrency: int, timeout: float,
                  work: Path) -> tuple[int, float, list[float], int]:
    """(requests, seconds, [p50, p90, p99, max] in seconds, errors) of one wrk run over `bodies`."""
    script = work / "load.lua"
    wrk_script(bodies, script)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, int(timeout))}s", "--timeout", "30s", "-s", str(script), url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    out = ""
    while line := (await proc.stdout.readline()).decode():
        out += line
        if line == "WRKSENT\n":
            proc.send_signal(signal.SIGINT)  # wrk then prints its summary and exits
    await proc.wait()
    found = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if "STATUS " in out:
        print("wrk: " + "; ".join(line for line in out.splitlines() if line.startswith("STATUS ")))
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    requests, micros, *lat, errors = (int(g) for g in found.groups())
    return requests, micros / 1e6, [v / 1e6 for v in lat], errors


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))]


async def run(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    rng = random.Random(args.seed)
    fake = FakeLine()
    app = web.Application()
    app.router.add_post("/v2/bot/message/reply", fake.reply)
    app.router.add_post("/v2/bot/message/push", fake.push)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix="madoguchi-bench-")
    env = {**os.environ, "MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_ENDPOINT": fake_url, "MADOGUCHI_DATA_DIR": tmp.name}
    for key in ("REDIS_URL", "DATABASE_URL"):
        env.pop(key, None)
    log_path = Path(tmp.name) / "server.log"
    serve = [str(ROOT / "benchmarks" / "echo_bot.py")] if args.echo else ["-m", "bot", "serve", "--no-access-log"]
    cmd = [*args.server_prefix.split(), sys.executable, *serve, "--host", "127.0.0.1", "--port", str(port),
           *args.server_args.split()]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    unique = args.requests - int(args.requests * args.duplicates)
    events = [(fake.expect(t), b) for t, b in (event_body(i, rng) for i in range(unique))]
    plan = list(events) + [rng.choice(events) for _ in range(args.requests - unique)]  # redeliveries
    rng.shuffle(plan)
    expected = {token for token, _ in events}
    latencies: list[float] = []
    trace: list[tuple[float, float]] = []
    errors: Counter[str] = Counter()
    try:
        connector = TCPConnector(limit=args.concurrency, force_close=False)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=30)) as session:
            await wait_healthy(session, url, proc, timeout=min(60, deadline - time.monotonic()))
            if args.warmup:  # one-time work (threads, connections, caches), not measured
                warm = [(fake.expect(t), b) for t, b in (event_body(10**7 + i, rng) for i in range(args.warmup))]
                expected_warm = {t for t, _ in warm}

                async def warm_one(body: bytes) -> None:
                    headers = {"content-type": "application/json", "x-line-signature": sign(body)}
                    async with session.post(f"{url}/line/tomakomai", data=body, headers=headers) as r:
                        await r.read()

                await asyncio.gather(*(warm_one(b) for _, b in warm))
                while sum(fake.tokens[t] > 0 for t in expected_warm) < len(expected_warm) \
                        and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                for t in expected_warm:
                    fake.bodies -= fake.tokens.pop(t, 0)
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            for _, body in plan:
                queue.put_nowait(body)

            async def worker(n: int) -> None:
                sent = 0
                while not queue.empty() and time.monotonic() < deadline:
                    body = queue.get_nowait()
                    headers = {"content-type": "application/json", "x-line-signature": sign(body)}
                    started = time.perf_counter()
                    if args.rate:  # open loop: each connection keeps its share of the rate, late or not
                        due = begin + (n + sent * args.concurrency) / args.rate
                        if due > started:
                            await asyncio.sleep(due - started)
                        started = due  # latency from when it was due: a late send counts as waiting
                        sent += 1
                        body = stamped(body)  # a long run: the event happens now, not when it was planned
                        headers["x-line-signature"] = sign(body)
                    try:
                        async with session.post(f"{url}/line/tomakomai", data=body, headers=headers) as r:
                            await r.read()
                            if r.status != 200:
                                errors[f"http {r.status}"] += 1
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        errors[type(exc).__name__] += 1
                        continue
                    latencies.append(time.perf_counter() - started)
                    if os.environ.get("BENCH_TRACE"):
                        trace.append((started, latencies[-1]))

            large = [(fake.expect(t), b) for t, b in
                     (event_body(2 * 10**7 + i, rng, text=large_text(args.large_size)) for i in range(args.large))]
            expected |= {t for t, _ in large}
            large_acks: list[float] = []

            async def send_large(body: bytes) -> None:  # on their own connections, alongside the small ones
                headers = {"content-type": "application/json", "x-line-signature": sign(body)}
                t0 = time.perf_counter()
                async with ClientSession() as own, own.post(f"{url}/line/tomakomai", data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        errors[f"large: http {r.status}"] += 1
                large_acks.append(time.perf_counter() - t0)

            started = begin = time.perf_counter()
            if args.wrk:
                load = run_wrk(f"{url}/line/tomakomai", [b for _, b in plan], concurrency=args.concurrency,
                               timeout=deadline - time.monotonic(), work=Path(tmp.name))
                (sent, sent_in, wrk_lat, wrk_errors), *_ = await asyncio.gather(
                    load, *(send_large(b) for _, b in large))
                if wrk_errors or sent < len(plan):
                    errors["wrk"] += wrk_errors + len(plan) - min(sent, len(plan))
            else:
                await asyncio.gather(*(send_large(b) for _, b in large),
                                     *(worker(n) for n in range(args.concurrency)))
                sent_in = time.perf_counter() - started
            while sum(fake.tokens[t] > 0 for t in expected) < len(expected) and time.monotonic() < deadline:
                fake.changed.clear()
                try:
                    await asyncio.wait_for(fake.changed.wait(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
            replied_in = time.perf_counter() - started
            await asyncio.sleep(0.5)  # a late duplicate reply would show up here
            async with session.get(f"{url}/metrics") as r:
                metrics = await r.text() if r.status == 200 else ""
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        await runner.cleanup()
    answered = sum(1 for t in expected if fake.tokens[t] >= 1)
    duplicates = 0 if args.echo else sum(n - 1 for n in fake.tokens.values() if n > 1)
    unexpected = sum(n for t, n in fake.tokens.items() if t not in expected)
    if args.wrk:  # wrk keeps its own histogram
        p50, p90, p99, top = (v * 1000 for v in wrk_lat)
    else:
        p50, p90, p99, top = (v * 1000 for v in (pct(latencies, 50), pct(latencies, 90), pct(latencies, 99),
                                                 max(latencies, default=0)))
    print(f"server            {'echo bot (the floor)' if args.echo else 'python -m bot serve'}")
    print(f"requests          {args.requests} ({unique} distinct events, {args.requests - unique} redeliveries), "
          f"concurrency {args.concurrency}, after {args.warmup} warm-up requests, "
          + (f"open loop at {args.rate:g}/s (latency from each request's due time)" if args.rate
             else "closed loop (each connection sends again once acknowledged)"))
    print(f"throughput        {(sent if args.wrk else args.requests) / sent_in:.0f} requests/s "
          f"(all acknowledged in {sent_in:.2f}s)")
    print(f"ack latency       p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms"
          + (" (wrk)" if args.wrk else " (aiohttp)"))
    if args.large:
        print(f"large messages    {args.large} of {args.large_size // 1000} KB sent with the first requests; "
              f"acknowledged in max {max(large_acks, default=0) * 1000:.0f} ms (not in the latencies above)")
    print(f"errors            {sum(errors.values())}" + (f" {dict(errors)}" if errors else ""))
    print(f"replies           {fake.bodies} sent ({fake.pushes} as pushes, past the reply window) / "
          f"{len(expected)} expected; answered {answered}, "
          f"duplicates {duplicates}, unexpected {unexpected}, wrong token {fake.bad_auth}; "
          f"all replies in {replied_in:.2f}s")
    answers = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                  if line.startswith("madoguchi_answers_total{"))
    print(f"server            {answers:.0f} answers counted in /metrics (warm-up included); log {log_path.stat().st_size} bytes")
    print(f"target            p99 < {TARGET_P99_MS:.0f} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'}")
    tmp.cleanup()
    if trace:
        t0 = min(t for t, _ in trace)
        for t, lat in sorted(trace, key=lambda x: -x[1])[:15]:
            print(f"  slow: sent at +{(t - t0) * 1000:.0f} ms took {lat * 1000:.0f} ms")
    ok = not errors and answered == len(expected) and duplicates == 0 and unexpected == 0 and not fake.bad_auth
    if args.strict:
        ok = ok and p99 < TARGET_P99_MS
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--duplicates", type=float, default=0.05, help="share of requests that are redeliveries")
    p.add_argument("--timeout", type=float, default=180.0, help="bound on the whole run, seconds")
    p.add_argument("--warmup", type=int, default=100, help="requests sent (and answered) before measuring")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--large", type=int, default=0, metavar="N",
                   help="also send N large messages with the first requests (the GIL held by matching)")
    p.add_argument("--large-size", type=int, default=100_000, metavar="BYTES")
    p.add_argument("--server-prefix", default="", metavar="CMD",
                   help='run the server under CMD, e.g. "py-spy record -o profile.txt --format raw --"')
    p.add_argument("--server-args", default="", metavar="ARGS",
                   help="more `bot serve` options, e.g. '--http h11 --loop asyncio' (the pure-Python fallback)")
    p.add_argument("--rate", type=float, default=0.0, metavar="PER_S",
                   help="open loop: send at this many requests/s in all, spread over the connections "
                        "(default: closed loop, as fast as acknowledged)")
    p.add_argument("--echo", action="store_true", help="load benchmarks/echo_bot.py instead (the stack's floor)")
    p.add_argument("--wrk", action="store_true", help="send the load with wrk (C, less CPU) instead of aiohttp")
    p.add_argument("--strict", action="store_true", help="also fail when p99 misses the target")
    args = p.parse_args()
    if args.wrk and (args.rate or not shutil.which("wrk")):
        p.error("--wrk needs wrk on PATH (apt-get install wrk) and a closed loop (no --rate)")
    if args.requests < 1 or args.concurrency < 1 or not 0 <= args.duplicates < 1:
        p.error("need --requests ≥ 1, --concurrency ≥ 1 and 0 ≤ --duplicates < 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
