"""Understanding benchmark: the dense retriever's cost, side by side with lexical only.

Prints, in one run, medians over repeats:
- per question p50/p99 (ms), encoding the question included, for the fused
  system (reranked), the same with the linear fusion only, and for lexical only,
  over the project's own question sets; the encoder on its default threads
  (`encoder_threads()`), and fused again in a process whose encoder has one;
- the same, fused, for messages of the danger corpus (danger, worries,
  look-alikes: the detector's whole reading);
- start to first answer (`python -m bot ask`, a new process, cached vectors),
  fused and with MADOGUCHI_ENCODER=none;
- a reload after one edited entry (a new example: one passage encoded);
- peak RSS of a process serving the five councils, fused and lexical.

    .venv/bin/python benchmarks/understanding_bench.py [--repeats 3] [--questions 400]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant import Assistant  # noqa: E402
from bot.evaluation.questions import Question, load_questions  # noqa: E402
from bot.knowledge.live import LiveKnowledge  # noqa: E402
from bot.knowledge.loader import default_root, load_knowledge  # noqa: E402
from bot.language.tokens import default_tokenizer  # noqa: E402
from bot.retrieval.encoder import encoder_threads, load_encoder  # noqa: E402
from bot.retrieval.vectors import open_vectors  # noqa: E402

# The project's own sets only: the held-out ones are opened by their measuring run alone.
SETS = ("questions.yaml", "holdout.yaml", "fresh.yaml", "final.yaml", "unseen.yaml")
# Peak RSS from the process's own memory map (VmHWM): ru_maxrss would carry over the
# parent's size from the fork that started it, which here holds two assistants.
RSS = """
from bot.knowledge.live import LiveKnowledge
live = LiveKnowledge()
for c in live.assistant.knowledge.councils:
    live.assistant.ask(c, "一人暮らしの母の通帳の管理が心配です")
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) / 1024)
"""


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def per_question(assistant: Assistant, questions: list) -> tuple[float, float]:
    times = []
    for q in questions:
        default_tokenizer().tokenize.cache_clear()
        t0 = time.perf_counter()
        assistant.ask(q.council, q.text)
        times.append((time.perf_counter() - t0) * 1000)
    return _pct(times, 0.5), _pct(times, 0.99)


def one_thread(questions: int) -> tuple[float, float]:
    """The fused system's p50/p99 per question in a new process whose encoder runs on one thread
    (the engine's thread count is fixed when it loads)."""
    env = dict(os.environ, MADOGUCHI_ENCODER_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--questions", str(questions), "--fused-only"], cwd=ROOT,
                         env=env, check=True, capture_output=True, text=True)
    p50, p99 = out.stdout.split()
    return float(p50), float(p99)


def start_to_answer(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "ask", "--council", "kiyose", "通帳の管理を手伝ってほしい"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def reload_after_edit() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        kb = Path(tmp) / "knowledge"
        shutil.copytree(default_root(), kb)
        live = LiveKnowledge(kb)
        path = kb / "kiyose" / "services" / "kurumaisu-kashidashi.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("examples:\n", f"examples:\n  - 車いすを{random.randint(0, 10**9)}日だけ借りたい\n", 1),
                        encoding="utf-8")
        t0 = time.perf_counter()
        assert live.reload().ok
        return time.perf_counter() - t0


def rss(env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", RSS], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--fused-only", action="store_true", help="print the fused p50 and p99 alone (one repeat)")
    args = ap.parse_args()
    k = load_knowledge()
    status = load_encoder()
    if not status.on:
        print(f"no encoder: {status.reason}")
        return 1
    fused = Assistant(k, vectors=open_vectors(k.root, status.encoder))
    pool = [q for f in SETS for q in load_questions(ROOT / "tests" / "eval" / f)]
    random.Random(7).shuffle(pool)
    questions = pool[: args.questions]
    if args.fused_only:
        print(*per_question(fused, questions))
        return 0
    linear = Assistant(k, vectors=fused.vectors, settings=replace(fused.settings, rerank=False))
    lexical = Assistant(k)
    corpus = [Question("tomakomai", e.text, frozenset(), "corpus") for e in k.crisis]
    random.Random(7).shuffle(corpus)
    messages = corpus[: args.questions]
    env = dict(os.environ)
    off = dict(env, MADOGUCHI_ENCODER="none")
    rows: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, a in (("fused", fused), ("linear", linear), ("lexical", lexical)):
            p50, p99 = per_question(a, questions)
            rows.setdefault(f"{name} p50 ms", []).append(p50)
            rows.setdefault(f"{name} p99 ms", []).append(p99)
        p50, p99 = per_question(fused, messages)
        rows.setdefault("danger p50 ms", []).append(p50)
        rows.setdefault("danger p99 ms", []).append(p99)
        p50, p99 = one_thread(args.questions)
        rows.setdefault("one thread p50 ms", []).append(p50)
        rows.setdefault("one thread p99 ms", []).append(p99)
        rows.setdefault("fused start→answer s", []).append(start_to_answer(env))
        rows.setdefault("lexical start→answer s", []).append(start_to_answer(off))
        rows.setdefault("fused reload after one edit s", []).append(reload_after_edit())
        rows.setdefault("fused RSS MB", []).append(rss(env))
        rows.setdefault("lexical RSS MB", []).append(rss(off))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{len(questions)} questions, {args.repeats} repeats, medians (targets: p99 ≤ 50 ms, start ≤ 2 s, "
          "reload ≤ 1 s, RSS ≤ 400 MB)")
    for name in ("p50 ms", "p99 ms", "start→answer s", "RSS MB"):
        f, lx = med[f"fused {name}"], med[f"lexical {name}"]
        print(f"  {name:<16} fused {f:8.2f}   lexical {lx:8.2f}   ratio {f / lx:5.2f}")
    print(f"  p99 ms without the reranker (linear fusion only): {med['linear p99 ms']:.2f}"
          f" (p50 {med['linear p50 ms']:.2f})")
    threads = getattr(status.encoder, "threads", encoder_threads())
    print(f"  fused, encoder on {threads} threads against one: p99 {med['fused p99 ms']:.2f} against"
          f" {med['one thread p99 ms']:.2f} (ratio {med['fused p99 ms'] / med['one thread p99 ms']:.2f}),"
          f" p50 {med['fused p50 ms']:.2f} against {med['one thread p50 ms']:.2f}")
    print(f"  {len(messages)} messages of the danger corpus, fused: p99 {med['danger p99 ms']:.2f}"
          f" (p50 {med['danger p50 ms']:.2f})")
    print(f"  reload after one edited entry: {med['fused reload after one edit s']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
