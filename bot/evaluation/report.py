"""`python -m bot eval`: Madoguchi and the baselines, per council and overall."""

from __future__ import annotations

import time
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.assistant import Assistant
from bot.evaluation.questions import Question, load_questions
from bot.evaluation.scoring import Figures, Outcome, score
from bot.knowledge.loader import load_knowledge
from bot.language.tokens import default_tokenizer
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import open_vectors

__all__ = ["run", "madoguchi_system", "evaluate"]

_W = 12  # column width: the longest figure name plus a space


def madoguchi_system(assistant: Assistant) -> Callable[[Question], Outcome]:
    def ask(q: Question) -> Outcome:
        t0 = time.perf_counter()
        a = assistant.ask(q.council, q.text)
        return Outcome(a.kind, tuple(o.id for o in a.results), time.perf_counter() - t0,
                       a.danger.kinds if a.danger is not None else ())

    return ask


def evaluate(system: Callable[[Question], Outcome], questions: list[Question]) -> list[tuple[Question, Outcome]]:
    """Each question is timed as a new message: the shared tokeniser cache is
    emptied first, so no system is timed on tokens another system paid for."""
    out = []
    for q in questions:
        default_tokenizer().tokenize.cache_clear()
        out.append((q, system(q)))
    return out


def _row(name: str, f: Figures) -> str:
    cells = [f"{getattr(f, n):>{_W}.{2 if n.endswith('_ms') else 3}f}" for n in Figures.NAMES]
    return f"{name:<14}" + "".join(cells)


def run(*, knowledge: Path | None, questions: Path | None, baselines: bool, out: TextIO, failures: int = 0) -> int:
    k = load_knowledge(knowledge)
    qs = load_questions(questions)
    encoder = load_encoder()
    if not encoder.on:
        out.write(f"dense retrieval off: {encoder.reason}\n")
    fused = Assistant(k, vectors=open_vectors(k.root, encoder.encoder))
    systems: dict[str, Callable[[Question], Outcome]] = {"madoguchi": madoguchi_system(fused)}
    if fused.reranker is not None:  # the same bot with the linear fusion's order and rules: before and after
        systems["fusion"] = madoguchi_system(Assistant(k, vectors=fused.vectors,
                                                       settings=replace(fused.settings, rerank=False)))
    if baselines:
        from bot.evaluation.baselines import BM25Baseline, DenseBaseline, WRatioBaseline

        if encoder.on:
            systems["lexical"] = madoguchi_system(Assistant(k))
            systems["dense"] = DenseBaseline(fused)
        systems["bm25"] = BM25Baseline(k)
        systems["wratio"] = WRatioBaseline(k)
    results = {name: evaluate(system, qs) for name, system in systems.items()}
    councils = sorted({q.council for q in qs})
    header = f"{'':<14}" + "".join(f"{n:>{_W}}" for n in Figures.NAMES)
    out.write(f"{len(qs)} questions, {len(councils)} councils\n")
    for scope in [*councils, "ALL"]:
        out.write(f"\n[{scope}]\n{header}\n")
        for name, pairs in results.items():
            subset = pairs if scope == "ALL" else [(q, o) for q, o in pairs if q.council == scope]
            out.write(_row(name, score(subset)) + "\n")
    by_style: dict[str, list] = {}
    for q, o in results["madoguchi"]:
        by_style.setdefault(q.style, []).append((q, o))
    out.write(f"\n[madoguchi by style]\n{header}\n")
    for style, pairs in sorted(by_style.items()):
        out.write(_row(style, score(pairs)) + "\n")
    if failures:
        out.write("\n[misses]\n")
        shown = 0
        for q, o in results["madoguchi"]:
            wrong = (q.group == "in_scope" and (not o.ranked or o.ranked[0] not in q.expect or o.kind != "answer")) or (
                q.group in ("out_of_scope", "not_offered") and o.kind != "fallback") or (
                q.group == "crisis" and o.kind != "emergency")
            if wrong and shown < failures:
                shown += 1
                out.write(f"{q.council}\t{q.style}\t{q.text}\t{o.kind}\t{list(o.ranked[:3])}\t{sorted(q.expect)}\n")
    return 0
