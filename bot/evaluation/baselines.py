"""Two baselines a builder would otherwise reach for, on the same knowledge.

- `WRatioBaseline`: rapidfuzz WRatio of the question against titles and aliases.
- `BM25Baseline`: BM25 (bm25s) over SudachiPy tokens of the whole entry.
- `DenseBaseline`: the dense retriever alone (cosine to each entry's closest passage).
None has synonyms, readings, typo expansion, a safety check or "not offered"
knowledge: that is the point of comparing. Their answer/choice thresholds are
fixed, reasonable values, stated here.
"""

from __future__ import annotations

import time

from rapidfuzz import fuzz, process

from bot.assistant import Assistant
from bot.evaluation.questions import Question
from bot.evaluation.scoring import Outcome
from bot.knowledge.model import Knowledge, Service
from bot.language.normalize import normalize
from bot.language.tokens import default_tokenizer

__all__ = ["WRatioBaseline", "BM25Baseline"]


def _residents(knowledge: Knowledge, council: str) -> list[Service]:
    return [s for s in knowledge.services_of(council) if s.audience == "resident"]


def _decide(scores: list[tuple[str, float]], *, answer: float, choice: float, lead: float) -> str:
    if not scores or scores[0][1] < choice:
        return "fallback"
    second = scores[1][1] if len(scores) > 1 else 0.0
    return "answer" if scores[0][1] >= answer and scores[0][1] >= second * lead else "choices"


class WRatioBaseline:
    ANSWER, CHOICE, LEAD = 85.0, 70.0, 1.05

    def __init__(self, knowledge: Knowledge) -> None:
        self._names: dict[str, list[tuple[str, str]]] = {}
        for council in knowledge.councils:
            self._names[council] = [
                (s.id, normalize(name)) for s in _residents(knowledge, council) for name in (s.title, *s.aliases)
            ]

    def __call__(self, q: Question) -> Outcome:
        t0 = time.perf_counter()
        names = self._names[q.council]
        found = process.extract(normalize(q.text), [n for _, n in names], scorer=fuzz.WRatio, limit=40)
        best: dict[str, float] = {}
        for _, s, i in found:
            sid = names[i][0]
            best[sid] = max(best.get(sid, 0.0), s)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        kind = _decide(ranked, answer=self.ANSWER, choice=self.CHOICE, lead=self.LEAD)
        return Outcome(kind, tuple(sid for sid, _ in ranked[:10]), time.perf_counter() - t0)


class BM25Baseline:
    ANSWER, CHOICE, LEAD = 6.0, 3.0, 1.3

    def __init__(self, knowledge: Knowledge) -> None:
        import bm25s  # benchmark-only dependency

        self._tok = default_tokenizer()
        self._models: dict[str, tuple[list[str], object]] = {}
        for council in knowledge.councils:
            services = _residents(knowledge, council)
            corpus = [self._tokens(" ".join((s.title, *s.aliases, s.summary, s.who or "", *s.examples)))
                      for s in services]
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
            self._models[council] = ([s.id for s in services], model)

    def _tokens(self, text: str) -> list[str]:
        return [t.word for t in self._tok.tokenize(text) if t.content] or ["_"]

    def __call__(self, q: Question) -> Outcome:
        t0 = time.perf_counter()
        ids, model = self._models[q.council]
        k = min(10, len(ids))
        docs, scores = model.retrieve([self._tokens(q.text)], k=k, show_progress=False)  # type: ignore[attr-defined]
        ranked = [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if float(s) > 0]
        kind = _decide(ranked, answer=self.ANSWER, choice=self.CHOICE, lead=self.LEAD)
        return Outcome(kind, tuple(sid for sid, _ in ranked), time.perf_counter() - t0)


class DenseBaseline:
    """Madoguchi's own dense retriever, without the lexical side, safety or decision rules."""

    ANSWER, CHOICE, LEAD = 0.88, 0.84, 0.02  # cosines

    def __init__(self, assistant: Assistant) -> None:
        self._a = assistant

    def __call__(self, q: Question) -> Outcome:
        t0 = time.perf_counter()
        vector = self._a.encode(q.text)
        index, dense = self._a.indexes[q.council], self._a.dense[q.council]
        sims = dense.similarities(vector) if vector is not None else []
        ranked = sorted(((index.docs[d].id, float(c)) for d, c in enumerate(sims)
                         if index.resident[d] and index.docs[d].offered), key=lambda kv: -kv[1])[:10]
        kind = "fallback"
        if ranked and ranked[0][1] >= self.CHOICE:
            lead = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
            kind = "answer" if ranked[0][1] >= self.ANSWER and lead >= self.LEAD else "choices"
        return Outcome(kind, tuple(sid for sid, _ in ranked), time.perf_counter() - t0)
