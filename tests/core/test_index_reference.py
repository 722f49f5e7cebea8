"""The indexed fast path agrees with a slow, obviously correct reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.assistant import Assistant
from bot.retrieval.index import Index
from bot.language.analysis import KEY_FACTORS, Analysis
from bot.retrieval.matcher import coverage_scores, phrase_scores
from bot.settings import MatchSettings

WORDS = ["車いす", "かぎ", "お弁当", "給食", "せいねんこうけん", "お金", "借りたい", "サロン", "母", "困って",
         "ｸﾙﾏｲｽ", "フードバンク", "理事会", "食べ物", "生活", "の", "を", "預けたい", "サビース", "ごみ"]


def _reference_coverage(index: Index, q: Analysis) -> dict[int, float]:
    """Every service, every field, every key: no postings, no pruning."""
    weights = index.settings.field_weights
    per_doc: list[dict[str, float]] = []
    for s in index.docs:
        keys: dict[str, float] = {}
        fields = {"title": [s.title], "aliases": s.aliases, "examples": s.examples, "summary": [s.summary],
                  "who": [s.who or ""], "how_to_apply": [s.how_to_apply or ""]}
        for name, texts in fields.items():
            for text in texts:
                for unit in index.language.analyze(text).units:
                    for key in unit.keys:
                        keys[key] = max(keys.get(key, 0.0), weights[name])
        per_doc.append(keys)
    from bot.retrieval.matcher import weighted_units

    units = weighted_units(index, q)
    total = sum(w for w, _ in units)
    out: dict[int, float] = {}
    for d, keys in enumerate(per_doc):
        got = sum(w * max((f * keys.get(k, 0.0) for k, f in ks), default=0.0) for w, ks in units)
        if got > 0:
            out[d] = got / total
    return out


def _assistant(fixture_assistant: Assistant) -> Index:
    k = fixture_assistant.knowledge
    return Index(k.services_of("minato"), language=fixture_assistant.language,
                 settings=MatchSettings())


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
@settings(max_examples=120, deadline=None)
def test_coverage_matches_reference(fixture_assistant: Assistant, words: list[str]) -> None:
    index = _assistant(fixture_assistant)
    q = index.language.analyze("".join(words))
    fast = coverage_scores(index, q)
    slow = _reference_coverage(index, q)
    assert fast.keys() == slow.keys()
    for d in fast:
        assert abs(fast[d] - slow[d]) < 1e-9


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
@settings(max_examples=120, deadline=None)
def test_exact_phrases_are_never_pruned(fixture_assistant: Assistant, words: list[str]) -> None:
    index = _assistant(fixture_assistant)
    q = index.language.analyze("".join(words))
    fast = phrase_scores(index, q)
    base = index.settings.phrase_base
    slow: dict[int, float] = {}
    for p in index.phrases:
        if (len(p.reading) >= 2 and p.reading in q.reading) or (len(p.folded) >= 2 and p.folded in q.folded):
            share = min(1.0, len(p.reading) / max(1, len(q.reading)))
            slow[p.doc] = max(slow.get(p.doc, 0.0), base + (1 - base) * share)
    for doc, value in slow.items():
        assert fast.get(doc, 0.0) >= value - 1e-9


def test_key_factors_rank_exact_words_first() -> None:
    assert KEY_FACTORS["w"] == max(KEY_FACTORS.values())


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_bm25_matches_textbook_formula(fixture_assistant: Assistant, words: list[str]) -> None:
    import math

    from bot.retrieval.matcher import bm25

    index = _assistant(fixture_assistant)
    q = index.language.analyze("".join(words))
    counts: list[dict[str, int]] = []
    for s in index.docs:  # every key occurrence of every field, counted plainly
        c: dict[str, int] = {}
        texts = [s.title, *s.aliases, *s.examples, s.summary, s.who or "", s.how_to_apply or ""]
        for text in texts:
            for unit in index.language.analyze(text).units:
                for key in unit.keys:
                    c[key] = c.get(key, 0) + 1
        counts.append(c)
    avg = sum(sum(c.values()) for c in counts) / len(counts)
    docs = list(range(len(index.docs)))
    fast = bm25(index, q, docs)
    for d in docs:
        norm = 1.2 * (0.25 + 0.75 * sum(counts[d].values()) / avg)
        expected = sum(
            max((math.log(1 + len(counts) / sum(1 for c in counts if k in c)) * counts[d][k] * 2.2 / (counts[d][k] + norm)
                 for k in u.keys if k in counts[d]), default=0.0)
            for u in q.units
        )
        assert abs(fast[d] - expected) < 1e-9
