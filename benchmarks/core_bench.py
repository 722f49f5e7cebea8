"""Core benchmark: index build time, memory and per-question latency, at 1k/10k/100k services.

    .venv/bin/python benchmarks/core_bench.py [--sizes 1000,10000,100000] [--repeats 3]
                                              [--against main] [--queries 1000] [--dense]
                                              [--councils 1000]

Each (tree, size, repeat) runs in a fresh process, so memory is measured
cleanly: a synthetic knowledge base of N services made from the real entries'
words is indexed (as one `Index`), then a mix of questions is ranked on it.
`--against REF` runs the same measurements on that git revision (exported to
a temporary folder) in the same run and prints the ratios side by side
(this tree / REF); figures are medians over `--repeats`.

- build: seconds to build the index; held: RSS the index keeps (after a
  garbage collection); peak: the build's peak RSS growth;
- p50/p99: milliseconds per question (analysis + lexical ranking), one core.

The first row is the five councils' real knowledge (`Assistant`, every index).
`--keys` also measures each tree as after a restart: the same texts' analysis
keys on disk from the previous build (`bot.language.keystore`), the 100k
targets then read from that row. `--dense` adds the semantic layer's cost at each size, from the bundled
encoder's measured speed: passage count, vector memory, encode-once time.
`--councils N` times a reload after one edited example at N councils (the five
real ones copied), keeping what did not change against building all again.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "かぎを預けたい", "一人暮らしの母の家の合鍵を預かってほしい", "給食サビース", "お弁当を届けてほしい",
    "せいねんこうけん", "成年高見について相談したい", "生活福祉四季ん", "お金を借りたい", "くるまいす かりたい",
    "ボランティアをしてみたい", "子ども食堂はありますか", "ｸﾙﾏｲｽ", "認知症の父のお金の管理が心配です",
    "災害のときに手伝いたい", "サロンに参加したい", "ごみの出し方", "こんにちは", "死にたい",
    "仕事がなくて生活費が足りません。家賃も払えなくなりそうで、どこに相談したらいいかわかりません。",
]
TARGET_100K = {"build": 15.0, "held": 400.0, "p99": 5.0}


def _rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(0.99 * len(xs)))]


def _synthetic(k, n: int, *, seed: int = 7):
    """N services built from the real entries' titles, aliases, examples and summaries."""
    rng = random.Random(seed)
    real = [s for s in k.services.values() if s.audience == "resident"]
    kana = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
    out = []
    for i in range(n):
        a, b = rng.choice(real), rng.choice(real)
        name = "".join(rng.choice(kana) for _ in range(rng.randint(3, 6)))
        out.append(replace(
            a,
            id=f"synthetic/s{i}",
            council_id="synthetic",
            title=f"{name}{b.title[: rng.randint(2, 8)]}",
            aliases=(name, *rng.sample(a.aliases, min(1, len(a.aliases)))),
            examples=tuple(rng.sample(b.examples, min(1, len(b.examples)))),
            summary=a.summary.split("。")[0] + "。",
        ))
    return out


def _questions(n: int) -> list[str]:
    rng = random.Random(1)
    return [rng.choice(QUESTIONS) + rng.choice(["", "？", "です", " について"]) for _ in range(n)]


def _latencies(fn, questions: list[str]) -> list[float]:
    times = []
    for q in questions:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def worker(size: int, queries: int) -> dict[str, float]:
    """One measurement in this process (size 0: the real knowledge through `Assistant`)."""
    os.environ["MADOGUCHI_ENCODER"] = "none"  # lexical only: the dense layer is costed apart
    from bot.assistant import Assistant
    from bot.knowledge.loader import load_knowledge

    k = load_knowledge()
    questions = _questions(queries)
    store = None
    if os.environ.get("BENCH_KEYSTORE"):  # keys from the last build, on disk
        from bot.language.keystore import KeyStore, fingerprint

        store, stamp = KeyStore(os.environ["BENCH_KEYSTORE"]), fingerprint(synonyms=k.synonyms,
                                                                            ignore=k.ignore_words)
    gc.collect()
    if size == 0:
        rss0, peak0 = _rss_mb(), _peak_mb()
        t0 = time.perf_counter()
        assistant = Assistant(k, keys=store)
        build = time.perf_counter() - t0
        councils = sorted(k.councils)
        ask = lambda q: assistant.ask(councils[hash(q) % len(councils)], q)  # noqa: E731
        services = len(k.services)
    else:
        from bot.retrieval.index import Index
        from bot.retrieval.matcher import rank

        language = Assistant(k).language  # warm, as a running server's is
        docs = _synthetic(k, size)
        gc.collect()
        rss0, peak0 = _rss_mb(), _peak_mb()
        t0 = time.perf_counter()
        if store is not None:
            language.use_stored(store.load(stamp))
        index = Index(docs, language=language, categories=k.categories)
        if store is not None:
            built, changed = language.stop_storing()
            if changed:
                store.save(stamp, built)
            del built  # as in `Assistant`: nothing holds them once written
        build = time.perf_counter() - t0
        ask = lambda q: rank(index, language.analyze(q))  # noqa: E731
        services = size
    peak = _peak_mb() - peak0
    gc.collect()
    held = _rss_mb() - rss0
    for q in QUESTIONS:
        ask(q)
    p50, p99 = _percentiles(_latencies(ask, questions))
    return {"services": services, "build": build, "held": held, "peak": peak, "p50": p50, "p99": p99}


