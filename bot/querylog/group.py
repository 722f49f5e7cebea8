"""Group similar questions, so staff see "12× かぎを預けたい" rather than 12 lines.

Each question is reduced to the readings of its content words' dictionary
forms (鍵を預かってほしい and かぎを預かってほしいです both become
"あずかる かぎ"), then questions are clustered greedily, most frequent first,
by rapidfuzz token similarity of those forms. Questions with no content word
(emoji, a masked number) fall back to their folded text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.language.normalize import fold
from bot.querylog import UnansweredGroup

__all__ = ["question_key", "group_questions", "SIMILAR"]

SIMILAR = 75.0  # token_sort_ratio at which two questions count as the same request
MAX_EXAMPLES = 5
MAX_DISTINCT = 20_000  # keys clustered per council; the rest are counted alone


def question_key(text: str) -> str:
    """The comparison form of a question: sorted readings of its content words."""
    from bot.language.tokens import content_terms, default_tokenizer

    tok = default_tokenizer()
    terms = {tok.reading(t.word) or t.word for t in content_terms(tok.tokenize(text[:500]))}
    terms.discard("")
    return " ".join(sorted(terms)) if terms else fold(text)[:200]


@dataclass(slots=True)
class _Cluster:
    key: str
    count: int = 0
    kinds: Counter = field(default_factory=Counter)
    texts: Counter = field(default_factory=Counter)


def _cluster(rows: list[tuple[str, str]], *, similar: float) -> list[_Cluster]:
    by_key: dict[str, _Cluster] = {}
    for question, kind in rows:
        key = question_key(question)
        c = by_key.setdefault(key, _Cluster(key))
        c.count += 1
        c.kinds[kind] += 1
        c.texts[question.strip()] += 1
    ordered = sorted(by_key.values(), key=lambda c: (-c.count, c.key))
    leaders: list[_Cluster] = []
    keys: list[str] = []
    for c in ordered:
        best = None
        if len(leaders) < MAX_DISTINCT and keys:
            best = process.extractOne(c.key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=similar)
        if best is None:
            leaders.append(c)
            keys.append(c.key)
            continue
        lead = leaders[best[2]]
        lead.count += c.count
        lead.kinds.update(c.kinds)
        lead.texts.update(c.texts)
    return leaders


def group_questions(
    rows: Iterable[tuple[str, str, str]], *, similar: float = SIMILAR
) -> list[UnansweredGroup]:
    """Group (council, masked question, kind) rows; biggest groups first."""
    per_council: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for council, question, kind in rows:
        per_council[council].append((question, kind))
    groups: list[UnansweredGroup] = []
    for council, items in per_council.items():
        for c in _cluster(items, similar=similar):
            examples = tuple(t for t, _ in c.texts.most_common(MAX_EXAMPLES))
            groups.append(UnansweredGroup(council, examples[0] if examples else "", c.count,
                                          dict(c.kinds), examples))
    groups.sort(key=lambda g: (-g.count, g.council, g.example))
    return groups
