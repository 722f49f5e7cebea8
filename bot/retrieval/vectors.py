"""Passage vectors cached on disk, keyed by a hash of the model and the text.

Encoding all the bundled knowledge takes minutes on one CPU thread; nobody
should wait for that at start-up or on a reload. The cache is one `.npz`
per model (keys and float16 vectors); a load encodes only texts it has not
seen, and `python -m bot kb embed` fills it ahead of time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.language.normalize import normalize
from bot.retrieval.encoder import Encoder

__all__ = ["VectorCache", "text_key"]

log = logging.getLogger("madoguchi.vectors")


def text_key(model: str, text: str, *, kind: str = "passage") -> str:
    """The cache key of one text: its model, whether it is a passage or a query, and the text
    (a query's as it is encoded, normalised: see `VectorCache.queries`)."""
    raw = f"{model}\x00{kind}\x00{normalize(text)}" if kind != "passage" else f"{model}\x00{text}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class VectorCache:
    """Passage vectors of one encoder; `path` None keeps them in memory only."""

    def __init__(self, encoder: Encoder, *, path: Path | None) -> None:
        self.encoder = encoder
        self.path = path
        self._rows: dict[str, np.ndarray] = {}
        self._dirty = False
        self.encoded = 0  # texts encoded by this instance (not found in the cache)
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vecs = data["keys"], data["vecs"]
                self._rows = {str(k): v for k, v in zip(keys, vecs)}
            except (OSError, ValueError, KeyError) as exc:
                log.warning("vector cache %s unreadable (%s): starting empty", path, exc)

    def __len__(self) -> int:
        return len(self._rows)

    def passages(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """Unit vectors for `texts` as passages (float32, one row each), encoding only what is new."""
        return self._vectors(texts, kind="passage", batch=batch)

    def queries(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """The same for texts encoded as questions: messages (the danger corpus, the examples, the
        out-of-scope questions), normalised first as a resident's message is (`Assistant.encode`),
        so that a half-width message in the corpus meets the same message sent (raw, cosine 0.97)."""
        return self._vectors([normalize(t) for t in texts], kind="query", batch=batch)

    def _vectors(self, texts: Sequence[str], *, kind: str, batch: int) -> np.ndarray:
        model = self.encoder.name
        encode = self.encoder.passages if kind == "passage" else self.encoder.queries
        keys = [text_key(model, t, kind=kind) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._rows}.items())
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            vecs = encode([t for _, t in chunk])
            for (k, _), v in zip(chunk, vecs):
                self._rows[k] = v.astype(np.float16)
            self.encoded += len(chunk)
            self._dirty = True
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        out = np.stack([self._rows[k] for k in keys]).astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)  # float16 rounding
        return out

    def save(self, *, keep: Sequence[tuple[str, str]] | None = None) -> bool:
        """Write the cache atomically; `keep` ((kind, text) pairs) drops every other row first.

        Returns False, and logs why, when it cannot be written (a read-only
        knowledge folder still serves: vectors then live in memory).
        """
        if self.path is None or not self._dirty and keep is None:
            return True
        rows = self._rows
        if keep is not None:
            wanted = {text_key(self.encoder.name, t, kind=kind) for kind, t in keep}
            rows = {k: v for k, v in rows.items() if k in wanted}
        keys = sorted(rows)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vectors-", suffix=".npz")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, keys=np.array(keys, dtype="U32"),
                         vecs=np.stack([rows[k] for k in keys]) if keys else np.zeros((0, self.encoder.dim), np.float16))
            os.chmod(tmp, 0o644)  # readable by the service user, like the knowledge itself
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("vector cache %s not saved (%s): vectors kept in memory", self.path, exc)
            return False
        self._rows, self._dirty = rows, False
        return True


def cache_path(root: Path | str, model: str) -> Path:
    """Where the vectors of the knowledge in `root` live: beside it, in `.vectors/`."""
    return Path(root) / ".vectors" / f"{model}.npz"


def open_vectors(root: Path | str, encoder: Encoder | None) -> VectorCache | None:
    """The vector cache of a knowledge folder, or None when there is no encoder (lexical only)."""
    return None if encoder is None else VectorCache(encoder, path=cache_path(root, encoder.name))
