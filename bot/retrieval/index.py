"""The search index of one set of services, built once per knowledge load.

Two structures keep a question's cost flat as the knowledge grows:
- an inverted index `key → [(service, field weight)]` over every field, and
- a kana n-gram index over titles and aliases, so only the few names that
  share sounds with the question are compared character by character.
A third, the vocabulary bucketed by first character and length, bounds the
typo search to words that could plausibly be the one meant.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.language.analysis import Language
from bot.knowledge.model import Category, Service
from bot.language.normalize import fold
from bot.settings import MatchSettings

__all__ = ["Phrase", "Index", "grams"]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A title or alias of one service, in the forms the question is compared in."""

    doc: int
    text: str
    reading: str
    folded: str
    grams: int  # how many distinct n-grams it has (a candidate must share a third)


def grams(text: str) -> set[str]:
    """Trigrams of a text, or the text itself when it is shorter."""
    if len(text) < 3:
        return {text} if text else set()
    return {text[i : i + 3] for i in range(len(text) - 2)}


class Index:
    def __init__(
        self,
        services: Sequence[Service],
        *,
        language: Language,
        categories: dict[str, Category] | None = None,
        settings: MatchSettings | None = None,
    ) -> None:
        self.settings = settings or MatchSettings()
        self.language = language
        self.docs: list[Service] = list(services)
        self.n = len(self.docs)
        self.resident = [s.audience == "resident" for s in self.docs]
        weights = self.settings.field_weights
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        self.phrases: list[Phrase] = []
        self.doc_phrases: list[list[int]] = [[] for _ in self.docs]
        # For BM25 re-ranking: occurrences of keys seen more than once, and entry lengths.
        self.repeats: list[dict[str, int]] = []
        self.doc_len: list[int] = []
        self.gram_postings: dict[str, list[int]] = defaultdict(list)
        categories = categories or {}
        for d, s in enumerate(self.docs):
            counts: dict[str, int] = {}
            fields: dict[str, Iterable[str]] = {
                "title": [s.title],
                "aliases": s.aliases,
                "examples": s.examples,
                "summary": [s.summary],
                "who": [s.who or ""],
                "how_to_apply": [s.how_to_apply or ""],
                "category": categories[s.category].terms if s.category in categories else (),
            }
            for name, texts in fields.items():
                w = weights.get(name, 0.0)
                for text in texts:
                    for unit in language.analyze(text).units:
                        for key in unit.keys:
                            if postings[key].get(d, 0.0) < w:
                                postings[key][d] = w
                            counts[key] = counts.get(key, 0) + 1
            self.repeats.append({k: c for k, c in counts.items() if c > 1})  # most words occur once
            self.doc_len.append(sum(counts.values()))
            for text in (s.title, *s.aliases):
                self._add_phrase(d, text)
        self.postings: dict[str, tuple[tuple[int, float], ...]] = {k: tuple(v.items()) for k, v in postings.items()}
        # Forward index (service → key → weight), used for keys too common to walk.
        self.forward: list[dict[str, float]] = [{} for _ in self.docs]
        for key, post in postings.items():
            for d, w in post.items():
                self.forward[d][key] = w
        self.idf: dict[str, float] = {k: math.log(1 + self.n / len(v)) for k, v in self.postings.items()}
        self.unknown_idf = math.log(1 + self.n) + 0.5
        self.avg_len = sum(self.doc_len) / max(1, self.n)
        self.max_df = self.settings.max_postings
        self.buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
        for key in self.postings:
            kind, _, term = key.partition(":")
            if kind in ("r", "w") and len(term) >= 3:
                self.buckets[(kind, term[0])].append(term)

    def _add_phrase(self, doc: int, text: str) -> None:
        reading = self.language.reading(text)
        folded = fold(text)
        if not reading and not folded:
            return
        pid = len(self.phrases)
        self.doc_phrases[doc].append(pid)
        own = grams(reading) | grams(folded)
        self.phrases.append(Phrase(doc, text, reading, folded, len(own)))
        for g in own:
            self.gram_postings[g].append(pid)

    def similar_terms(self, kind: str, term: str, *, limit: int, cutoff: float) -> list[tuple[str, float]]:
        """Knowledge words that look like `term` (typo tolerance), best first."""
        if len(term) < 3:
            return []
        pool = [t for t in self.buckets.get((kind, term[0]), ()) if abs(len(t) - len(term)) <= 2]
        found = process.extract(term, pool, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)
        return [(t, score / 100.0) for t, score, _ in found if t != term]
