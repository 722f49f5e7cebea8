"""Which kind of danger, in the wording: naive Bayes over character grams, one class per kind.

The sentence vectors tell a carer at breaking point from elder abuse only as far
as their meanings lie apart, and one writer's messages of a kind sit closer to
each other than to the next writer's. The small words that name a kind carry
over better (手をあげ, 通帳, 出してくれない, 後をつけ). Judged across writers
(each writer's danger messages read by a detector built from the others'), adding
these scores to the kinds' densities put the right kind first for 0.880 of the
corpus's messages against 0.803, and raised it for every writer
(benchmarks/danger_calibration.py). Texts are compared folded, as in
`bot.safety.wording`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from bot.safety.wording import grams, known

__all__ = ["KindWording", "count_matrix"]


def count_matrix(counts: Iterable[Mapping[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Groups' gram counts as one matrix: (every gram once, sorted, one row of counts per
    group; a kept matrix is then read without sorting again). `counts` is read once, a
    group at a time, so a generator never holds them all."""
    column: dict[str, int] = {}
    rows = []
    for own in counts:
        at = np.fromiter((column.setdefault(g, len(column)) for g in own), dtype=np.intp, count=len(own))
        rows.append((at, np.fromiter(own.values(), dtype=np.int32, count=len(own))))
    matrix = np.zeros((len(rows), len(column)), dtype=np.int32)
    for row, (at, n) in enumerate(rows):
        matrix[row, at] = n
    grams = np.array(list(column), dtype=str)
    order = np.argsort(grams)
    return grams[order], matrix[:, order]


class KindWording:
    """Per kind, the log-probability of each gram (add-one smoothed over the shared vocabulary)."""

    def __init__(self, kinds: Sequence[str], grams: Sequence[str], counts: np.ndarray, *, min_count: int = 2) -> None:
        """`counts[i, j]`: in how many of kind `kinds[i]`'s folded messages gram `grams[j]`
        occurs (`CorpusCache.grams_by_kind` keeps it between runs); grams seen fewer than
        `min_count` times in all are dropped (mostly names and numbers)."""
        self.kinds: tuple[str, ...] = tuple(kinds)
        keep = np.flatnonzero(counts.sum(axis=0) >= min_count)
        kept = np.asarray(grams, dtype=str)[keep]
        order = np.argsort(kept, kind="stable")  # near-linear on grams already sorted (`count_matrix`)
        self._grams = kept[order]  # sorted, searched: a fraction of a dict's memory
        self._counts = counts[:, keep[order]].astype(np.float32)
        self._totals = self._counts.sum(axis=1, dtype=np.float64)
        self._log = np.log((self._counts + 1) / (self._totals + len(self._grams))[:, None]).astype(np.float32)

    @classmethod
    def from_counts(cls, counts: Mapping[str, Mapping[str, int]], *, min_count: int = 2) -> KindWording:
        """The model of each kind's `gram_counts`."""
        grams, matrix = count_matrix(counts.values())
        return cls(list(counts), grams, matrix, min_count=min_count)

    def scores(self, folded: str, *, leave_out: str | None = None) -> dict[str, float]:
        """Each kind's log-likelihood of the text's known grams, over the square root of the
        text's number of grams (as `Wording.score`). `leave_out` takes the text's own counts
        out of that kind, to judge a corpus message as if unseen."""
        own = grams(folded)
        columns = known(self._grams, own)
        if not len(columns):
            return dict.fromkeys(self.kinds, 0.0)
        per_kind = self._log[:, columns].sum(axis=1, dtype=np.float64)
        if leave_out in self.kinds:
            row = self.kinds.index(leave_out)
            counts = np.maximum(self._counts[row, columns] - 1, 0)
            total = self._totals[row] - len(columns) + len(self._grams)
            per_kind[row] = float(np.log((counts + 1) / total).sum())
        scale = len(own) ** 0.5
        return {kind: float(s) / scale for kind, s in zip(self.kinds, per_kind)}
