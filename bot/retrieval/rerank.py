"""Rerank the fused candidates with a small softmax model, and say how sure it is.

The linear fusion weighs a lexical and a dense score by hand; it cannot see
that a name typed in full, a clear lead on both sides, or an example written
in the resident's own words are worth more than the sum of two scores. Here
each of the first few fused candidates is described by a handful of features
(both scores, the evidence behind them, each side's rank and each candidate's
lead over the others) and a softmax over the candidates (a conditional logit)
gives the probability that each is the service meant. One more row stands for
"none of these": its features describe the question as a whole (how well the
best candidates match, and how close the message is to questions no council
handles, `_common/out_of_scope.yaml`), so the model can say that nothing
offered fits instead of spreading its certainty over look-alikes. The model
is data: `rerank.json` beside this module, fitted by `benchmarks/fit_rerank.py`
on the knowledge's own examples (each one asked as if unseen, its fold of
examples left out of both indexes) and the out-of-scope questions, never on
evaluation questions, and stamped with a hash of what it was fitted on, so
`kb check` can say when it is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.knowledge.model import Knowledge
from bot.retrieval.fusion import Ranking
from bot.retrieval.matcher import Match

__all__ = ["FEATURES", "NONE_FEATURES", "Reranker", "features", "none_row", "with_none", "rerank", "knowledge_stamp",
           "stale", "candidates_of", "WEIGHTS_PATH"]

WEIGHTS_PATH = Path(__file__).with_name("rerank.json")

# What describes one candidate; `features` fills them in this order.
FEATURES: tuple[str, ...] = (
    "lexical", "phrase", "coverage", "named", "lexical_extra",
    "cos_best", "cos_head", "cos_top2",
    "fused", "fused_lead", "lexical_lead", "cos_lead",
    "lexical_first", "dense_first", "lexical_rank", "dense_rank",
    "inactive", "lexical_found",
)
_COLUMN = {name: j for j, name in enumerate(FEATURES)}
# What describes "none of these" (the question as a whole); zero on candidates' rows, and the
# candidates' features are zero on its row, so one weight vector scores both.
NONE_FEATURES: tuple[str, ...] = (
    "none", "none_lexical", "none_coverage", "none_phrase", "none_cos", "none_cos_lead", "none_fused",
    "none_found", "none_oos", "none_oos_margin",
)


def knowledge_stamp(knowledge: Knowledge) -> str:
    """A hash of what the model was fitted on: each service's names, summary and examples,
    and the questions no council handles."""
    h = hashlib.sha256()
    if knowledge.out_of_scope:
        h.update(json.dumps(list(knowledge.out_of_scope), ensure_ascii=False).encode())
    for s in sorted(knowledge.services.values(), key=lambda s: s.id):
        h.update(json.dumps([s.id, s.council_id, s.audience, s.status, s.title, list(s.aliases), s.summary,
                             list(s.examples)], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def stale(knowledge: Knowledge, *, path: Path = WEIGHTS_PATH) -> bool:
    """Whether the shipped model was fitted on other knowledge than this
    (it still works, on features any knowledge has, but was not fitted to it)."""
    return path.is_file() and Reranker.load(path).stamp != knowledge_stamp(knowledge)


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


def none_row(x: np.ndarray, *, out_of_scope: float) -> np.ndarray:
    """The `NONE_FEATURES` of a question from its candidates' `features` and its best
    cosine to the out-of-scope questions (0 when there are none)."""
    def best(name: str) -> float:
        return float(x[:, _COLUMN[name]].max()) if len(x) else 0.0

    cos = best("cos_best")
    return np.array([1.0, best("lexical"), best("coverage"), best("phrase"), cos, best("cos_lead"), best("fused"),
                     best("lexical_found"), out_of_scope, out_of_scope - cos if out_of_scope else 0.0])


def with_none(x: np.ndarray, none: np.ndarray) -> np.ndarray:
    """The candidates' rows and the "none of these" row, as one matrix (the none row last)."""
    full = np.zeros((len(x) + 1, len(FEATURES) + len(NONE_FEATURES)))
    full[: len(x), : len(FEATURES)] = x
    full[-1, len(FEATURES):] = none
    return full


@dataclass(frozen=True, slots=True)
class Reranker:
    """A conditional logit over `FEATURES` and `NONE_FEATURES`: p = softmax, over the
    candidates and "none of these", of x·weights."""

    weights: tuple[float, ...]
    candidates: int = 10  # how many fused candidates it reorders
    stamp: str = ""  # `knowledge_stamp` of the knowledge it was fitted on
    features: tuple[str, ...] = FEATURES + NONE_FEATURES

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
        if tuple(data["features"]) != FEATURES + NONE_FEATURES or len(data["weights"]) != len(data["features"]):
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
    out_of_scope: float = 0.0,
) -> Ranking:
    """The ranking with its first offered candidates reordered by the model's
    probability (kept on each match as `p`, and "none of these" as `p_none`);
    topics not offered keep their places. `out_of_scope` is the message's best
    cosine to the questions no council handles."""
    picked = candidates_of(ranking, limit=model.candidates)
    if not picked:
        return ranking
    x = features(picked, lexical_order={m.doc: m.order for m in lexical}, rows=rows, start=start)
    p_all = model.probabilities(with_none(x, none_row(x, out_of_scope=out_of_scope)))
    p, p_none = p_all[:-1], float(p_all[-1])
    order = sorted(range(len(picked)), key=lambda i: -p[i])  # stable: the fused order breaks ties
    reordered = iter([replace(picked[i], p=round(float(p[i]), 4)) for i in order])
    slots = {id(m) for m in picked}
    matches = tuple(next(reordered) if id(m) in slots else m for m in ranking.matches)
    return replace(ranking, matches=matches, p_none=round(p_none, 4))
