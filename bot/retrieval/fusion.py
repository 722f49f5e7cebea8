"""Fuse the lexical and the dense ranking by score, not by rank.

Rank fusion (RRF) forgets whether a lead is clear; here each side keeps its
score. The dense cosine is mapped to 0–1 (`dense_low` → 0, `dense_high` → 1,
linear between: e5 cosines of unrelated Japanese texts sit around 0.75) and
interpolated with the lexical score over the union of both candidate lists.
The result also says which service each side put first, so the decision can
ask whether they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.knowledge.model import Service
from bot.retrieval.matcher import Match
from bot.settings import MatchSettings

__all__ = ["Ranking", "calibrate", "fuse", "lexical_only"]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Candidates best first, and the service each retriever put first (-1: none)."""

    matches: tuple[Match, ...]
    lexical_top: int = -1
    dense_top: int = -1
    dense: bool = False  # whether a dense ranking took part
    # The reranker's probability that none of the candidates is what was asked (None: no reranker).
    p_none: float | None = None

    @property
    def agree(self) -> bool:
        """Both retrievers put the same offered service first, and it leads the fused list."""
        return (self.dense and self.lexical_top >= 0 and self.lexical_top == self.dense_top
                and bool(self.matches) and self.matches[0].doc == self.lexical_top)


def calibrate(cosine: float, *, low: float, high: float) -> float:
    """A cosine as a 0–1 score: `low` and below is 0, `high` and above is 1."""
    return min(1.0, max(0.0, (cosine - low) / (high - low)))


def lexical_only(matches: Sequence[Match]) -> Ranking:
    top = next((m.doc for m in matches if m.service.offered), -1)
    return Ranking(tuple(matches), lexical_top=top)


def fuse(
    lexical: Sequence[Match],
    similarities: np.ndarray,
    docs: Sequence[Service],
    *,
    eligible: Callable[[int], bool],
    settings: MatchSettings,
) -> Ranking:
    """Interpolate calibrated scores over both candidate lists; `eligible` filters dense-only candidates."""
    s = settings
    w = s.dense_weight
    by_doc = {m.doc: m for m in lexical}
    order = np.argsort(-similarities, kind="stable")
    dense_top = -1
    added = 0
    for d in order:
        d = int(d)
        if not eligible(d):
            continue
        if dense_top < 0 and docs[d].offered:
            dense_top = d
        if d not in by_doc and added < s.dense_candidates:
            by_doc[d] = Match(docs[d], 0.0, 0.0, 0.0, doc=d)
            added += 1
        if added >= s.dense_candidates and dense_top >= 0:
            break
    fused: list[Match] = []
    for d, m in by_doc.items():
        cos = float(similarities[d])
        dense = calibrate(cos, low=s.dense_low, high=s.dense_high)
        if docs[d].status in ("ended", "paused"):
            dense *= s.ended_factor
        fused.append(replace(m, score=round((1 - w) * m.lexical + w * dense, 4),
                             order=(1 - w) * m.order + w * dense, dense=round(cos, 4)))
    fused.sort(key=lambda m: (-m.order, -m.phrase, m.service.id))
    lexical_top = next((m.doc for m in lexical if m.service.offered), -1)
    return Ranking(tuple(fused[: max(len(lexical), s.results * 4)]), lexical_top, dense_top, dense=True)
