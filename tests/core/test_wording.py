"""The wording score: naive Bayes over character grams, checked against a plain recount."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

import numpy as np

from bot.safety.wording import Wording, count_arrays, gram_counts, grams, merged

TEXT = st.text(alphabet="あいうえおかきくけこもうむりたすけて", min_size=0, max_size=12)


def reference(danger: list[str], ordinary: list[str], text: str, *, min_count: int, leave_out: str | None) -> float:
    """The same score, counted the slow, obvious way: texts holding each gram, side by side."""
    vocabulary = {g for t in danger + ordinary for g in grams(t)}
    counts = {g: (sum(g in grams(t) for t in danger), sum(g in grams(t) for t in ordinary)) for g in vocabulary}
    counts = {g: c for g, c in counts.items() if c[0] + c[1] >= min_count}
    dt = sum(d for d, _ in counts.values())
    ot = sum(o for _, o in counts.values())
    total = 0.0
    own = grams(text)
    for g in own:
        d, o = counts.get(g, (0, 0))
        if leave_out == "danger":
            d = max(d - 1, 0)
        if leave_out == "ordinary":
            o = max(o - 1, 0)
        if d or o:
            total += math.log((d + 1) / (dt + len(counts))) - math.log((o + 1) / (ot + len(counts)))
    return total / math.sqrt(max(len(own), 1))


@settings(max_examples=150, deadline=None)
@given(danger=st.lists(TEXT, max_size=6), ordinary=st.lists(TEXT, max_size=6), text=TEXT,
       min_count=st.integers(1, 3), leave_out=st.sampled_from([None, "danger", "ordinary"]))
def test_score_matches_a_plain_recount(danger: list[str], ordinary: list[str], text: str, min_count: int,
                                       leave_out: str | None) -> None:
    got = Wording(danger, ordinary, min_count=min_count).score(text, leave_out=leave_out)  # type: ignore[arg-type]
    assert math.isclose(got, reference(danger, ordinary, text, min_count=min_count, leave_out=leave_out),
                        rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(danger=st.lists(TEXT, max_size=6), calm=st.lists(TEXT, max_size=6), examples=st.lists(TEXT, max_size=6),
       text=TEXT, leave_out=st.sampled_from([None, "danger", "ordinary"]))
def test_counts_in_parts_give_the_model_of_the_texts(danger: list[str], calm: list[str], examples: list[str],
                                                     text: str, leave_out: str | None) -> None:
    """The start-up path (kept arrays, the ordinary side in two parts whose grams overlap) is the
    model of the texts themselves."""
    parts = Wording.from_arrays(count_arrays(gram_counts(danger)), count_arrays(gram_counts(calm)),
                                count_arrays(gram_counts(examples)))
    whole = Wording(danger, calm + examples)
    assert parts.score(text, leave_out=leave_out) == whole.score(text, leave_out=leave_out)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.lists(TEXT, max_size=8), max_size=4), ordered=st.booleans())
def test_merged_is_unique_with_its_inverse(parts: list[list[str]], ordered: bool) -> None:
    """The start-up's merge of sorted gram arrays against `np.unique` (any order gives the same)."""
    arrays = [np.array(sorted(p) if ordered else p, dtype=str) for p in parts]
    every = np.concatenate(arrays) if arrays else np.zeros(0, dtype=str)
    want, inverse = np.unique(every, return_inverse=True)
    got, at = merged(arrays)
    assert got.tolist() == want.tolist() and at.tolist() == inverse.reshape(-1).tolist()


def test_counted_grams_are_sorted() -> None:
    found, counts = count_arrays(gram_counts(["もうむりたすけて", "たすけて"]))
    assert found.tolist() == sorted(found.tolist()) and dict(zip(found.tolist(), counts.tolist()))["たすけ"] == 2


def test_words_of_danger_read_as_danger_and_a_course_does_not() -> None:
    w = Wording(["もうむりたすけて", "たすけてそとにでられない"], ["けんしゅうのにってい", "ぼらんてぃあのけんしゅう"])
    assert w.score("たすけて") > 0 > w.score("けんしゅうをうけたい")


def test_leaving_a_message_out_removes_its_own_evidence() -> None:
    w = Wording(["たすけて"], ["たすけて", "けんしゅう"], min_count=1)
    assert w.score("たすけて", leave_out="ordinary") > w.score("たすけて")
