"""The kinds' wording: naive Bayes over character grams, against the formula written out."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety.kind_wording import KindWording
from bot.safety.wording import gram_counts, grams


def _reference(corpus: dict[str, list[str]], text: str, *, min_count: int,
               leave_out: str | None = None) -> dict[str, float]:
    """Σ over the text's known grams of log((count in kind + 1) / (kind's total + vocabulary)),
    over √(its grams); the left-out kind without the text's own grams."""
    counts = {kind: gram_counts(texts) for kind, texts in corpus.items()}
    total = Counter()
    for c in counts.values():
        total.update(c)
    vocabulary = {g for g, n in total.items() if n >= min_count}
    own = grams(text)
    out = {}
    for kind, c in counts.items():
        c = Counter({g: n for g, n in c.items() if g in vocabulary})
        if kind == leave_out:
            c.subtract({g: 1 for g in own if g in vocabulary})
        kind_total = sum(c.values())
        known = [g for g in own if g in vocabulary]
        score = sum(math.log((c[g] + 1) / (kind_total + len(vocabulary))) for g in known)
        out[kind] = score / math.sqrt(len(own)) if known else 0.0
    return out


texts = st.text(alphabet="あいうえおかきくけこ火事", min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(corpus=st.dictionaries(st.sampled_from(["dv", "fraud", "fire-gas"]), st.lists(texts, min_size=1, max_size=6),
                              min_size=1),
       message=texts, min_count=st.integers(min_value=1, max_value=3), leave=st.booleans())
def test_scores_are_the_naive_bayes_formula(corpus: dict[str, list[str]], message: str, min_count: int,
                                            leave: bool) -> None:
    leave_out = None
    if leave:  # a left-out message is one of its kind's own
        leave_out = next(iter(corpus))
        corpus[leave_out].append(message)
    model = KindWording.from_counts({kind: gram_counts(ts) for kind, ts in corpus.items()}, min_count=min_count)
    got = model.scores(message, leave_out=leave_out)
    want = _reference(corpus, message, min_count=min_count, leave_out=leave_out)
    assert got.keys() == want.keys()
    for kind in want:
        assert math.isclose(got[kind], want[kind], rel_tol=1e-5, abs_tol=1e-5), kind


def test_a_message_worded_as_one_kind_scores_that_kind_highest() -> None:
    corpus = {
        "dv": ["おっとがさいふをとりあげる", "おっとにどなられてそとにだしてもらえない", "おっとがすまほをとりあげた"],
        "fire-gas": ["だいどころからがすのにおいがする", "となりのいえからけむりがでている", "がすのにおいがきえない"],
    }
    model = KindWording.from_counts({kind: gram_counts(ts) for kind, ts in corpus.items()}, min_count=1)
    scores = model.scores("おっとがつうちょうをとりあげる")
    assert scores["dv"] > scores["fire-gas"]
    scores = model.scores("げんかんでがすのにおいがする")
    assert scores["fire-gas"] > scores["dv"]
