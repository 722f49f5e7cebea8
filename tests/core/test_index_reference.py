"""The indexed fast path agrees with a slow, obviously correct reference."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.assistant import Assistant
from bot.retrieval.index import Index
from bot.language.analysis import KEY_FACTORS, Analysis
from bot.language.normalize import fold
from bot.retrieval.matcher import coverage_scores, phrase_scores
from bot.settings import MatchSettings

WORDS = ["車いす", "かぎ", "お弁当", "給食", "せいねんこうけん", "お金", "借りたい", "サロン", "母", "困って",
         "ｸﾙﾏｲｽ", "フードバンク", "理事会", "食べ物", "生活", "の", "を", "預けたい", "サビース", "ごみ"]


def _doc_keys(index: Index) -> list[dict[str, float]]:
    """Every service's keys with the weight of their weightiest field, worked out plainly."""
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
    return per_doc


def _reference_coverage(index: Index, q: Analysis, *, skip: frozenset[str] = frozenset()) -> dict[int, float]:
    """Every service, every field, every key (but `skip`): no postings, no pruning."""
    from bot.retrieval.matcher import weighted_units

    units = weighted_units(index, q)
    total = sum(w for w, _ in units)
    out: dict[int, float] = {}
    for d, keys in enumerate(_doc_keys(index)):
        got = sum(w * max((f * keys.get(k, 0.0) for k, f in ks if k not in skip), default=0.0) for w, ks in units)
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


def _pruning(fixture_assistant: Assistant) -> Index:
    """So few postings allowed that common keys take the pruned path."""
    k = fixture_assistant.knowledge
    return Index(k.services_of("minato"), language=fixture_assistant.language,
                 settings=replace(MatchSettings(), max_postings=2, candidate_pool=3))


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.sets(st.integers(0, 12), max_size=2))
@settings(max_examples=120, deadline=None)
def test_pruned_coverage_is_exact_for_the_pool_and_rare_only_elsewhere(
        fixture_assistant: Assistant, words: list[str], extra: set[int]) -> None:
    index = _pruning(fixture_assistant)
    extra = {d for d in extra if d < index.n}
    q = index.language.analyze("".join(words))
    common = frozenset(k for k in index.vocab if index.df(index.vocab[k]) > index.max_df)
    fast = coverage_scores(index, q, extra=extra)
    exact = _reference_coverage(index, q)
    rare = _reference_coverage(index, q, skip=common)
    for d in fast.keys() | exact.keys():
        got = fast.get(d, 0.0)
        assert abs(got - exact.get(d, 0.0)) < 1e-9 or abs(got - rare.get(d, 0.0)) < 1e-9, d
    # services named by phrase, and those clearly among the best by rare words, get every key counted
    cut = sorted(rare.values(), reverse=True)[index.settings.candidate_pool - 1] if len(rare) >= 3 else -1.0
    for d in extra | {d for d, v in rare.items() if v > cut}:
        assert abs(fast.get(d, 0.0) - exact.get(d, 0.0)) < 1e-9, d


def test_forward_and_inverted_arrays_agree(fixture_assistant: Assistant) -> None:
    index = _assistant(fixture_assistant)
    per_doc = _doc_keys(index)
    weights = index.weights
    ids = {k: key for key, k in index.vocab.items()}
    for key, k in index.vocab.items():
        docs, codes = index.postings(k)
        assert list(docs) == sorted(d for d, keys in enumerate(per_doc) if key in keys)
        for d, code in zip(docs, codes):
            assert weights[code] == per_doc[d][key]
    for d, keys in enumerate(per_doc):
        rows = index.fwd_key[index.fwd_start[d]:index.fwd_start[d + 1]]
        assert list(rows) == sorted(rows) and {ids[k] for k in rows} == set(keys)
        assert min(index.fwd_tf[index.fwd_start[d]:index.fwd_start[d + 1]], default=1) >= 1


