"""The web stack's own CPU per answered LINE event, next to a bare echo bot on the same stack.

    .venv/bin/python benchmarks/web_cost.py [--events 1000] [--concurrency 50] [--repeats 5] [--against main] [--pure]
                                            [--rate 300] [--fresh]

Starts the load benchmark's fake LINE Messaging API (aiohttp, 127.0.0.1,
port 0) and, pointed at it, `python -m bot serve` (this tree; also
`--against REV`, exported from git) and `benchmarks/echo_bot.py` (uvicorn +
Starlette + aiohttp and nothing else). Each round sends `--events` signed
text events (the load benchmark's questions) to one server over
`--concurrency` keep-alive connections and waits until every one was
replied to; the server process's CPU time (user + system, /proc) over the
round divided by the events is its CPU per event. Rounds alternate between
the servers, so a busy machine slows all alike; figures are medians.

By default each server is sent events as fast as it answers them, so a
faster server batches more work per wake-up and looks cheaper per event (the
echo bot runs about seven times as many events a second). `--rate N` paces
every server to the same N events a second, the comparison at equal load.

The core's answer time is measured alone, in a fresh process per tree, on
the same questions (`follow_up` then `ask`, as a one-to-one chat does): the
web stack's own cost is the server's CPU per event minus that. Dense
retrieval is off (MADOGUCHI_ENCODER=none) unless `--encoder` says otherwise:
the encoder's time is the core's, and with it the subtraction is of two
large, noisy numbers. Target: ≤ 0.5 ms per event. Linux only (/proc).

By default the events repeat the load benchmark's 16 questions, so after the
warm-up the core's analysis of each is cached. `--fresh` makes every text new
(the question and a number), as residents' messages are: the core then runs
Sudachi on each one, in the server and alone alike.

Beside it, the core's CPU as the server itself counts it on its matching
threads (`madoguchi_answer_cpu_seconds_total`, read from /metrics around
each round): in the server the same answers cost more than alone, because
the loop's work between them takes the GIL and the caches. "rest" is the
server's CPU per event minus that: what the web stack, the stores and the
rendering cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_line import (  # noqa: E402
    QUESTIONS, SECRET, TOKEN, FakeLine, event_body, free_port, pct, sign, wait_healthy)

TARGET_MS = 0.5
CPU_SERIES = re.compile(r"^madoguchi_answer_cpu_seconds_total\{[^}]*\} (\S+)$", re.M)
TICK = os.sysconf("SC_CLK_TCK")
CORE_ALONE = """
import random, sys, time
from bot.knowledge.live import LiveKnowledge
questions, n, fresh = {questions!r}, {n}, {fresh!r}
assistant = LiveKnowledge(None).assistant
rng = random.Random(7)
plan = [rng.choice(questions) + (f" {{i}}" if fresh else "") for i in range(n)]
for q in questions:  # warm, as the server's warm-up round does
    assistant.follow_up("tomakomai", q, last_service=None); assistant.ask("tomakomai", q)
started = time.process_time()
for q in plan:
    if assistant.follow_up("tomakomai", q, last_service=None) is None:
        assistant.ask("tomakomai", q)