def reload_worker(councils: int, *, keep: bool) -> dict[str, float]:
    """A reload after one edited example at `councils` councils (the five real ones copied,
    their resident services' titles made distinct), lexical only: the assistant built again,
    or keeping from the one it replaces what did not change."""
    os.environ["MADOGUCHI_ENCODER"] = "none"
    from bot.assistant import Assistant
    from bot.knowledge.loader import load_knowledge

    k = load_knowledge()
    real, copied, services = sorted(k.councils), {}, {}
    for i in range(councils):
        source, cid = real[i % len(real)], f"c{i:04d}"
        copied[cid] = replace(k.councils[source], id=cid)
        for s in k.services_of(source):
            sid = f"{cid}/{s.id.split('/')[1]}"
            services[sid] = replace(s, id=sid, council_id=cid,
                                    title=f"{s.title}{i}" if s.audience == "resident" else s.title)
    big = replace(k, councils=copied, services=services, crisis=())
    t0 = time.perf_counter()
    before = Assistant(big)
    build = time.perf_counter() - t0
    first = next(iter(services))
    edited = replace(big, services={**services, first: replace(services[first],
                                                                examples=(*services[first].examples, "三日だけ借りたい"))})
    gc.collect()
    t0 = time.perf_counter()
    Assistant(edited, previous=before if keep else None)
    return {"services": len(services), "build": build, "reload": time.perf_counter() - t0}


