"""Core benchmark: index build time, peak memory and per-question latency.

Runs on the five councils' knowledge and on a synthetic knowledge base of
N services (default 100,000) made from the real entries' words, and prints
p50/p99 per-question latency for both, side by side, on one core.

    .venv/bin/python benchmarks/core_bench.py [--synthetic 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time
from dataclasses import replace

from bot.assistant import Assistant
from bot.retrieval.index import Index
from bot.knowledge.loader import load_knowledge
from bot.retrieval.matcher import rank
from bot.knowledge.model import Knowledge, Service

QUESTIONS = [
    "かぎを預けたい", "一人暮らしの母の家の合鍵を預かってほしい", "給食サビース", "お弁当を届けてほしい",
    "せいねんこうけん", "成年高見について相談したい", "生活福祉四季ん", "お金を借りたい", "くるまいす かりたい",
    "ボランティアをしてみたい", "子ども食堂はありますか", "ｸﾙﾏｲｽ", "認知症の父のお金の管理が心配です",
    "災害のときに手伝いたい", "サロンに参加したい", "ごみの出し方", "こんにちは", "死にたい",
    "仕事がなくて生活費が足りません。家賃も払えなくなりそうで、どこに相談したらいいかわかりません。",
]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(0.99 * len(xs)))]


def _synthetic(k: Knowledge, n: int, *, seed: int = 7) -> list[Service]:
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


def _latencies(fn, questions: list[str]) -> list[float]:
    times = []
    for q in questions:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2_000)
    args = ap.parse_args()
    rng = random.Random(1)
    questions = [rng.choice(QUESTIONS) + rng.choice(["", "？", "です", " について"]) for _ in range(args.queries)]

    rss0 = _rss_mb()
    t0 = time.perf_counter()
    k = load_knowledge()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant = Assistant(k)
    t_build = time.perf_counter() - t0
    rss1 = _rss_mb()
    councils = sorted(k.councils)
    # warm the tokenizer cache the way a running server would be warm
    for q in QUESTIONS:
        assistant.ask(councils[0], q)
    real = _latencies(lambda q: assistant.ask(councils[hash(q) % len(councils)], q), questions)
    p50, p99 = _percentiles(real)
    print(f"real knowledge: {len(k.services)} services, {len(k.councils)} councils")
    print(f"  load+validate {t_load:.2f} s, index build {t_build:.2f} s, peak RSS {rss1:.0f} MB (+{rss1 - rss0:.0f} MB)")
    print(f"  Assistant.ask latency over {len(questions)} questions: p50 {p50:.3f} ms, p99 {p99:.3f} ms")

    if args.synthetic:
        services = _synthetic(k, args.synthetic)
        gc.collect()
        rss2 = _rss_mb()
        t0 = time.perf_counter()
        index = Index(services, language=assistant.language, categories=k.categories)
        t_syn = time.perf_counter() - t0
        rss3 = _rss_mb()
        small = assistant.indexes[councils[0]]
        for q in QUESTIONS:
            rank(index, assistant.analyze(q))
        syn = _latencies(lambda q: rank(index, assistant.analyze(q)), questions)
        ref = _latencies(lambda q: rank(small, assistant.analyze(q)), questions)
        s50, s99 = _percentiles(syn)
        r50, r99 = _percentiles(ref)
        print(f"synthetic knowledge: {len(services)} services")
        print(f"  index build {t_syn:.1f} s, peak RSS {rss3:.0f} MB (+{rss3 - rss2:.0f} MB)")
        print(f"  match latency: p50 {s50:.3f} ms, p99 {s99:.3f} ms")
        print(f"  same questions on {len(small.docs)} services, same run: p50 {r50:.3f} ms, p99 {r99:.3f} ms")
        print(f"  ratio {len(services) / len(small.docs):.0f}x services -> p99 x{s99 / r99:.1f}")


if __name__ == "__main__":
    main()