@given(st.data(), st.sampled_from([70.0, 85.0, 95.0]))
@settings(max_examples=150, deadline=None)
def test_similar_terms_match_a_scan_of_the_whole_vocabulary(fixture_assistant: Assistant, data: st.DataObject,
                                                            cutoff: float) -> None:
    from rapidfuzz import fuzz

    index = _assistant(fixture_assistant)
    kind = data.draw(st.sampled_from("rw"))
    known = sorted(key[2:] for key in index.vocab if key[0] == kind and len(key) >= 5)
    word = data.draw(st.sampled_from(known))  # a typo of a word the index knows
    at = data.draw(st.integers(1, len(word) - 1))
    edit = data.draw(st.sampled_from(["drop", "swap", "add"]))
    term = {"drop": word[:at] + word[at + 1:], "swap": word[:at] + "ー" + word[at + 1:],
            "add": word[:at] + "ん" + word[at:]}[edit]
    fast = index.similar_terms(kind, term, limit=1000, cutoff=cutoff)
    scan = [t for t in known if len(term) >= 3 and t[0] == term[0] and abs(len(t) - len(term)) <= 2 and t != term]
    assert dict(fast) == {t: fuzz.ratio(term, t) / 100 for t in scan if fuzz.ratio(term, t) >= cutoff}


TEXTS = st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map("".join)


@given(st.lists(st.tuples(TEXTS, st.lists(TEXTS, max_size=3), st.lists(TEXTS, max_size=3), TEXTS,
                          st.sampled_from([None, "母", "困って"]), st.booleans()), min_size=0, max_size=8))
@settings(max_examples=80, deadline=None)
def test_built_arrays_match_a_plain_recount(fixture_assistant: Assistant, entries: list[tuple]) -> None:
    """Occurrences, weightiest fields, lengths, names and their n-grams, counted entry by entry."""
    from bot.retrieval.index import FIELDS
    from bot.retrieval.names import grams

    k = fixture_assistant.knowledge
    base = k.services_of("minato")[0]
    category = next(iter(k.categories))
    docs = [replace(base, id=f"minato/p{i}", title=title, aliases=tuple(aliases), examples=tuple(examples),
                    summary=summary, who=who, category=category if in_category else "none")
            for i, (title, aliases, examples, summary, who, in_category) in enumerate(entries)]
    language = fixture_assistant.language
    index = Index(docs, language=language, categories=k.categories)
    weights = index.weights
    order = sorted(range(len(FIELDS)), key=lambda code: (-weights[code], code))
    names = index.vocab
    for d, s in enumerate(docs):
        texts = ([s.title], s.aliases, s.examples, [s.summary], [s.who or ""], [s.how_to_apply or ""],
                 k.categories[s.category].terms if s.category in k.categories else ())
        best: dict[int, int] = {}
        counts: dict[int, int] = {}
        for code in order:
            for text in texts[code]:
                for unit in language.analyze(text).units:
                    for key in unit.keys:
                        best.setdefault(names[key], code)
                        counts[names[key]] = counts.get(names[key], 0) + 1
        a, b = index.fwd_start[d], index.fwd_start[d + 1]
        assert list(index.fwd_key[a:b]) == sorted(best)
        assert list(index.fwd_tf[a:b]) == [counts[key] for key in sorted(best)]
        assert index.doc_len[d] == sum(counts.values())
        for key, code in best.items():
            docs_of, codes = index.postings(key)
            assert codes[list(docs_of).index(d)] == code
        phrases = [index.phrases[p] for p in index.names_of(d)]
        assert [p.text for p in phrases] == [t for t in (s.title, *s.aliases) if language.reading(t) or fold(t)]
        for p in phrases:
            assert p.reading == language.reading(p.text) and p.folded == fold(p.text)
    for gram, g in index.gram_ids.items():
        holders = list(index.gram_pids[index.gram_start[g]:index.gram_start[g + 1]])
        assert holders == [i for i, p in enumerate(index.phrases) if gram in grams(p.reading) | grams(p.folded)]
