"""The vector cache: only new texts encoded, one file read whole, no vector held after a lookup."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st

from bot.retrieval.vectors import VectorCache, text_key


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


def test_the_cache_encodes_only_what_is_new_and_survives_a_restart(tmp_path: Path) -> None:
    enc = HashEncoder()
    cache = VectorCache(enc, path=tmp_path / "v.vectors")
    first = cache.passages(["a", "b", "a"])
    assert sorted(enc.calls) == ["a", "b"] and first.shape == (3, 16)
    assert cache.save()
    enc2 = HashEncoder()
    again = VectorCache(enc2, path=tmp_path / "v.vectors").passages(["b", "c"])
    assert enc2.calls == ["c"]  # b came from disk
    assert np.allclose(again[0], first[1], atol=1e-3)
    # questions and passages of the same text are different vectors
    cache.queries(["a"])
    assert enc.calls[-1] == "a"


def test_a_read_only_folder_keeps_vectors_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    cache = VectorCache(HashEncoder(), path=folder / "sub" / "v.vectors")
    cache.passages(["x"])
    os.chmod(folder, 0o500)
    try:
        if os.geteuid() != 0:  # root writes anyway
            assert cache.save() is False
        assert cache.passages(["x"]).shape == (1, 16)
    finally:
        os.chmod(folder, 0o700)


def test_save_keeps_only_the_texts_asked_for(tmp_path: Path) -> None:
    cache = VectorCache(HashEncoder(), path=tmp_path / "v.vectors")
    cache.passages(["old", "new"])
    cache.save(keep=[("passage", "new")])
    assert len(VectorCache(HashEncoder(), path=tmp_path / "v.vectors")) == 1


def _reference(texts: list[str]) -> np.ndarray:
    """What a lookup must give: each text's vector, rounded to float16 as kept, made unit again."""
    if not texts:
        return np.zeros((0, HashEncoder.dim), np.float32)
    rows = HashEncoder().passages(texts).astype(np.float16).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@settings(max_examples=40, deadline=None)
@given(rounds=st.lists(st.tuples(st.lists(st.sampled_from("abcdefgh"), max_size=6), st.booleans()),
                       min_size=1, max_size=5))
def test_lookups_across_saves_and_restarts_match_encoding_each_text(rounds: list[tuple[list[str], bool]],
                                                                    tmp_path_factory) -> None:
    """Rows from the file, rows encoded since, in any order and after any saves: each is its text's."""
    path = tmp_path_factory.mktemp("v") / "v.vectors"
    cache = VectorCache(HashEncoder(), path=path)
    for texts, restart in rounds:
        got = cache.passages(texts)
        assert got.shape == (len(texts), HashEncoder.dim)
        assert np.allclose(got, _reference(texts), atol=1e-6)
        assert cache.save()
        if restart:
            cache = VectorCache(HashEncoder(), path=path)
    assert len(cache) == len({t for texts, _ in rounds for t in texts})


def test_a_lookup_leaves_no_vector_mapped(tmp_path: Path) -> None:
    """A running server holds no row of the file (31 MB of five councils' when it did)."""
    path = tmp_path / "v.vectors"
    first = VectorCache(HashEncoder(), path=path)
    first.passages(["a", "b"])
    first.save()
    enc = HashEncoder()
    cache = VectorCache(enc, path=path)
    got = cache.passages(["b", "a"])
    assert enc.calls == [] and np.allclose(got, _reference(["b", "a"]), atol=1e-6)
    assert str(path) not in Path("/proc/self/maps").read_text()


def test_a_file_replaced_by_another_process_is_read_whole(tmp_path: Path) -> None:
    """`kb embed` may rewrite the file under a running server: its next lookup reads the new file."""
    path = tmp_path / "v.vectors"
    first = VectorCache(HashEncoder(), path=path)
    first.passages(["a"])
    first.save()
    serving = VectorCache(HashEncoder(), path=path)
    other = VectorCache(HashEncoder(), path=path)
    other.passages(["c", "b", "a"])
    other.save()  # a is no longer the first row
    enc = HashEncoder()
    serving.encoder = enc
    assert np.allclose(serving.passages(["a", "b", "c"]), _reference(["a", "b", "c"]), atol=1e-6)
    assert enc.calls == [] and len(serving) == 3


def test_a_damaged_file_is_encoded_again_and_rewritten(tmp_path: Path, caplog) -> None:
    path = tmp_path / "v.vectors"
    cache = VectorCache(HashEncoder(), path=path)
    cache.passages(["a", "b"])
    cache.save()
    path.write_bytes(path.read_bytes()[:200])  # cut short
    enc = HashEncoder()
    again = VectorCache(enc, path=path)
    assert np.allclose(again.passages(["a"]), _reference(["a"]), atol=1e-6)
    assert enc.calls == ["a"] and "unreadable" in caplog.text
    assert again.save() and len(VectorCache(HashEncoder(), path=path)) == 1


def test_the_cache_kept_before_stop_40_is_read_then_written_anew(tmp_path: Path) -> None:
    """One `.npz` of keys and rows: read once (nothing encoded), replaced by the next save."""
    texts = ["a", "b"]
    keys = np.array([text_key(HashEncoder.name, t) for t in texts], dtype="U32")
    np.savez(tmp_path / "v.npz", keys=keys, vecs=HashEncoder().passages(texts).astype(np.float16))
    enc = HashEncoder()
    cache = VectorCache(enc, path=tmp_path / "v.vectors")
    assert np.allclose(cache.passages(texts), _reference(texts), atol=1e-6) and enc.calls == []
    assert cache.save()
    assert not (tmp_path / "v.npz").exists() and len(VectorCache(HashEncoder(), path=tmp_path / "v.vectors")) == 2


def test_a_read_only_cache_reads_the_file_and_never_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "v.vectors"
    first = VectorCache(HashEncoder(), path=path)
    first.passages(["a"])
    first.save()
    before = path.read_bytes()
    enc = HashEncoder()
    cache = VectorCache(enc, path=path, read_only=True)
    cache.passages(["a", "b"])
    assert enc.calls == ["b"] and cache.save() and path.read_bytes() == before
