"""Score a question against one index: which services fit, and how well (0–1).

Two signals, each on a 0–1 scale, are combined:
- `phrase`: a title or alias of the service appears in the question, exactly
  or nearly (kana readings compared with rapidfuzz, so 給食サビース and
  せいねんこうけん still meet 給食サービス and 成年後見);
- `coverage`: the share of the question's meaning (its words, weighted by
  rarity) that the service's fields explain.
Only services reached through the index are scored. The best few are then
ordered with a small BM25 term as well (see `bm25`); the score shown and used
for deciding stays the combined signal.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.retrieval.index import Index
from bot.retrieval.names import Names, Phrase, grams
from bot.language.analysis import KEY_FACTORS, Analysis
from bot.knowledge.model import Audience, Service

__all__ = ["Match", "rank", "phrase_scores", "coverage_scores", "named_exactly", "excluded", "weighted_units", "bm25"]


@dataclass(frozen=True, slots=True)
class Match:
    service: Service
    score: float
    phrase: float
    coverage: float
    named: bool = False  # one of its names (3 kana or more) is in the question exactly
    doc: int = -1  # its row in the index (and in the dense index of the same services)
    order: float = 0.0  # the lexical order key (score, name closeness, BM25)
    lexical: float = 0.0  # the lexical score alone (== score before fusion)
    dense: float | None = None  # cosine of the message to its closest passage, when dense is on
    p: float | None = None  # the reranker's probability that it is the service meant (`bot.retrieval.rerank`)


def _name_similarities(index: Names, q: Analysis) -> Iterator[tuple[Phrase, float]]:
    """(name, similarity 0–1) for the names sharing enough sounds with the question.

    1.0 means the name appears in the question exactly; near misses are scaled
    so the cut-off is worth `fuzzy_floor_value`.
    """
    s = index.settings
    qgrams = grams(q.reading) | grams(q.folded)
    if len(q.reading) >= 2:
        qgrams |= {q.reading[i : i + 2] for i in range(len(q.reading) - 1)}
        qgrams |= {q.folded[i : i + 2] for i in range(len(q.folded) - 1)}
    hits: Counter[int] = Counter()
    ids, start, names = index.gram_ids, index.gram_start, index.gram_pids
    for g in qgrams:
        i = ids.get(g)
        if i is not None and 0 < start[i + 1] - start[i] <= index.max_df:
            hits.update(names[start[i] : start[i + 1]])
    for pid, n in hits.most_common(s.phrase_candidates * 4):
        p = index.phrases[pid]
        if n < max(1, p.grams // 3):
            continue
        if (len(p.reading) >= 2 and p.reading in q.reading) or (len(p.folded) >= 2 and p.folded in q.folded):
            yield p, 1.0
        elif len(p.reading) >= s.fuzzy_phrase_len:
            # partial_ratio aligns the shorter string inside the longer; a name longer
            # than the whole question must be compared whole, or "お弁当" would fully
            # "contain" every alias that starts with it.
            if len(p.reading) <= len(q.reading):
                floor = s.phrase_min
                raw = fuzz.partial_ratio(p.reading, q.reading, score_cutoff=floor * 100) / 100.0
            else:
                floor = s.whole_min
                raw = fuzz.ratio(p.reading, q.reading, score_cutoff=floor * 100) / 100.0
            if raw > 0:
                yield p, s.fuzzy_floor_value + (1 - s.fuzzy_floor_value) * (raw - floor) / (1 - floor)


def _set_aside(p: Phrase, q: Analysis, markers: tuple[str, ...]) -> bool:
    """The name is in the message only to set it aside: 「〇〇以外で」, 「〇〇ではなく」,
    「〇〇に通っていますが、ほかに」. The markers are data (`excluding` in `_common/synonyms.yaml`)."""
    at = q.folded.find(p.folded)
    while at != -1:
        if q.folded[at + len(p.folded):].lstrip("」』)）、 ").startswith(markers):
            return True
        at = q.folded.find(p.folded, at + 1)
    return False


def excluded(index: Index, q: Analysis) -> set[int]:
    """Services whose name is in the message only to set them aside."""
    return _phrases(index, q)[2]


def named_exactly(index: Names, q: Analysis, *, min_length: int = 3) -> set[int]:
    """Services one of whose names (at least `min_length` kana) is in the question as typed."""
    return _phrases(index, q, min_named=min_length)[1]


def phrase_scores(index: Names, q: Analysis) -> dict[int, float]:
    """Best title/alias evidence per service, for services sharing sounds with the question."""
    return _phrases(index, q)[0]


def _phrases(index: Names, q: Analysis, *, min_named: int = 3) -> tuple[dict[int, float], set[int], set[int]]:
    """`phrase_scores`, the services whose name is in the question exactly, and those
    whose name is there only to be set aside — all from one pass over the names."""
    s = index.settings
    markers = index.language.excluding
    out: dict[int, float] = {}
    named: set[int] = set()
    aside: set[int] = set()
    for p, sim in _name_similarities(index, q):
        if sim >= 1.0 and markers and len(p.folded) >= 2 and _set_aside(p, q, markers):
            aside.add(p.doc)
        if sim >= 1.0 and len(p.reading) >= min_named:
            named.add(p.doc)
        # A short name inside a long question is weaker evidence than the same name alone.
        share = min(1.0, len(p.reading) / max(1, len(q.reading)))
        sim *= s.phrase_base + (1.0 - s.phrase_base) * share
        if sim > out.get(p.doc, 0.0):
            out[p.doc] = sim
    return out, named, aside


def weighted_units(index: Index, q: Analysis) -> list[tuple[float, list[tuple[str, float]]]]:
    """Each question word as (weight, [(index key, factor)]), typos expanded."""
    s = index.settings
    units: list[tuple[float, list[tuple[str, float]]]] = []
    for u in q.units:
        keys: list[tuple[str, float]] = []
        idf = 0.0
        for key in u.keys:
            k = index.vocab.get(key)
            if k is not None:
                keys.append((key, KEY_FACTORS[key[0]]))
                idf = max(idf, index.idf[k])
        if not any(k[0] in "wrs" for k, _ in keys):  # nothing exact: try near spellings
            for key in u.keys:
                kind, _, term = key.partition(":")
                if kind not in ("r", "w"):
                    continue
                for near, sim in index.similar_terms(kind, term, limit=s.fuzzy_limit, cutoff=s.fuzzy_min):
                    nk = f"{kind}:{near}"
                    keys.append((nk, KEY_FACTORS["f"] * sim))
                    idf = max(idf, index.idf[index.vocab[nk]])
        units.append((idf or index.unknown_idf, keys))
    return units


def coverage_scores(
    index: Index,
    q: Analysis,
    *,
    extra: set[int] | frozenset[int] = frozenset(),
    units: list[tuple[float, list[tuple[str, float]]]] | None = None,
) -> dict[int, float]:
    """Share of the question's (rarity-weighted) words each service explains.

    Keys rare enough are walked through their postings; keys shared by more
    than `max_df` services only add to the best `candidate_pool` services found
    so far (and `extra`, the services named by phrase), found in the key's
    postings by binary search. On knowledge where no key is that common the
    result is exact.
    `units` are the question's `weighted_units`, when already worked out.
    """
    units = weighted_units(index, q) if units is None else units
    total = sum(w for w, _ in units)
    if total <= 0:
        return {}
    weights = index.weights
    per_unit: list[dict[int, float]] = []
    common: list[tuple[int, int, float]] = []
    for u, (_, keys) in enumerate(units):
        best: dict[int, float] = {}
        for key, factor in keys:
            k = index.vocab[key]
            if index.df(k) > index.max_df:
                common.append((u, k, factor))
                continue
            value = [factor * w for w in weights]  # by field code
            docs, codes = index.postings(k)
            for doc, code in zip(docs, codes):
                v = value[code]
                if v > best.get(doc, 0.0):
                    best[doc] = v
        per_unit.append(best)
    if common:
        partial: dict[int, float] = {}
        for (weight, _), best in zip(units, per_unit):
            for doc, v in best.items():
                partial[doc] = partial.get(doc, 0.0) + weight * v
        pool = set(heapq.nlargest(index.settings.candidate_pool, partial, key=partial.__getitem__)) | set(extra)
        if not pool:  # only common words: the first services of the rarest common key
            _, k, _ = min(common, key=lambda c: index.df(c[1]))
            pool = set(index.postings(k)[0][: index.settings.candidate_pool])
        candidates = np.fromiter(sorted(pool), dtype=np.int32, count=len(pool))
        for u, k, factor in common:
            best = per_unit[u]
            for doc, code in zip(*index.among(k, candidates)):
                v = factor * weights[code]
                if v > best.get(doc, 0.0):
                    best[doc] = v
    got: dict[int, float] = {}
    for (weight, _), best in zip(units, per_unit):
        for doc, v in best.items():
            got[doc] = got.get(doc, 0.0) + weight * v
    return {doc: v / total for doc, v in got.items()}


def bm25(
    index: Index,
    q: Analysis,
    docs: list[int],
    *,
    keys: list[list[str]] | None = None,
    k1: float = 1.2,
    b: float = 0.75,
) -> dict[int, float]:
    """Okapi BM25 of the question against `docs` (a few candidates, not the index).

    Coverage says how much of the question an entry explains; BM25 adds how
    much the entry is *about* those words (repeated, in a short entry), which
    separates close neighbours such as two loans or two 後見 services.
    `keys` gives each question word's keys (default: its own; `rank` adds the
    near spellings of a typo, so ボラティア still counts as ボランティア).
    """
    out: dict[int, float] = {}
    words = keys if keys is not None else [list(u.keys) for u in q.units]
    ids = [[k for k in map(index.vocab.get, word) if k is not None] for word in words]
    idf, keys_of, tfs, start = index.idf, index.fwd_key, index.fwd_tf, index.fwd_start
    for d in docs:
        lo, hi = start[d], start[d + 1]  # the service's keys, ascending: found by bisection
        norm = k1 * (1 - b + b * index.doc_len[d] / (index.avg_len or 1))
        total = 0.0
        for word in ids:
            best = 0.0
            for k in word:
                i = bisect_left(keys_of, k, lo, hi)
                if i < hi and keys_of[i] == k:
                    tf = tfs[i]
                    best = max(best, idf[k] * tf * (k1 + 1) / (tf + norm))
            total += best
        out[d] = total
    return out


def _closeness(index: Index, q: Analysis, docs: list[int]) -> dict[int, float]:
    """How close (0–1) each service's nearest name sounds to the whole question."""
    pids = [p for d in docs for p in index.names_of(d)]
    found = process.extract(q.reading, [index.phrases[p].reading for p in pids], scorer=fuzz.ratio, limit=None)
    best: dict[int, float] = {}
    for _, score, i in found:
        d = index.phrases[pids[i]].doc
        best[d] = max(best.get(d, 0.0), score / 100.0)
    return best


