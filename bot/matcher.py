"""Score a question against one index: which services fit, and how well (0–1).

Two signals, each on a 0–1 scale, are combined:
- `phrase`: a title or alias of the service appears in the question, exactly
  or nearly (kana readings compared with rapidfuzz, so 給食サビース and
  せいねんこうけん still meet 給食サービス and 成年後見);
- `coverage`: the share of the question's meaning (its words, weighted by
  rarity) that the service's fields explain.
Only services reached through the index are scored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.index import Index, grams
from bot.language import KEY_FACTORS, Analysis
from bot.model import Audience, Service

__all__ = ["Match", "rank", "phrase_scores", "coverage_scores"]


@dataclass(frozen=True, slots=True)
class Match:
    service: Service
    score: float
    phrase: float
    coverage: float


def phrase_scores(index: Index, q: Analysis) -> dict[int, float]:
    """Best title/alias similarity per service, for services sharing sounds with the question."""
    s = index.settings
    qgrams = grams(q.reading) | grams(q.folded)
    if len(q.reading) >= 2:
        qgrams |= {q.reading[i : i + 2] for i in range(len(q.reading) - 1)}
        qgrams |= {q.folded[i : i + 2] for i in range(len(q.folded) - 1)}
    hits: Counter[int] = Counter()
    for g in qgrams:
        pids = index.gram_postings.get(g)
        if pids and len(pids) <= index.max_df * 4:
            hits.update(pids)
    out: dict[int, float] = {}
    for pid, n in hits.most_common(s.phrase_candidates * 4):
        p = index.phrases[pid]
        need = len(grams(p.reading) | grams(p.folded))
        if n < max(1, need // 3):
            continue
        if (len(p.reading) >= 2 and p.reading in q.reading) or (len(p.folded) >= 2 and p.folded in q.folded):
            sim = 1.0
        elif len(p.reading) >= 4:
            # partial_ratio aligns the shorter string inside the longer; a name longer
            # than the whole question must be compared whole, or "お弁当" would fully
            # "contain" every alias that starts with it.
            scorer = fuzz.partial_ratio if len(p.reading) <= len(q.reading) else fuzz.ratio
            sim = scorer(p.reading, q.reading, score_cutoff=s.phrase_min * 100) / 100.0
        else:
            sim = 0.0
        if sim > out.get(p.doc, 0.0):
            out[p.doc] = sim
    return out


def _expanded_units(index: Index, q: Analysis) -> list[tuple[float, list[tuple[str, float]]]]:
    """Each question word as (weight, [(index key, factor)]), typos expanded."""
    s = index.settings
    units: list[tuple[float, list[tuple[str, float]]]] = []
    for u in q.units:
        keys: list[tuple[str, float]] = []
        idf = 0.0
        for key in u.keys:
            kind = key[0]
            if key in index.postings:
                keys.append((key, KEY_FACTORS[kind]))
                idf = max(idf, index.idf[key])
        if not any(k[0] in "wrs" for k, _ in keys):  # nothing exact: try near spellings
            for key in u.keys:
                kind, _, term = key.partition(":")
                if kind not in ("r", "w"):
                    continue
                for near, sim in index.similar_terms(kind, term, limit=s.fuzzy_limit, cutoff=s.fuzzy_min):
                    nk = f"{kind}:{near}"
                    keys.append((nk, KEY_FACTORS["f"] * sim))
                    idf = max(idf, index.idf[nk])
        units.append((idf or index.unknown_idf, keys))
    return units


def coverage_scores(index: Index, q: Analysis) -> dict[int, float]:
    """Share of the question's (rarity-weighted) words each service explains."""
    units = _expanded_units(index, q)
    total = sum(w for w, _ in units)
    if total <= 0:
        return {}
    got: dict[int, float] = {}
    for weight, keys in units:
        best: dict[int, float] = {}
        for key, factor in keys:
            postings = index.postings[key]
            if len(postings) > index.max_df and key[0] != "s":
                continue
            for doc, fw in postings:
                v = factor * fw
                if v > best.get(doc, 0.0):
                    best[doc] = v
        for doc, v in best.items():
            got[doc] = got.get(doc, 0.0) + weight * v
    return {doc: v / total for doc, v in got.items()}


def rank(index: Index, q: Analysis, *, audience: Audience = "resident", limit: int | None = None) -> list[Match]:
    """Services of the index that fit the question, best first."""
    s = index.settings
    phrase = phrase_scores(index, q)
    cover = coverage_scores(index, q)
    out: list[Match] = []
    for doc in phrase.keys() | cover.keys():
        service = index.docs[doc]
        if audience == "resident" and service.audience != "resident":
            continue
        p, c = phrase.get(doc, 0.0), cover.get(doc, 0.0)
        score = 1.0 - (1.0 - 0.9 * p) * (1.0 - c)
        if service.status in ("ended", "paused"):
            score *= s.ended_factor
        out.append(Match(service, round(score, 4), round(p, 4), round(c, 4)))
    out.sort(key=lambda m: (-m.score, -m.phrase, m.service.id))
    return out[: limit or s.results * 4]
