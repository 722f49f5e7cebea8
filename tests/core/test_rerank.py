"""The reranker: its features against a plain recount, its order, and its fitted file."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.retrieval.fusion import Ranking
from bot.retrieval.matcher import Match
from bot.retrieval.rerank import FEATURES, NONE_FEATURES, Reranker, candidates_of, features, knowledge_stamp, rerank, stale


def _reference(cands: list[Match], order: dict[int, float], rows: np.ndarray, start: np.ndarray) -> list[dict]:
    """Each feature worked out the slow way, one candidate at a time."""
    def passages(m: Match) -> list[float]:
        return [float(rows[r]) for r in range(start[m.doc], start[m.doc + 1])]

    def lead(values: list[float], i: int) -> float:
        others = values[:i] + values[i + 1:]
        return values[i] - max(others) if others else values[i]

    def rank(values: list[float], i: int) -> int:  # ties: the earlier one ranks first
        return sum(v > values[i] for v in values) + sum(v == values[i] for v in values[:i])

    best = [max(passages(m)) for m in cands]
    lexical = [m.lexical for m in cands]
    fused = [m.score for m in cands]
    found = [d for d, m in enumerate(cands) if m.doc in order]
    out = []
    for i, m in enumerate(cands):
        own = sorted(passages(m), reverse=True)
        lex_rank = rank([order[cands[j].doc] for j in found], found.index(i)) if i in found else len(cands)
        out.append({
            "lexical": m.lexical, "phrase": m.phrase, "coverage": m.coverage, "named": float(m.named),
            "lexical_extra": order[m.doc] - m.lexical if m.doc in order else 0.0,
            "cos_best": own[0], "cos_head": passages(m)[0], "cos_top2": sum(own[:2]) / len(own[:2]),
            "fused": m.score, "fused_lead": lead(fused, i), "lexical_lead": lead(lexical, i),
            "cos_lead": lead(best, i),
            "lexical_first": float(lex_rank == 0), "dense_first": float(rank(best, i) == 0),
            "lexical_rank": 1 / (1 + lex_rank), "dense_rank": 1 / (1 + rank(best, i)),
            "inactive": float(m.service.status in ("ended", "paused")), "lexical_found": float(m.doc in order),
        })
    return out


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_features_match_a_plain_recount(fixture_assistant: Assistant, data: st.DataObject) -> None:
    docs = fixture_assistant.indexes["minato"].docs
    n = min(len(docs), 8)
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int32)
    rows = np.asarray(data.draw(st.lists(st.floats(0.5, 1.0, width=32), min_size=int(start[-1]),
                                         max_size=int(start[-1]))), dtype=np.float32)
    picked = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    unit = st.floats(0, 1)
    cands = [Match(docs[d], data.draw(unit), data.draw(unit), data.draw(unit), data.draw(st.booleans()), doc=d,
                   lexical=data.draw(unit)) for d in picked]
    order = {m.doc: m.lexical + data.draw(st.floats(0, 0.3)) for m in cands if data.draw(st.booleans())}
    got = features(cands, lexical_order=order, rows=rows, start=start)
    for row, want in zip(got, _reference(cands, order, rows, start)):
        for j, name in enumerate(FEATURES):
            assert row[j] == pytest.approx(want[name], abs=1e-5), name


def _ranking(assistant: Assistant) -> tuple[Ranking, list[Match], np.ndarray, np.ndarray]:
    """A fused ranking of a real question, a topic not offered put among its candidates."""
    vector = assistant.encode("お金を少し借りたい")
    ranking, lexical, rows = assistant.fused("kiyose", assistant.analyze("お金を少し借りたい"), vector, "resident")
    return ranking, lexical, rows, assistant.dense["kiyose"].start


def test_rerank_orders_offered_candidates_by_probability_and_keeps_gaps_in_place(
        real_assistant: Assistant) -> None:
    ranking, lexical, rows, start = _ranking(real_assistant)
    gap = next(m for m in real_assistant.indexes["kiyose"].docs if not m.offered)
    gap_match = Match(gap, 0.3, 0.0, 0.3, doc=real_assistant.indexes["kiyose"].docs.index(gap))
    ranking = replace(ranking, matches=(ranking.matches[0], gap_match, *ranking.matches[1:]))
    model = real_assistant.reranker
    assert model is not None
    out = rerank(ranking, model, lexical=lexical, rows=rows, start=start)
    assert out.matches[1] is gap_match
    offered = [m for m in out.matches if m.service.offered]
    scored = offered[: model.candidates]
    assert all(m.p is not None for m in scored) and all(m.p is None for m in offered[model.candidates:])
    assert [m.p for m in scored] == sorted((m.p for m in scored), reverse=True)
    assert out.p_none is not None and 0.0 <= out.p_none <= 1.0
    assert sum(m.p for m in scored) + out.p_none == pytest.approx(1.0, abs=1e-3)
    assert {m.doc for m in scored} == {m.doc for m in candidates_of(ranking, limit=model.candidates)}


def test_a_model_that_weighs_one_feature_follows_it(real_assistant: Assistant) -> None:
    ranking, lexical, rows, start = _ranking(real_assistant)
    j = FEATURES.index("cos_head")
    model = Reranker(tuple(100.0 if i == j else 0.0 for i in range(len(FEATURES) + len(NONE_FEATURES))))
    out = rerank(ranking, model, lexical=lexical, rows=rows, start=start)
    heads = [float(rows[start[m.doc]]) for m in out.matches if m.service.offered][: model.candidates]
    assert heads == sorted(heads, reverse=True)


def test_the_shipped_model_was_fitted_on_the_bundled_knowledge() -> None:
    """Refit with `benchmarks/fit_rerank.py` after editing names, summaries or examples."""
    k = load_knowledge(default_root())
    model = Reranker.load()
    assert model.stamp == knowledge_stamp(k)
    assert not stale(k)
    assert len(model.weights) == len(FEATURES) + len(NONE_FEATURES) and all(np.isfinite(model.weights))


def test_an_edited_example_makes_the_model_stale() -> None:
    k = load_knowledge(default_root())
    sid, service = next(iter(k.services.items()))
    edited = {**k.services, sid: replace(service, examples=(*service.examples, "新しい例文"))}
    assert stale(replace(k, services=edited))
    assert stale(replace(k, out_of_scope=(*k.out_of_scope, "新しい問い")))


def test_a_file_fitted_on_other_features_is_refused(tmp_path) -> None:
    path = tmp_path / "rerank.json"
    width = len(FEATURES) + len(NONE_FEATURES)
    Reranker((1.0,) * width).save(path)
    assert Reranker.load(path).weights == (1.0,) * width
    path.write_text(path.read_text().replace('"lexical"', '"other"', 1))
    with pytest.raises(ValueError, match="other features"):
        Reranker.load(path)
    Reranker((1.0,) * len(FEATURES)).save(path)  # a weight missing
    with pytest.raises(ValueError, match="other features"):
        Reranker.load(path)


def test_kb_check_says_when_the_model_was_fitted_on_other_knowledge() -> None:
    from bot.cli import main

    fixture = Path(__file__).parents[1] / "fixtures" / "knowledge"
    for folder, stale_here in ((fixture, True), (default_root(), False)):
        out = io.StringIO()
        assert main(["kb", "check", "--quiet", "--lang", "en", str(folder)], out=out) == 0
        assert ("reranker fitted on other knowledge" in out.getvalue()) is stale_here, folder


@pytest.mark.parametrize("body", ["{not json", '{"features": ["other"], "weights": [], "candidates": 10, "stamp": ""}', None])
def test_a_missing_or_broken_model_leaves_the_linear_fusion_answering(tmp_path, monkeypatch, body) -> None:
    """A bad rerank.json must not stop the bot: it answers by the linear fusion and says why in the log."""
    import bot.assistant as assistant_module
    from bot.knowledge.loader import load_knowledge
    from bot.retrieval.encoder import load_encoder
    from bot.retrieval.vectors import open_vectors

    path = tmp_path / "rerank.json"
    if body is not None:
        path.write_text(body, encoding="utf-8")
    monkeypatch.setattr(assistant_module, "WEIGHTS_PATH", path)
    knowledge = load_knowledge(Path(__file__).parents[1] / "fixtures" / "knowledge")
    vectors = open_vectors(knowledge.root, load_encoder().encoder, read_only=True)
    assert vectors is not None
    bot = assistant_module.Assistant(knowledge, vectors=vectors)
    assert bot.reranker is None and bot.dense
    from bot.settings import MatchSettings

    linear = assistant_module.Assistant(knowledge, vectors=vectors, settings=replace(MatchSettings(), rerank=False))
    council = next(iter(knowledge.councils))
    for question in ("車いすを借りたい", "ボランティアをしてみたい", "お金を少し借りたい"):
        assert bot.ask(council, question) == linear.ask(council, question)