def rank(index: Index, q: Analysis, *, audience: Audience = "resident", limit: int | None = None) -> list[Match]:
    """Services of the index that fit the question, best first."""
    s = index.settings
    phrase, named, aside = _phrases(index, q)
    for d in aside:  # a name set aside is no evidence for its service
        phrase.pop(d, None)
        named.discard(d)
    units = weighted_units(index, q)
    cover = coverage_scores(index, q, extra=phrase.keys(), units=units)
    docs = phrase.keys() | cover.keys()
    if audience == "resident":
        docs = {d for d in docs if index.resident[d]}

    def combined(doc: int) -> float:
        score = 1.0 - (1.0 - s.phrase_weight * phrase.get(doc, 0.0)) * (1.0 - cover.get(doc, 0.0))
        if doc in aside:
            score *= s.excluded_factor
        return score * s.ended_factor if index.docs[doc].status in ("ended", "paused") else score

    scores = {d: combined(d) for d in docs}
    top = heapq.nlargest(limit or s.results * 4, scores, key=lambda d: (scores[d], phrase.get(d, 0.0), -d))
    # Near-ties go to the service whose name sounds closest to the whole question
    # ("サロン" → the salon, not every entry that mentions salons).
    shown: dict[int, float] = {}
    order: dict[int, float] = {}
    bm = bm25(index, q, top, keys=[[key for key, _ in keys] for _, keys in units])
    peak = max(bm.values(), default=0.0) or 1.0
    closeness = _closeness(index, q, top)
    for d in top:
        shown[d] = scores[d] + s.name_bonus * closeness.get(d, 0.0)
        order[d] = shown[d] + s.bm25_weight * bm.get(d, 0.0) / peak
    top.sort(key=lambda d: (-order[d], -phrase.get(d, 0.0), index.docs[d].id))
    out = []
    for d in top:
        score = round(min(1.0, shown[d]), 4)
        out.append(Match(index.docs[d], score, round(phrase.get(d, 0.0), 4), round(cover.get(d, 0.0), 4),
                         d in named, doc=d, order=order[d], lexical=score))
    return out
