"""Passage vectors cached on disk, keyed by a hash of the model and the text.

Encoding all the bundled knowledge takes minutes on one CPU thread; nobody
should wait for that at start-up or on a reload. The cache is one file per
model: two `.npy` arrays back to back, the sorted keys, then the float16
vectors in the same order. A load reads the keys only; the vectors are mapped
while a build looks rows up and let go after, so a running process holds
none of them (they were 31 MB of a five-council server as one dict of rows).
Only texts the file lacks are encoded, and `python -m bot kb embed` fills it
ahead of time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from bot.language.normalize import normalize
from bot.retrieval.encoder import Encoder

__all__ = ["VectorCache", "text_key"]

log = logging.getLogger("madoguchi.vectors")

_KEY = np.dtype("S32")  # a key's hex digest


def text_key(model: str, text: str, *, kind: str = "passage") -> str:
    """The cache key of one text: its model, whether it is a passage or a query, and the text
    (a query's as it is encoded, normalised: see `VectorCache.queries`)."""
    raw = f"{model}\x00{kind}\x00{normalize(text)}" if kind != "passage" else f"{model}\x00{text}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _read(f: IO[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted keys in `f`, read, and the vectors that follow them, mapped, not read."""
    keys = np.lib.format.read_array(f, allow_pickle=False)
    version = np.lib.format.read_magic(f)
    header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = header(f)
    if keys.dtype != _KEY or shape != (len(keys), dim) or fortran or dtype != np.float16:
        raise ValueError(f"{keys.dtype} keys and {dtype} vectors of {shape}")
    if not len(keys):
        return keys, np.zeros((0, dim), np.float16)
    return keys, np.memmap(f, dtype=np.float16, mode="r", offset=f.tell(), shape=shape)


class VectorCache:
    """Passage vectors of one encoder; `path` None keeps them in memory only, and `read_only`
    reads the file but never writes it (a benchmark or a test of the committed cache)."""

    def __init__(self, encoder: Encoder, *, path: Path | None, read_only: bool = False) -> None:
        self.encoder = encoder
        self.path = path
        self.read_only = read_only
        self._new: dict[str, np.ndarray] = {}  # rows encoded since, not yet written
        self.encoded = 0  # texts encoded by this instance (not found in the cache)
        if path is not None and not path.is_file() and (old := _before(path)) is not None:
            try:  # read once, written anew by the next save
                with np.load(old, allow_pickle=False) as data:
                    self._new = {str(k): v for k, v in zip(data["keys"], data["vecs"])}
            except (OSError, ValueError, KeyError) as exc:
                log.warning("vector cache %s unreadable (%s): starting empty", old, exc)

    def __len__(self) -> int:
        """Texts with a vector: the file's, and those encoded since that it lacks."""
        with self._open() as (stored, _):
            return len(stored) + int((_positions(stored, list(self._new)) == len(stored)).sum())

    def passages(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """Unit vectors for `texts` as passages (float32, one row each), encoding only what is new."""
        return self._vectors(texts, kind="passage", batch=batch)

    def queries(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """The same for texts encoded as questions: messages (the danger corpus, the examples, the
        out-of-scope questions), normalised first as a resident's message is (`Assistant.encode`),
        so that a half-width message in the corpus meets the same message sent (raw, cosine 0.97)."""
        return self._vectors([normalize(t) for t in texts], kind="query", batch=batch)

    @contextmanager
    def _open(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The file's keys and its vectors, mapped for one lookup: read anew each time, so a
        file another process replaced (`kb embed`) is read whole, never mixed with the last.
        An unreadable file is no file (its texts are encoded again)."""
        empty = np.zeros(0, _KEY), np.zeros((0, self.encoder.dim), np.float16)
        try:
            f = open(self.path, "rb") if self.path is not None else None
        except OSError as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("vector cache %s unreadable (%s): encoding what it held", self.path, exc)
            f = None
        if f is None:
            yield empty
            return
        with f:
            try:
                keys, vectors = _read(f, self.encoder.dim)
            except (OSError, ValueError, EOFError) as exc:
                log.warning("vector cache %s unreadable (%s): encoding what it held", self.path, exc)
                keys, vectors = empty
            yield keys, vectors

    def _vectors(self, texts: Sequence[str], *, kind: str, batch: int) -> np.ndarray:
        model = self.encoder.name
        encode = self.encoder.passages if kind == "passage" else self.encoder.queries
        keys = [text_key(model, t, kind=kind) for t in texts]
        out = np.empty((len(keys), self.encoder.dim), dtype=np.float32)
        with self._open() as (stored, vectors):
            rows = _positions(stored, keys)
            found = rows < len(stored)
            out[found] = vectors[rows[found]]
        del vectors  # the mapping goes now, not after the encoding below
        missing = sorted({k: t for k, t, f in zip(keys, texts, found) if not f and k not in self._new}.items())
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            vecs = encode([t for _, t in chunk])
            for (k, _), v in zip(chunk, vecs):
                self._new[k] = v.astype(np.float16)
            self.encoded += len(chunk)
        for i in np.flatnonzero(~found):
            out[i] = self._new[keys[i]]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)  # float16 rounding
        return out

    def save(self, *, keep: Sequence[tuple[str, str]] | None = None) -> bool:
        """Write the cache atomically; `keep` ((kind, text) pairs) drops every other row first.

        Returns False, and logs why, when it cannot be written (a read-only
        knowledge folder still serves: vectors then live in memory).
        """
        if self.path is None or self.read_only or not self._new and keep is None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vectors-", suffix=".tmp")
        except OSError as exc:
            log.warning("vector cache %s not saved (%s): vectors kept in memory", self.path, exc)
            return False
        try:
            with os.fdopen(fd, "wb") as f, self._open() as (stored, vectors):
                new = sorted(self._new)
                new = [k for k, at in zip(new, _positions(stored, new)) if at == len(stored)]  # not written since
                keys = np.concatenate([stored, np.asarray(new, dtype=_KEY)])
                order = np.argsort(keys, kind="stable")
                if keep is not None:
                    wanted = np.asarray([text_key(self.encoder.name, t, kind=k) for k, t in keep], dtype=_KEY)
                    order = order[np.isin(keys[order], wanted)]
                rows = np.concatenate([vectors, np.stack([self._new[k] for k in new])]) if new else vectors
                np.lib.format.write_array(f, keys[order], allow_pickle=False)
                np.lib.format.write_array(f, np.ascontiguousarray(rows[order]), allow_pickle=False)
            os.chmod(tmp, 0o644)  # readable by the service user, like the knowledge itself
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            log.warning("vector cache %s not saved (%s): vectors kept in memory", self.path, exc)
            return False
        if (old := _before(self.path)) is not None:
            old.unlink(missing_ok=True)
        self._new = {}
        return True


def _before(path: Path) -> Path | None:
    """The cache as it was kept before stop 40 (one `.npz` of keys and rows), if there is one."""
    old = path.with_suffix(".npz")
    return old if old != path and old.is_file() else None


def _positions(keys: np.ndarray, wanted: Sequence[str]) -> np.ndarray:
    """Where each of `wanted` is in the sorted `keys`; len(keys) where it is not."""
    want = np.asarray(wanted, dtype=_KEY)
    at = np.searchsorted(keys, want)
    inside = at < len(keys)
    inside[inside] = keys[at[inside]] == want[inside]
    return np.where(inside, at, len(keys))


def cache_path(root: Path | str, model: str) -> Path:
    """Where the vectors of the knowledge in `root` live: beside it, in `.vectors/`."""
    return Path(root) / ".vectors" / f"{model}.vectors"


def open_vectors(root: Path | str, encoder: Encoder | None, *, read_only: bool = False) -> VectorCache | None:
    """The vector cache of a knowledge folder, or None when there is no encoder (lexical only)."""
    return None if encoder is None else VectorCache(encoder, path=cache_path(root, encoder.name), read_only=read_only)
