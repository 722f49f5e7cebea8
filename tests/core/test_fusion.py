"""Fusion by score: calibrated cosines interpolated with lexical scores over both lists."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from bot.assistant import Assistant
from bot.retrieval.fusion import calibrate, fuse
from bot.retrieval.matcher import Match
from bot.settings import MatchSettings

S = MatchSettings()


@given(st.floats(-1, 1))
def test_calibration_is_monotone_and_bounded(cos: float) -> None:
    v = calibrate(cos, low=S.dense_low, high=S.dense_high)
    assert 0.0 <= v <= 1.0
    assert v <= calibrate(min(1.0, cos + 0.01), low=S.dense_low, high=S.dense_high)


@settings(max_examples=80, deadline=None)
@given(
    lexical=st.dictionaries(st.integers(0, 5), st.floats(0, 1), max_size=6),
    cosines=st.lists(st.floats(0.5, 1.0), min_size=6, max_size=6),
)
def test_fused_scores_match_the_formula_over_the_union(fixture_assistant: Assistant, lexical: dict[int, float],
                                                     cosines: list[float]) -> None:
    docs = fixture_assistant.indexes["minato"].docs[:6]
    matches = [Match(docs[d], s, 0.0, s, doc=d, order=s, lexical=s) for d, s in lexical.items()]
    sims = np.asarray(cosines, dtype=np.float32)
    ranking = fuse(matches, sims, docs, eligible=lambda d: True, settings=S)
    got = {m.doc: m.score for m in ranking.matches}
    w = S.dense_weight
    for d, score in got.items():
        dense = calibrate(float(sims[d]), low=S.dense_low, high=S.dense_high)
        if docs[d].status in ("ended", "paused"):
            dense *= S.ended_factor
        assert abs(score - ((1 - w) * lexical.get(d, 0.0) + w * dense)) < 1e-3
    # every lexical candidate is kept, and the dense list adds its best ones
    assert set(lexical) <= set(got)
    offered = [d for d in range(6) if docs[d].offered]
    if offered:
        assert ranking.dense_top == max(offered, key=lambda d: (sims[d], -d))
