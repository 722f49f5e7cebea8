"""The search index of one set of services, built once per knowledge load.

Two structures keep a question's cost flat as the knowledge grows:
- an inverted index `key → services` over every field, and
- a kana n-gram index over titles and aliases (`bot.retrieval.names`), so only
  the few names that share sounds with the question are compared character by
  character.
A third, the vocabulary bucketed by first character and length, bounds the
typo search to words that could plausibly be the one meant.

Both key indexes (key → services, and service → keys for BM25) and the
n-gram index are flat typed arrays, not Python objects per entry: a national
deployment holds millions of (service, key) pairs, and arrays keep each in
5–6 bytes where a tuple of (int, float) in a per-service dict took about 80.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.model import Category, Service
from bot.language.analysis import Language
from bot.memory import release_freed
from bot.retrieval.names import Names, ints
from bot.settings import MatchSettings

__all__ = ["Index", "FIELDS"]

# The fields of an entry that are indexed, in the order of their weight codes.
FIELDS = ("title", "aliases", "examples", "summary", "who", "how_to_apply", "category")
assert len(FIELDS) <= 8  # a field's rank takes three bits in `_forward`
_MAX_TF = 0xFFFF  # occurrences of a key in one entry are counted up to this (array('H'))


def _forward(occurrences: np.ndarray, bounds: np.ndarray, *, vocab: int, by_weight: Sequence[int]
             ) -> tuple[array, np.ndarray, array, array, array]:
    """(keys, field codes, counts, starts, lengths) of the forward index, from every key occurrence of
    every entry field by field, weightiest first (`bounds[d·F + r]` ends entry d's r-th weightiest field):
    each entry's distinct keys ascending, with the code of the weightiest field holding it and how
    often it occurs, done as one sort rather than a dictionary per entry."""
    fields = len(by_weight)
    n, v = (len(bounds) - 1) // fields, max(vocab, 1)
    lengths = np.diff(bounds)
    # One number per occurrence, (entry·v + key)·8 + the field's rank (8 fields at most): sorted,
    # it runs by entry, then key, then weightiest field first.
    order = np.repeat((np.arange(n, dtype=np.int64)[:, None] * (v << 3) + np.arange(fields)).ravel(), lengths)
    order += np.left_shift(occurrences, 3, dtype=np.int64)
    order.sort()
    pair = order >> 3
    first = np.flatnonzero(np.diff(pair, prepend=-1))
    pairs = pair[first]
    tf = np.diff(np.append(first, len(pair)))
    return (ints(pairs % v, "i"), np.asarray(by_weight, dtype=np.uint8)[order[first] & 7],
            ints(np.minimum(tf, _MAX_TF), "H"),
            ints(np.concatenate(([0], np.cumsum(np.bincount(pairs // v, minlength=n)))), "i"),
            ints(lengths.reshape(n, fields).sum(axis=1), "i"))


class Index(Names):
    """Its services' names (`Names`), and every field's words. Keys are numbered (`vocab`);
    `post_*[post_start[k]:post_start[k+1]]` are the services of key k in ascending order
    with the code of their best field (`weights[code]`), and `fwd_*[fwd_start[d]:fwd_start[d+1]]`
    the keys of service d in ascending order, with how often each occurs."""

    def __init__(
        self,
        services: Sequence[Service],
        *,
        language: Language,
        categories: dict[str, Category] | None = None,
        settings: MatchSettings | None = None,
    ) -> None:
        super().__init__(services, language=language, settings=settings)
        self.resident = [s.audience == "resident" for s in self.docs]
        self.weights: tuple[float, ...] = tuple(self.settings.field_weights.get(f, 0.0) for f in FIELDS)
        self.vocab: dict[str, int] = {}
        self._by_weight = sorted(range(len(FIELDS)), key=lambda code: -self.weights[code])
        self._build(categories or {})
        release_freed()  # the build's temporary arrays and tables: its peak is twice what the index keeps

    def _build(self, categories: dict[str, Category]) -> None:
        """Every array and table of the index (its temporaries are freed on return)."""
        # Every key occurrence of every entry, field by field in weight order; bounds[d·F + r]
        # is where entry d's r-th weightiest field begins (F fields).
        occurrences, bounds = array("i"), array("q", [0])
        ids: dict[str, tuple[int, ...]] = {}
        for s in self.docs:
            self._entry_keys(s, categories, ids, occurrences, bounds)
        self.fwd_key, fwd_code, self.fwd_tf, self.fwd_start, self.doc_len = _forward(
            np.frombuffer(occurrences, dtype=np.int32), np.frombuffer(bounds, dtype=np.int64),
            vocab=len(self.vocab), by_weight=self._by_weight)
        # The inverted index is the forward one sorted by key (stably, so services stay in order).
        keys = np.frombuffer(self.fwd_key, dtype=np.int32)
        order = np.argsort(keys, kind="stable")
        owners = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(np.frombuffer(self.fwd_start, dtype=np.int32)))
        df = np.bincount(keys, minlength=len(self.vocab))
        self.post_doc = ints(owners[order], "i")
        self.post_doc_np = np.frombuffer(self.post_doc, dtype=np.int32)  # a view, for searching many at once
        self.post_code = ints(fwd_code[order], "B")
        self.post_start = ints(np.concatenate(([0], np.cumsum(df))), "i")
        self.idf = array("d", [math.log(1 + self.n / c) for c in df.tolist()])  # every key has c ≥ 1
        self.unknown_idf = math.log(1 + self.n) + 0.5
        self.avg_len = sum(self.doc_len) / max(1, self.n)
        self.buckets: dict[tuple[str, str, int], list[str]] = defaultdict(list)  # by kind, first character, length
        for key in self.vocab:
            kind, _, term = key.partition(":")
            if kind in ("r", "w") and len(term) >= 3:
                self.buckets[(kind, term[0], len(term))].append(term)

    def _entry_keys(self, s: Service, categories: dict[str, Category], ids: dict[str, tuple[int, ...]],
                    occurrences: array, bounds: array) -> None:
        """Append the key numbers of one entry's fields, weightiest field first, to `occurrences`,
        and where each field ends to `bounds`.

        `ids` remembers each text's key numbers for the rest of the build (texts
        such as category terms and shared examples recur across entries)."""
        fields: tuple[Iterable[str], ...] = (
            [s.title], s.aliases, s.examples, [s.summary], [s.who or ""], [s.how_to_apply or ""],
            categories[s.category].terms if s.category in categories else (),
        )
        vocab = self.vocab
        for code in self._by_weight:
            for text in fields[code]:
                keys = ids.get(text)
                if keys is None:
                    keys = ids[text] = tuple(vocab.setdefault(k, len(vocab)) for u in self.language.unit_keys(text)
                                             for k in u)
                occurrences.extend(keys)
            bounds.append(len(occurrences))

    # -- reading the arrays ------------------------------------------------------
    def df(self, k: int) -> int:
        """How many services have key k."""
        return self.post_start[k + 1] - self.post_start[k]

    def postings(self, k: int) -> tuple[array, array]:
        """(services, field codes) of key k, services ascending."""
        a, b = self.post_start[k], self.post_start[k + 1]
        return self.post_doc[a:b], self.post_code[a:b]

    def among(self, k: int, docs: np.ndarray) -> tuple[list[int], list[int]]:
        """Those of `docs` (ascending int32) that have key k, with their field codes."""
        a, b = self.post_start[k], self.post_start[k + 1]
        have = self.post_doc_np[a:b]
        at = np.searchsorted(have, docs)
        at[at == len(have)] = 0
        hit = have[at] == docs
        return docs[hit].tolist(), [self.post_code[a + i] for i in at[hit].tolist()]

    def similar_terms(self, kind: str, term: str, *, limit: int, cutoff: float) -> list[tuple[str, float]]:
        """Knowledge words that look like `term` (typo tolerance), best first."""
        if len(term) < 3:
            return []
        # Within two characters of its length, and only lengths that can reach `cutoff`
        # (fuzz.ratio is at most 2·min(n, m)/(n + m)).
        n, first = len(term), term[0]
        pool = [t for m in range(n - 2, n + 3) if 200 * min(n, m) >= cutoff * (n + m)
                for t in self.buckets.get((kind, first, m), ())]
        found = process.extract(term, pool, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)
        return [(t, score / 100.0) for t, score, _ in found if t != term]
