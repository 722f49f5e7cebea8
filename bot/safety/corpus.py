"""What the danger detector reads of its corpus, kept on disk between runs.

Each start turns the detector's corpus (the danger messages of `_common/crisis/`
and the ordinary ones, about 7,500 texts) into character-gram counts (folding
every text) and a matrix of sentence vectors (looked up and stacked one by
one): about 0.3 s. Both depend only on the texts, the code that derives them
and, for vectors, the encoder. So each list of texts is kept under a hash of
itself, in one file per combination of that code and encoder (`fingerprint`),
beside the analysis keys (`bot.language.keystore`): a changed corpus or code is
another entry or another file, never a stale one. Only the lists of the last
build are kept. The cache stops at the corpus' inputs (texts → counts, texts →
vectors), so it holds whatever model is built from them. An unreadable or
unwritable file only costs the work (`tests/core/test_corpus_cache.py` checks
that detectors built from it are identical to those built without it).
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.language.keystore import touch, write_atomically
from bot.language.normalize import fold
from bot.retrieval.vectors import VectorCache
from bot.safety.kind_wording import count_matrix
from bot.safety.wording import gram_counts

__all__ = ["CorpusCache", "fingerprint"]

log = logging.getLogger("madoguchi.analysis")
FORMAT = 1
_CODE = (Path(__file__).parent / "wording.py", Path(__file__).parent / "kind_wording.py",
         Path(__file__).parents[1] / "language" / "normalize.py",
         Path(__file__).parents[1] / "retrieval" / "vectors.py")  # the code that derives what is kept


def fingerprint(model: str) -> str:
    """What the kept counts and vectors depend on besides the texts, hashed."""
    h = hashlib.sha256(f"{FORMAT}\n{model}\n".encode())
    for path in _CODE:
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


def _hash(texts: Sequence[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()


class CorpusCache:
    """Gram counts and query vectors of lists of texts, for one build: `save` keeps
    those asked for since it was opened. `folder` None keeps nothing."""

    def __init__(self, vectors: VectorCache, *, folder: Path | None) -> None:
        self.vectors = vectors
        self.path = None if folder is None else Path(folder) / f"corpus-{fingerprint(vectors.encoder.name)}.npz"
        self._kept: dict[str, np.ndarray] = {}
        self._used: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            touch(self.path)
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self._kept = {name: data[name] for name in data.files}
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                log.warning("corpus cache %s unreadable (%s); counting again", self.path, exc)

    def _get(self, name: str) -> np.ndarray | None:
        found = self._kept.get(name)
        if found is not None:
            self._used[name] = found
        return found

    def grams(self, texts: Sequence[str]) -> Counter[str]:
        """`gram_counts` of the folded texts, in the same order."""
        h = _hash(texts)
        grams, counts = self._get(f"grams-{h}"), self._get(f"counts-{h}")
        if grams is not None and counts is not None and grams.ndim == counts.ndim == 1 and len(grams) == len(counts):
            return Counter(dict(zip(grams.tolist(), counts.tolist())))
        found = gram_counts(fold(t) for t in texts)
        self._used[f"grams-{h}"] = np.array(list(found), dtype=str)
        self._used[f"counts-{h}"] = np.fromiter(found.values(), dtype=np.int64, count=len(found))
        return found

    def grams_by_kind(self, groups: Mapping[str, Sequence[str]]) -> tuple[list[str], np.ndarray]:
        """`count_matrix` of each group's `gram_counts` (rows in the groups' order)."""
        h = _hash([t for kind, texts in groups.items() for t in (f"\x01{kind}", *texts)])
        grams, counts = self._get(f"kindgrams-{h}"), self._get(f"kindcounts-{h}")
        if (grams is not None and counts is not None and grams.ndim == 1 and counts.ndim == 2
                and counts.shape == (len(groups), len(grams))):
            return grams.tolist(), counts
        found, matrix = count_matrix(gram_counts(fold(t) for t in texts) for texts in groups.values())
        self._used[f"kindgrams-{h}"] = np.array(found, dtype=str)
        self._used[f"kindcounts-{h}"] = matrix
        return found, matrix

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """`VectorCache.queries(texts)`, as one stored matrix."""
        name = f"queries-{_hash(texts)}"
        found = self._get(name)
        if found is not None and found.dtype == np.float32 and found.shape == (len(texts), self.vectors.encoder.dim):
            return found
        found = self._used[name] = self.vectors.queries(texts)
        return found

    def save(self) -> None:
        """Keep the lists asked for since opening, if any of them was not in the file."""
        if self.path is None or self._used.keys() <= self._kept.keys():
            return
        used = self._used
        write_atomically(self.path.parent, self.path.name, lambda f: np.savez(f, **used), stale="corpus-*.npz")