print((time.process_time() - started) / n)
"""


def http_stack() -> str:
    """What `--http auto --loop auto` runs on with this interpreter."""
    names = []
    for fast, slow in (("httptools", "h11"), ("uvloop", "asyncio")):
        try:
            __import__(fast)
            names.append(fast)
        except ImportError:
            names.append(slow)
    return " + ".join(names)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def export(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def core_alone(tree: Path, env: dict[str, str], n: int, *, fresh: bool) -> float:
    """CPU seconds per question of the core alone (follow_up, then ask when it is no follow-up)."""
    code = CORE_ALONE.format(questions=QUESTIONS, n=n, fresh=fresh)
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


class Server:
    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict[str, str], port: int,
                 tree: str | None = None) -> None:
        self.name, self.port, self.tree = name, port, tree  # tree: whose core time to subtract
        self.log = tempfile.NamedTemporaryFile(prefix=f"web-cost-{name.replace('/', '_')}-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=self.log)
        self.url = f"http://127.0.0.1:{port}"

    async def healthy(self, session: ClientSession, timeout: float = 120) -> None:
        try:
            await wait_healthy(session, self.url, self.proc, timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{self.name}: {exc}; log {self.log.name}") from exc

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def core_cpu(server: Server, session: ClientSession) -> float | None:
    """The core's CPU seconds so far, as the server counts them on its matching threads
    (`madoguchi_answer_cpu_seconds_total`); None where there is no such series (the echo bot)."""
    async with session.get(f"{server.url}/metrics") as r:
        if r.status != 200:
            return None
        found = CPU_SERIES.findall(await r.text())
    return sum(float(v) for v in found) if found else None


async def round_(server: Server, session: ClientSession, fake: FakeLine, rng: random.Random, *, events: int,
                 concurrency: int, base: int, rate: float = 0.0, fresh: bool = False) -> dict[str, float]:
    """One round: CPU per event (s), ack p50/p99 (s), replies per second. With `rate`, event i
    is sent no sooner than i/rate s after the start, so every server gets the same load. With
    `fresh`, each text is new to the server (a number after the question): nothing is cached."""
    plan = [event_body(base + i, rng, text=f"{rng.choice(QUESTIONS)} {base + i}" if fresh else None)
            for i in range(events)]
    expected = {token for token, _ in plan}
    queue = list(reversed(list(enumerate(plan))))
    acks: list[float] = []

    async def worker() -> None:
        while queue:
            i, (_, body) = queue.pop()
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            headers = {"content-type": "application/json", "x-line-signature": sign(body)}
            t0 = time.perf_counter()
            async with session.post(f"{server.url}/line/tomakomai", data=body, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{server.name}: HTTP {r.status}")
            acks.append(time.perf_counter() - t0)

    core0 = await core_cpu(server, session)
    cpu0, t0 = cpu_seconds(server.proc.pid), time.perf_counter()
    start = t0
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    deadline = time.monotonic() + 120
    while sum(fake.tokens[t] > 0 for t in expected) < len(expected):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: replies missing")
        fake.changed.clear()
        try:
            await asyncio.wait_for(fake.changed.wait(), 1.0)
        except TimeoutError:
            pass
    elapsed = time.perf_counter() - t0
    (user0, sys0), (user1, sys1) = cpu0, cpu_seconds(server.proc.pid)
    core1 = await core_cpu(server, session)
    doubled = sum(fake.tokens[t] > 1 for t in expected)
    if doubled:
        raise RuntimeError(f"{server.name}: {doubled} events answered twice")
    return {"cpu": (user1 - user0 + sys1 - sys0) / events, "sys": (sys1 - sys0) / events, "p50": pct(acks, 50), "p99": pct(acks, 99), "rate": events / elapsed,
            "core": (core1 - core0) / events if core0 is not None and core1 is not None else float("nan")}


async def run(args: argparse.Namespace) -> int:
    fake = FakeLine()
    app = web.Application()
    app.router.add_post("/v2/bot/message/reply", fake.reply)
    app.router.add_post("/v2/bot/chat/loading/start", lambda r: web.json_response({}, status=202))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    tmp = tempfile.TemporaryDirectory(prefix="madoguchi-web-cost-")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "MADOGUCHI_ENCODER")}
    env.update(MADOGUCHI_COUNCIL="tomakomai", LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
               LINE_API_ENDPOINT=fake_url)
    if args.encoder != "default":
        env["MADOGUCHI_ENCODER"] = args.encoder
    trees = {"this": ROOT}
    if args.against:
        trees[args.against] = export(args.against, Path(tmp.name) / "tree")
    servers: list[Server] = []
    pure = ["--http", "h11", "--loop", "asyncio"]
    variants = [("", [])] + ([(", h11", pure)] if args.pure else [])
    for name, tree in trees.items():
        for suffix, flags in variants if name == "this" else variants[:1]:
            data = Path(tmp.name) / f"data-{len(servers)}"
            port = free_port()
            servers.append(Server(name + suffix, [sys.executable, "-m", "bot", "serve", "--port", str(port),
                                                  "--no-access-log", "--log-level", "warning", *flags], tree,
                                  {**env, "PYTHONPATH": str(tree), "MADOGUCHI_DATA_DIR": str(data)}, port, tree=name))
    for suffix, flags in variants:
        port = free_port()
        servers.append(Server("echo bot" + suffix, [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py"),
                                                    "--port", str(port), *flags], ROOT, env, port))
    rng = random.Random(args.seed)
    results: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
    try:
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends them: with several servers,
        # one waits through the others' rounds, and a connection the server closed fails the next POST.
        connector = TCPConnector(limit=args.concurrency, keepalive_timeout=2.0)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=60)) as session:
            for s in servers:
                await s.healthy(session)
            base = 0
            for s in servers:  # warm-up: routes built, connections open, caches filled; not measured
                await round_(s, session, fake, rng, events=args.warmup, concurrency=args.concurrency, base=base)
                base += args.warmup
            for r in range(args.repeats):
                order = servers[r % len(servers):] + servers[:r % len(servers)]
                for s in order:
                    results[s.name].append(await round_(s, session, fake, rng, events=args.events,
                                                        concurrency=args.concurrency, base=base, rate=args.rate,
                                                        fresh=args.fresh))
                    base += args.events
    finally:
        for s in servers:
            s.stop()
        await runner.cleanup()
    core = {name: statistics.median(core_alone(tree, env, args.core_questions, fresh=args.fresh) for _ in range(3))
            for name, tree in trees.items()}
    tmp.cleanup()

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    echo = med("echo bot", "cpu")

    def fmt(seconds: float) -> str:
        return "-" if seconds != seconds else f"{seconds * 1e3:.2f}ms"

    pace = f"at {args.rate:g} events/s" if args.rate else "as fast as answered"
    texts = "each text new (--fresh)" if args.fresh else f"{len(QUESTIONS)} texts repeated"
    print(f"{args.events} text events per round {pace}, {texts}, concurrency {args.concurrency}, {args.repeats} rounds per server "
          f"(alternating), medians; MADOGUCHI_ENCODER={args.encoder}; HTTP {http_stack()}")
    print(f"{'':18}{'CPU/event':>11}{'(system)':>10}{'core alone':>12}{'web stack':>11}{'× echo':>8}{'core in srv':>13}"
          f"{'rest':>9}{'ack p50':>10}{'ack p99':>10}{'replies/s':>11}")
    for s in servers:
        cpu = med(s.name, "cpu")
        c = core.get(s.tree) if s.tree else None
        own = cpu - c if c is not None else cpu
        inside = med(s.name, "core")  # nan where the server does not count it
        peer = med("echo bot, h11" if s.name.endswith(", h11") else "echo bot", "cpu")  # the same HTTP stack
        print(f"{s.name:18}{cpu * 1e3:>9.2f}ms{med(s.name, 'sys') * 1e3:>8.2f}ms{(f'{c * 1e3:.2f}ms' if c is not None else '-'):>12}"
              f"{own * 1e3:>9.2f}ms{own / peer:>8.2f}{fmt(inside):>13}{fmt(cpu - inside):>9}{med(s.name, 'p50') * 1e3:>8.1f}ms"
              f"{med(s.name, 'p99') * 1e3:>8.1f}ms{med(s.name, 'rate'):>11.0f}")
    own = med("this", "cpu") - core["this"]
    print(f"target            web stack ≤ {TARGET_MS} ms per event: {'met' if own * 1e3 <= TARGET_MS else 'NOT met'} "
          f"({own * 1e3:.2f} ms; the echo bot's floor on this stack is {echo * 1e3:.2f} ms)")
    inside = med("this", "cpu") - med("this", "core")
    print(f"                  with the core's CPU as the server counts it on its threads: {inside * 1e3:.2f} ms "
          f"(the core takes {med('this', 'core') / core['this']:.2f}× its time alone: it shares the GIL and the caches)")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--rate", type=float, default=0.0,
                   help="send at most this many events per second, the same for every server (0: as fast as answered)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--core-questions", type=int, default=2000)
    p.add_argument("--against", default="", help="git revision to measure too (e.g. main)")
    p.add_argument("--pure", action="store_true", help="also this tree and the echo bot on h11 and asyncio")
    p.add_argument("--encoder", default="none", help="MADOGUCHI_ENCODER for the servers ('default': dense on)")
    p.add_argument("--fresh", action="store_true",
                   help="a new text per event (the question and a number), as real traffic: no analysis is cached")
    p.add_argument("--seed", type=int, default=7)
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
