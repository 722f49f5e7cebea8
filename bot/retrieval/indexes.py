"""What one knowledge is searched by: each council's indexes, lexical and dense, and the names of
every council's resident services ("everywhere": is another council's service named here?).

A reload builds only what changed. Given the build it replaces, a council whose services, topics
and the common other offices' topics are unchanged keeps its indexes, and the names are kept while
no title or alias changed: at national scale, one council's edit no longer builds a thousand
councils' indexes again (1,000 councils, 90,800 services: 39.5 s → 0.23 s, `core_bench.py
--councils`). Nothing is kept when
the words (synonyms, ignored words), categories, settings or vectors differ.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.knowledge.consistency import offices_for
from bot.knowledge.model import Council, Knowledge, Service
from bot.language.analysis import Language
from bot.retrieval.dense import DenseIndex
from bot.retrieval.index import Index
from bot.retrieval.names import Names
from bot.retrieval.vectors import VectorCache
from bot.settings import MatchSettings

__all__ = ["Indexes", "build_indexes"]


@dataclass(frozen=True, slots=True)
class Indexes:
    """One build: what it was built from, and its indexes (the assistant's `indexes`, `dense`, `everywhere`)."""

    knowledge: Knowledge
    settings: MatchSettings
    vectors: VectorCache | None  # None: lexical only
    lexical: dict[str, Index]
    dense: dict[str, DenseIndex]
    everywhere: Names
    kept: bool  # built beside a previous build: what it kept was not analysed again


def build_indexes(knowledge: Knowledge, *, language: Language, settings: MatchSettings,
                  vectors: VectorCache | None, previous: Indexes | None = None,
                  only: Collection[str] | None = None) -> Indexes:
    """Every index of `knowledge` (of the councils in `only`, when given; "everywhere" always holds
    every council's names), keeping from `previous` (the build a reload replaces) what did not change."""
    k = knowledge
    if previous is not None and not _alike(previous, k, settings, vectors):
        previous = None
    own_of: dict[str, list[Service]] = {}
    for s in k.services.values():  # once, not once per council: a national knowledge has thousands
        own_of.setdefault(s.council_id, []).append(s)
    old_lexical, old_dense = (previous.lexical, previous.dense) if previous is not None else ({}, {})
    lexical: dict[str, Index] = {}
    dense: dict[str, DenseIndex] = {}
    for cid, council in k.councils.items():
        if only is not None and cid not in only:
            continue
        docs = _entries(k, council, own_of.get(cid, []), previous)
        kept = old_lexical.get(cid)
        if kept is not None and (vectors is None or cid in old_dense) and _adopt(kept, docs, language):
            lexical[cid] = kept
            if vectors is not None:
                dense[cid] = old_dense[cid]
            continue
        lexical[cid] = Index(docs, language=language, categories=k.categories, settings=settings)
        if vectors is not None:
            dense[cid] = DenseIndex(docs, cache=vectors)
    residents = [s for s in k.services.values() if s.audience == "resident" and s.status == "active"]
    if previous is not None and _adopt(previous.everywhere, residents, language, names_only=True):
        everywhere = previous.everywhere
    else:
        everywhere = Names(residents, language=language, settings=settings)
    return Indexes(k, settings, vectors, lexical, dense, everywhere, kept=previous is not None)


def _alike(previous: Indexes, knowledge: Knowledge, settings: MatchSettings, vectors: VectorCache | None) -> bool:
    """Whether `previous` was built as these would be: the same words, categories, settings and vectors."""
    a, b = previous.knowledge, knowledge
    return ((a.synonyms, a.ignore_words, a.excluding, a.categories) == (b.synonyms, b.ignore_words, b.excluding,
                                                                       b.categories)
            and previous.settings == settings and previous.vectors is vectors)


def _entries(knowledge: Knowledge, council: Council, own: list[Service], previous: Indexes | None) -> list[Service]:
    """A council's services, then its "not offered" topics as entries (its own, and the common
    other offices' that name none of its services). Those of a council whose services, topics
    and the common topics are unchanged since `previous` are the ones it had."""
    kept = previous.lexical.get(council.id) if previous is not None else None
    if (kept is not None and previous is not None and previous.knowledge.councils.get(council.id) == council
            and previous.knowledge.other_offices == knowledge.other_offices
            and sum(d.id in previous.knowledge.services for d in kept.docs) == len(own)  # topics are not services
            and kept.docs[: len(own)] == own):
        return own + kept.docs[len(own):]
    gaps = council.not_offered + offices_for(council.id, own, knowledge.other_offices)
    return own + [Service.gap(council, i, n) for i, n in enumerate(gaps)]


def _adopt(index: Names, docs: list[Service], language: Language, *, names_only: bool = False) -> bool:
    """Take over `index` (a previous build's) when it holds exactly `docs` (of a names-only index,
    their names). It then refers to these services and this (equal) language, so that the
    previous knowledge is let go."""
    if not (index.names_are(docs) if names_only else index.docs == docs):
        return False
    index.docs, index.language = docs, language
    return True