def _export(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(tree: Path, size: int, queries: int, keys: str = "") -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "BENCH_KEYSTORE": keys}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(size),
                          "--queries", str(queries)], cwd=tree, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def dense_costs(sizes: list[int]) -> None:
    """The semantic layer at each size, from the bundled encoder's speed on real passages."""
    import numpy as np

    from bot.knowledge.loader import load_knowledge
    from bot.retrieval.dense import passages_of
    from bot.retrieval.encoder import load_encoder

    status = load_encoder()
    if not status.on:
        print(f"\ndense: {status.reason}")
        return
    k = load_knowledge()
    passages = [p for s in k.services.values() for p in passages_of(s)]
    per_service = len(passages) / len(k.services)
    sample = random.Random(3).sample(passages, min(96, len(passages)))
    status.encoder.passages(sample[:4])  # warm
    t0 = time.perf_counter()
    for i in range(0, len(sample), 16):
        status.encoder.passages(sample[i : i + 16])
    per_passage = (time.perf_counter() - t0) / len(sample)
    dim = status.encoder.dim
    print(f"\ndense layer ({status.model}, {dim} dims): {per_service:.1f} passages per real service, "
          f"encoding {per_passage * 1000:.1f} ms per passage on {getattr(status.encoder, 'threads', 1)} thread(s)")
    print(f"{'services':>10}{'passages':>11}{'float16 MB':>12}{'float32 MB':>12}{'encode once':>13}"
          f"{'flat scan ms':>14}")
    rng = np.random.default_rng(0)
    for n in sizes:
        rows = int(n * per_service)
        matrix = rng.standard_normal((min(rows, 600_000), dim), dtype=np.float32).astype(np.float16)
        query = rng.standard_normal(dim).astype(np.float16)
        t0 = time.perf_counter()
        for _ in range(3):
            matrix @ query
        scan = (time.perf_counter() - t0) / 3 * 1000 * rows / len(matrix)
        print(f"{n:>10,}{rows:>11,}{rows * dim * 2 / 2**20:>12.0f}{rows * dim * 4 / 2**20:>12.0f}"
              f"{rows * per_passage / 3600:>11.1f} h{scan:>14.1f}")
    print("(one council of ~200 services: ~1,000 passages, 0.7 MB float16, a scan well under a millisecond)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--against", default="main", help="git revision to compare with ('' for none)")
    ap.add_argument("--keys", action="store_true", help="also build with the previous build's keys on disk")
    ap.add_argument("--dense", action="store_true", help="also cost the semantic layer at each size")
    ap.add_argument("--councils", type=int, default=0,
                    help="also time a reload after one edit at this many councils (kept vs built again)")
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--reload-worker", choices=("kept", "again"), default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.queries)))
        return
    if args.reload_worker is not None:
        print(json.dumps(reload_worker(args.councils, keep=args.reload_worker == "kept")))
        return
    sizes = [0, *(int(s) for s in args.sizes.split(",") if s.strip())]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this": ROOT}
        if args.against:
            trees[args.against] = _export(args.against, Path(tmp))
        results: dict[str, dict[int, dict[str, float]]] = {name: {} for name in trees}
        warm: dict[str, dict[int, dict[str, float]]] = {name: {} for name in trees}
        for size in sizes:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for _ in range(args.repeats):
                for name, tree in trees.items():  # interleaved, so both see the same machine load
                    runs[name].append(_run(tree, size, args.queries))
            for name in trees:
                results[name][size] = _median(runs[name])
            if args.keys:  # a restart: the keys of the same texts are on disk from the previous build
                runs = {name: [] for name in trees}
                for name, tree in trees.items():
                    _run(tree, size, args.queries, str(Path(tmp) / f"keys-{name}-{size}"))  # writes them
                for _ in range(args.repeats):
                    for name, tree in trees.items():
                        runs[name].append(_run(tree, size, args.queries, str(Path(tmp) / f"keys-{name}-{size}")))
                for name in trees:
                    warm[name][size] = _median(runs[name])
    print(f"core, medians of {args.repeats} fresh processes; one core; "
          f"lexical ranking incl. analysis; {args.queries} questions")
    head = f"{'services':>10}{'build s':>9}{'held MB':>9}{'peak MB':>9}{'p50 ms':>8}{'p99 ms':>8}"
    other = [n for n in trees if n != "this"]
    print(f"{'':6}{head}" + "".join(f"   ratio this/{n}: build held  p99" for n in other))
    def row(size: int, r: dict) -> str:
        return (f"{'real' if size == 0 else '':6}{r['services']:>10,}{r['build']:>9.2f}{r['held']:>9.0f}"
                f"{r['peak']:>9.0f}{r['p50']:>8.2f}{r['p99']:>8.2f}")

    def versus(n: str, r: dict, b: dict) -> str:
        return (f"{n}: {b['build']:.2f} s {b['held']:.0f} MB {b['p99']:.2f} ms → "
                f"×{r['build'] / b['build']:.2f} ×{r['held'] / max(b['held'], 1):.2f} ×{r['p99'] / b['p99']:.2f}")

    for size in sizes:
        r = results["this"][size]
        print(row(size, r) + "".join(f"   {versus(n, r, results[n][size])}" for n in other))
    if args.keys:
        print("again, with the analysis keys of the previous build on disk (a restart):")
        for size, r in warm["this"].items():
            c = results["this"][size]
            print(row(size, r) + f"   build ×{r['build'] / c['build']:.2f} of analysing every text"
                  + "".join(f"; {versus(n, r, warm[n][size])}" for n in other))
    if 100_000 in results["this"]:
        r = warm["this"].get(100_000) or results["this"][100_000]
        print("100k targets: " + ", ".join(f"{key} {r[key]:.2f} (≤ {t:g}, ×{r[key] / t:.2f})"
                                           for key, t in TARGET_100K.items()))
    if args.dense:
        dense_costs([s for s in sizes if s])
    if args.councils:
        national_reload(args.councils, args.repeats)


def national_reload(councils: int, repeats: int) -> None:
    """A reload after one edited example at national scale, each run a fresh process."""
    runs: dict[str, list[dict[str, float]]] = {"kept": [], "again": []}
    for _ in range(repeats):
        for mode in runs:  # interleaved
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--reload-worker", mode,
                                  "--councils", str(councils)], cwd=ROOT, check=True, capture_output=True, text=True)
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    kept, again = _median(runs["kept"]), _median(runs["again"])
    print(f"\nreload after one edited example, {councils:,} councils ({kept['services']:,.0f} services, lexical),"
          f" medians of {repeats}: keeping what did not change {kept['reload']:.2f} s, building again"
          f" {again['reload']:.2f} s (×{kept['reload'] / again['reload']:.3f}); build from nothing"
          f" {statistics.median([kept['build'], again['build']]):.2f} s")


if __name__ == "__main__":
    main()
