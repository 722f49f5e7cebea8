"""Dense retrieval: passages per service, closest passage per service, the vector cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.retrieval.dense import DenseIndex, passages_of
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import VectorCache, open_vectors, text_key


class HashEncoder:
    """A deterministic stand-in encoder for cache and index mechanics (not for meaning):
    each text maps to a fixed pseudo-random unit vector, and every call is counted."""

    name = "hash-test"
    dim = 16

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(int(text_key(self.name, text)[:8], 16))
        v = rng.standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def passages(self, texts: list[str]) -> np.ndarray:
        self.calls += texts
        return np.stack([self._vec(t) for t in texts])

    queries = passages


def test_a_service_is_its_name_and_summary_then_each_example(fixture_assistant: Assistant) -> None:
    s = fixture_assistant.knowledge.services["minato/kyushoku"]
    texts = passages_of(s)
    assert texts[0].startswith(s.title) and s.summary[:20] in texts[0]
    assert texts[1:] == list(dict.fromkeys(s.examples))


def test_the_cache_encodes_only_what_is_new_and_survives_a_restart(tmp_path: Path) -> None:
    enc = HashEncoder()
    cache = VectorCache(enc, path=tmp_path / "v.npz")
    first = cache.passages(["a", "b", "a"])
    assert sorted(enc.calls) == ["a", "b"] and first.shape == (3, 16)
    assert cache.save()
    enc2 = HashEncoder()
    again = VectorCache(enc2, path=tmp_path / "v.npz").passages(["b", "c"])
    assert enc2.calls == ["c"]  # b came from disk
    assert np.allclose(again[0], first[1], atol=1e-3)
    # questions and passages of the same text are different vectors
    cache.queries(["a"])
    assert enc.calls[-1] == "a"


def test_a_read_only_folder_keeps_vectors_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    cache = VectorCache(HashEncoder(), path=folder / "sub" / "v.npz")
    cache.passages(["x"])
    os.chmod(folder, 0o500)
    try:
        if os.geteuid() != 0:  # root writes anyway
            assert cache.save() is False
        assert cache.passages(["x"]).shape == (1, 16)
    finally:
        os.chmod(folder, 0o700)


def test_save_keeps_only_the_texts_asked_for(tmp_path: Path) -> None:
    cache = VectorCache(HashEncoder(), path=tmp_path / "v.npz")
    cache.passages(["old", "new"])
    cache.save(keep=[("passage", "new")])
    assert len(VectorCache(HashEncoder(), path=tmp_path / "v.npz")) == 1


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
    vectors = open_vectors(knowledge.root, encoder.encoder)
    assert vectors is not None
    vectors.path = None  # never rewrite the repository's cache
    Assistant(knowledge, vectors=vectors)
    assert vectors.encoded == 0, f"{vectors.encoded} texts not in the cache: python -m bot kb embed {knowledge.root}"
