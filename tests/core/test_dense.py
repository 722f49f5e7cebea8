"""Dense retrieval: passages per service, closest passage per service, the committed vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.retrieval.dense import DenseIndex, passages_of
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import open_vectors


def test_a_service_is_its_name_and_summary_then_each_example(fixture_assistant: Assistant) -> None:
    s = fixture_assistant.knowledge.services["minato/kyushoku"]
    texts = passages_of(s)
    assert texts[0].startswith(s.title) and s.summary[:20] in texts[0]
    assert texts[1:] == list(dict.fromkeys(s.examples))


@settings(max_examples=60, deadline=None)
@given(
    owners=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    seed=st.integers(0, 2**31 - 1),
)
def test_closest_passage_per_service_matches_a_plain_loop(owners: list[int], seed: int) -> None:
    """The vectorised max over passages equals the obvious loop."""
    rng = np.random.default_rng(seed)
    index = DenseIndex.__new__(DenseIndex)
    index.n = 6
    index.matrix = rng.standard_normal((len(owners), 8)).astype(np.float32)
    index.owner = np.asarray(owners, dtype=np.int32)
    q = rng.standard_normal(8).astype(np.float32)
    got = index.similarities(q)
    for doc in range(6):
        rows = [float(index.matrix[i] @ q) for i, o in enumerate(owners) if o == doc]
        assert np.isclose(got[doc], max(rows) if rows else -np.inf, atol=1e-5)


@pytest.mark.parametrize("root", [None, Path(__file__).parents[1] / "fixtures" / "knowledge"],
                         ids=["bundled", "test fixture"])
def test_the_committed_vector_cache_holds_every_text_its_assistant_encodes(root: Path | None) -> None:
    """A start must not wait for encoding (the Docker image ships this cache), and each test
    that builds an assistant would encode what is missing again: `kb embed` fills it."""
    knowledge = load_knowledge(root or default_root())
    encoder = load_encoder()
    assert encoder.on, encoder.reason
    vectors = open_vectors(knowledge.root, encoder.encoder, read_only=True)  # never rewrite the repository's cache
    assert vectors is not None
    Assistant(knowledge, vectors=vectors)
    assert vectors.encoded == 0, f"{vectors.encoded} texts not in the cache: python -m bot kb embed {knowledge.root}"
