"""Rerank the fused candidates with a small softmax model, and say how sure it is.

The linear fusion weighs a lexical and a dense score by hand; it cannot see
that a name typed in full, a clear lead on both sides, or an example written
in the resident's own words are worth more than the sum of two scores. Here
each of the first few fused candidates is described by a handful of features
(both scores, the evidence behind them, each side's rank and each candidate's
lead over the others) and a softmax over the candidates (a conditional logit)
gives the probability that each is the service meant. The model is data: `rerank.json` beside this module,
fitted by `benchmarks/fit_rerank.py` on the knowledge's own examples (each one
asked as if unseen, its fold of examples left out of both indexes), never on
evaluation questions, and stamped with a hash of the knowledge it was fitted
on, so `kb check` can say when it is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.knowledge.model import Service
from bot.retrieval.fusion import Ranking
from bot.retrieval.matcher import Match

__all__ = ["FEATURES", "Reranker", "features", "rerank", "knowledge_stamp", "stale", "candidates_of", "WEIGHTS_PATH"]

WEIGHTS_PATH = Path(__file__).with_name("rerank.json")

# What describes one candidate; `features` fills them in this order.
FEATURES: tuple[str, ...] = (
    "lexical", "phrase", "coverage", "named", "lexical_extra",
    "cos_best", "cos_head", "cos_top2",
    "fused", "fused_lead", "lexical_lead", "cos_lead",
    "lexical_first", "dense_first", "lexical_rank", "dense_rank",
    "inactive", "lexical_found",
)


def knowledge_stamp(services: Iterable[Service]) -> str:
    """A hash of what the model was fitted on: each service's names, summary and examples."""
    h = hashlib.sha256()
    for s in sorted(services, key=lambda s: s.id):
        h.update(json.dumps([s.id, s.council_id, s.audience, s.status, s.title, list(s.aliases), s.summary,
                             list(s.examples)], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def stale(services: Iterable[Service], *, path: Path = WEIGHTS_PATH) -> bool:
    """Whether the shipped model was fitted on other knowledge than these services
    (it still works, on features any knowledge has, but was not fitted to it)."""
    return path.is_file() and Reranker.load(path).stamp != knowledge_stamp(services)


def _lead(values: np.ndarray) -> np.ndarray:
    """Each value minus the best of the others (a lone candidate leads by its own value)."""
    if len(values) < 2:
        return values.copy()
    order = np.argsort(-values, kind="stable")
    best, second = values[order[0]], values[order[1]]
    return values - np.where(np.arange(len(values)) == order[0], second, best)


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest, 1 for the next…; ties keep their order."""
    out = np.empty(len(values), dtype=np.float64)
    out[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return out


def features(
    candidates: Sequence[Match],
    *,
    lexical_order: dict[int, float],
    rows: np.ndarray,
    start: np.ndarray,
) -> np.ndarray:
    """One row of `FEATURES` per candidate (fused matches, best first).

    `lexical_order` is each lexically found service's order key before fusion
    (its score, name closeness and BM25); `rows` the message's cosine to every
    passage and `start` where each service's passages begin (its head first).
    """
    n = len(candidates)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return x
    best, head, top2 = np.empty(n), np.empty(n), np.empty(n)
    for i, m in enumerate(candidates):
        own = rows[start[m.doc]: start[m.doc + 1]]
        if len(own) == 0:
            best[i] = head[i] = top2[i] = 0.0
            continue
        best[i], head[i] = own.max(), own[0]
        top2[i] = best[i] if len(own) < 2 else float(np.partition(own, len(own) - 2)[-2:].mean())
    lexical = np.array([m.lexical for m in candidates])
    fused = np.array([m.score for m in candidates])
    order = np.array([lexical_order.get(m.doc, 0.0) for m in candidates])
    found = np.array([m.doc in lexical_order for m in candidates], dtype=np.float64)
    lex_rank = np.where(found > 0, _ranks(np.where(found > 0, order, -np.inf)), n)
    dense_rank = _ranks(best)
    columns = {
        "lexical": lexical,
        "phrase": np.array([m.phrase for m in candidates]),
        "coverage": np.array([m.coverage for m in candidates]),
        "named": np.array([m.named for m in candidates], dtype=np.float64),
        "lexical_extra": np.where(found > 0, order - lexical, 0.0),
        "cos_best": best, "cos_head": head, "cos_top2": top2,
        "fused": fused, "fused_lead": _lead(fused), "lexical_lead": _lead(lexical), "cos_lead": _lead(best),
        "lexical_first": (lex_rank == 0).astype(np.float64), "dense_first": (dense_rank == 0).astype(np.float64),
        "lexical_rank": 1.0 / (1.0 + lex_rank), "dense_rank": 1.0 / (1.0 + dense_rank),
        "inactive": np.array([m.service.status in ("ended", "paused") for m in candidates], dtype=np.float64),
        "lexical_found": found,
    }
    for j, name in enumerate(FEATURES):
        x[:, j] = columns[name]
    return x


@dataclass(frozen=True, slots=True)
class Reranker:
    """A conditional logit over `FEATURES`: p = softmax over the candidates of x·weights."""

    weights: tuple[float, ...]
    candidates: int = 10  # how many fused candidates it reorders
    stamp: str = ""  # `knowledge_stamp` of the knowledge it was fitted on
    features: tuple[str, ...] = FEATURES

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        z = x @ np.asarray(self.weights)
        e = np.exp(z - z.max())
        return e / e.sum()

    @classmethod
    def load(cls, path: Path | str = WEIGHTS_PATH) -> Reranker:
        """The fitted model; a file fitted on other features is refused (refit it)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: fitted on other features; run benchmarks/fit_rerank.py")
        return cls(tuple(float(w) for w in data["weights"]), candidates=int(data["candidates"]), stamp=str(data["stamp"]))

    def save(self, path: Path | str, **about: object) -> None:
        body = {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "candidates": self.candidates, "stamp": self.stamp, **about}
        Path(path).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def candidates_of(ranking: Ranking, *, limit: int) -> list[Match]:
    """The first `limit` offered services of a fused ranking: what the model reorders."""
    return [m for m in ranking.matches if m.service.offered][:limit]


def rerank(
    ranking: Ranking,
    model: Reranker,
    *,
    lexical: Sequence[Match],
    rows: np.ndarray,
    start: np.ndarray,
) -> Ranking:
    """The ranking with its first offered candidates reordered by the model's
    probability (kept on each match as `p`); topics not offered keep their places."""
    picked = candidates_of(ranking, limit=model.candidates)
    if not picked:
        return ranking
    x = features(picked, lexical_order={m.doc: m.order for m in lexical}, rows=rows, start=start)
    p = model.probabilities(x)
    order = sorted(range(len(picked)), key=lambda i: -p[i])  # stable: the fused order breaks ties
    reordered = iter([replace(picked[i], p=round(float(p[i]), 4)) for i in order])
    slots = {id(m) for m in picked}
    matches = tuple(next(reordered) if id(m) in slots else m for m in ranking.matches)
    return replace(ranking, matches=matches)
