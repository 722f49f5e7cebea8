"""Danger in the wording: naive Bayes over a message's character bigrams and trigrams.

Sentence vectors read what a message means but blur how it is written; the
small turns people in danger use (もう無理, たすけて, 出してくれない, 食べてない)
carry over from one writer to the next in the characters themselves. Judged
across writers (built from one writer's corpus, judging another's, at the
threshold leave-one-out gives), adding this score to the vectors' margin raised
recall from 0.90 to 0.95 one way and from 0.74 to 0.78 the other, with fewer
false alarms both ways (benchmarks/danger_calibration.py). Text is compared in its
folded form (hiragana, NFKC, no spaces), so kana-only and half-width messages
meet the same grams as kanji ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np

__all__ = ["Counts", "Wording", "count_arrays", "grams", "gram_counts", "merged"]

Side = Literal["danger", "ordinary"]
Counts = tuple[np.ndarray, np.ndarray]  # grams (str) and how many texts hold each


def grams(folded: str) -> set[str]:
    """The distinct character bigrams and trigrams of a folded text."""
    return {*map("".join, zip(folded, folded[1:])), *map("".join, zip(folded, folded[1:], folded[2:]))}


def gram_counts(folded: Iterable[str]) -> Counter[str]:
    """How many of the folded texts hold each gram: all the model reads of a side's corpus
    (kept between runs by `bot.safety.corpus`)."""
    counts: Counter[str] = Counter()
    for text in folded:
        counts.update(grams(text))
    return counts


def count_arrays(counts: Mapping[str, int]) -> Counts:
    """A mapping of gram counts as (grams, counts) arrays, sorted by gram: kept so
    (`bot.safety.corpus`), they are merged at start-up, not sorted again (`Wording`)."""
    grams = np.array(list(counts), dtype=str)
    order = np.argsort(grams)
    return grams[order], np.fromiter(counts.values(), dtype=np.int64, count=len(counts))[order]


def merged(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(np.concatenate(parts), return_inverse=True)`, for parts that are each
    sorted: a stable sort merges their runs (timsort) in near-linear time, where
    `np.unique`'s sort takes them as unordered (0.05 s of every start for the corpus)."""
    every = np.concatenate(parts) if parts else np.zeros(0, dtype=str)
    order = np.argsort(every, kind="stable")
    ranked = every[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = ranked[1:] != ranked[:-1]
    at = np.empty(len(ranked), dtype=np.intp)
    at[order] = np.cumsum(first) - 1
    return ranked[first], at


def known(vocabulary: np.ndarray, own: set[str]) -> np.ndarray:
    """The positions in `vocabulary` (a sorted array of grams) of those of `own` it holds."""
    if not own or not len(vocabulary):
        return np.zeros(0, dtype=np.intp)
    wanted = np.asarray(list(own))
    at = np.minimum(np.searchsorted(vocabulary, wanted), len(vocabulary) - 1)
    return at[vocabulary[at] == wanted]


class Wording:
    """Log-count ratios of grams in danger messages against ordinary ones (add-one smoothed).
    The grams are one sorted array and their counts two beside it: a tenth of a dict's memory."""

    def __init__(self, danger: Iterable[str], ordinary: Iterable[str], *, min_count: int = 2) -> None:
        """`danger` and `ordinary` are folded texts; grams seen fewer than `min_count` times
        in all are dropped (they are mostly names and numbers, and cost memory)."""
        self._fit(count_arrays(gram_counts(danger)), count_arrays(gram_counts(ordinary)), min_count=min_count)

    @classmethod
    def from_counts(cls, danger: Mapping[str, int], ordinary: Mapping[str, int], *, min_count: int = 2) -> Wording:
        """The model of two sides already counted (`gram_counts`)."""
        return cls.from_arrays(count_arrays(danger), count_arrays(ordinary), min_count=min_count)

    @classmethod
    def from_arrays(cls, danger: Counts, *ordinary: Counts, min_count: int = 2) -> Wording:
        """The model of two sides counted as (grams, counts) arrays, the ordinary one in parts
        (the corpus', the examples'; a gram's counts add up): kept counts are read as stored,
        with no Python string or dict per gram, which at start-up took tens of MB."""
        self = cls.__new__(cls)
        self._fit(danger, *ordinary, min_count=min_count)
        return self

    def _fit(self, d: Counts, *o: Counts, min_count: int) -> None:
        """Both sides' grams merged in numpy (sorted, summed by gram): a reload refits the
        whole model after any edit to the examples, and over 200,000 grams a dict walk took
        0.2 s of it (this, 0.07 s)."""
        n = len(d[0])
        grams, at = merged([np.asarray(g, dtype=str) for g, _ in (d, *o)])
        counts = np.concatenate([np.asarray(c, dtype=np.int64) for _, c in (d, *o)])
        danger = np.bincount(at[:n], weights=counts[:n], minlength=len(grams))
        ordinary = np.bincount(at[n:], weights=counts[n:], minlength=len(grams))
        keep = danger + ordinary >= min_count
        self._grams = grams[keep]
        self._danger = danger[keep].astype(np.int32)
        self._ordinary = ordinary[keep].astype(np.int32)
        self._danger_total = int(self._danger.sum(dtype=np.int64))
        self._ordinary_total = int(self._ordinary.sum(dtype=np.int64))
        self._vocabulary = len(self._grams)

    def score(self, folded: str, *, leave_out: Side | None = None) -> float:
        """How much more the text's grams belong to danger than to ordinary messages, over the
        square root of their number (so a long story is not louder for its length alone).
        `leave_out` takes the text's own counts out of that side, to judge a corpus message."""
        own = grams(folded)
        at = known(self._grams, own)
        d, o = self._danger[at], self._ordinary[at]
        if leave_out == "danger":
            d = np.maximum(d - 1, 0)
        elif leave_out == "ordinary":
            o = np.maximum(o - 1, 0)
        seen = (d > 0) | (o > 0)
        d, o = d[seen] + 1.0, o[seen] + 1.0
        v = self._vocabulary
        total = float(np.log(d / (self._danger_total + v)).sum() - np.log(o / (self._ordinary_total + v)).sum())
        return total / math.sqrt(max(len(own), 1))
