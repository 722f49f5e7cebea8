"""What the danger detector reads of its corpus, kept on disk between runs.

Each start turns the detector's corpus (the danger messages of `_common/crisis/`
and the ordinary ones, about 13,000 texts) into character-gram counts (folding
every text) and a matrix of sentence vectors (looked up and stacked one by
one): about 0.3 s. Both depend only on the texts, the code that derives them
and, for vectors, the encoder. So each list of texts is kept under a hash of
itself, one `.npy` file per array, in a folder per combination of that code and
encoder (`fingerprint`), beside the analysis keys (`bot.language.keystore`): a
changed corpus or code is another file or another folder, never a stale one.

A reload after an edit to the examples writes only the examples' arrays, and
counts the grams of the texts that changed, not of all 5,000 examples: a list's
texts are kept beside its counts, and a new list is counted from the kept one it
differs least from (each text's grams count once, so counts add and subtract).
Arrays are read mapped, not copied: replicas sharing the data dir share their
pages, and a reload allocates nothing for them (files are only ever replaced by
a rename or removed, so a mapped one never changes under its reader).
Only the lists of the last build are kept. The cache stops at the corpus'
inputs (texts → counts, texts → vectors), so it holds whatever model is built
from them. An unreadable or unwritable file only costs the work
(`tests/core/test_corpus_cache.py` checks that detectors built from it are
identical to those built without it, and the counts from a kept list against
a plain count).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.language.keystore import touch, write_atomically
from bot.language.normalize import fold
from bot.retrieval.vectors import VectorCache
from bot.safety.kind_wording import count_matrix
from bot.safety.wording import Counts, count_arrays, gram_counts

__all__ = ["CorpusCache", "fingerprint", "recount"]

log = logging.getLogger("madoguchi.analysis")
FORMAT = 2
_CODE = (Path(__file__).parent / "wording.py", Path(__file__).parent / "kind_wording.py",
         Path(__file__).parents[1] / "language" / "normalize.py",
         Path(__file__).parents[1] / "retrieval" / "vectors.py")  # the code that derives what is kept
_SEP = "\x00"  # between a list's texts, kept as UTF-8 bytes (no text holds it: `_hash` relies on that too)


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


def recount(kept: Counter[str], before: Sequence[str], after: Sequence[str]) -> Counter[str]:
    """`gram_counts` of the folded `after`, from `kept`, those of `before`: only the texts
    one list holds more often than the other are folded and counted."""
    was, now = Counter(before), Counter(after)
    counts = Counter(kept)
    if gone := list((was - now).elements()):
        counts.subtract(gram_counts(fold(t) for t in gone))
    if new := list((now - was).elements()):
        counts.update(gram_counts(fold(t) for t in new))
    return +counts  # grams no text holds any more are dropped, as a fresh count never has them


class CorpusCache:
    """Gram counts and query vectors of lists of texts, for one build: `save` keeps
    those asked for since it was opened. `folder` None keeps nothing."""

    def __init__(self, vectors: VectorCache, *, folder: Path | None) -> None:
        self.vectors = vectors
        self.path = None if folder is None else Path(folder) / f"corpus-{fingerprint(vectors.encoder.name)}"
        self._kept: set[str] = set()
        self._used: dict[str, np.ndarray] = {}
        self._new: set[str] = set()
        if self.path is not None and self.path.is_dir():
            touch(self.path)
            self._kept = {p.stem for p in self.path.glob("*.npy")}

    def _read(self, name: str) -> np.ndarray | None:
        if name in self._used:
            return self._used[name]
        if name not in self._kept or self.path is None:
            return None
        try:
            return np.load(self.path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("corpus cache %s/%s.npy unreadable (%s); counting again", self.path, name, exc)
            return None

    def _get(self, name: str) -> np.ndarray | None:
        """A kept array, marked as used by this build (`save` keeps it)."""
        found = self._read(name)
        if found is not None:
            self._used[name] = found
        return found

    def _put(self, name: str, value: np.ndarray) -> None:
        self._used[name] = value
        self._new.add(name)

    def _kept_counts(self, h: str, *, use: bool = True) -> Counts | None:
        get = self._get if use else self._read
        grams, counts = get(f"grams-{h}"), get(f"counts-{h}")
        if grams is not None and counts is not None and grams.ndim == counts.ndim == 1 and len(grams) == len(counts):
            return grams, counts
        return None

    def _texts(self, h: str) -> list[str] | None:
        kept = self._read(f"texts-{h}")
        if kept is None or kept.dtype != np.uint8:
            return None
        try:
            joined = kept.tobytes().decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None
        return joined.split(_SEP) if joined else []

    def _nearest(self, texts: Sequence[str]) -> Counter[str] | None:
        """The counts of `texts` from the kept list they differ least from, if that is
        less than half of them (more, and counting them all is as quick)."""
        best: tuple[int, str, list[str]] | None = None
        wanted = Counter(texts)
        for name in sorted(self._kept):
            if not name.startswith("texts-"):
                continue
            before = self._texts(name.removeprefix("texts-"))
            if before is None or not before:
                continue
            was = Counter(before)
            differ = sum(((was - wanted) + (wanted - was)).values())
            if differ * 2 < len(texts) and (best is None or differ < best[0]):
                best = (differ, name.removeprefix("texts-"), before)
        if best is None:
            return None
        kept = self._kept_counts(best[1], use=False)
        return None if kept is None else recount(Counter(dict(zip(*(a.tolist() for a in kept)))), best[2], texts)

    def gram_arrays(self, texts: Sequence[str]) -> Counts:
        """`gram_counts` of the folded texts as (grams, counts) arrays, read as kept (mapped):
        no Python string per gram, which for the whole corpus took tens of MB at start-up."""
        h = _hash(texts)
        found = self._kept_counts(h)
        if found is None:
            found = count_arrays(self._nearest(texts) or gram_counts(fold(t) for t in texts))
            self._put(f"grams-{h}", found[0])
            self._put(f"counts-{h}", found[1])
        if self._get(f"texts-{h}") is None:  # kept for the next edit's `_nearest`
            self._put(f"texts-{h}", np.frombuffer(_SEP.join(texts).encode("utf-8", "surrogatepass"), dtype=np.uint8))
        return found

    def grams_by_kind(self, groups: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """`count_matrix` of each group's `gram_counts` (rows in the groups' order), as arrays."""
        h = _hash([t for kind, texts in groups.items() for t in (f"\x01{kind}", *texts)])
        grams, counts = self._get(f"kindgrams-{h}"), self._get(f"kindcounts-{h}")
        if (grams is not None and counts is not None and grams.ndim == 1 and counts.ndim == 2
                and counts.shape == (len(groups), len(grams))):
            return grams, counts
        grams, matrix = count_matrix(gram_counts(fold(t) for t in texts) for texts in groups.values())
        self._put(f"kindgrams-{h}", grams)
        self._put(f"kindcounts-{h}", matrix)
        return grams, matrix

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """`VectorCache.queries(texts)`, as one stored matrix."""
        name = f"queries-{_hash(texts)}"
        found = self._get(name)
        if found is not None and found.dtype == np.float32 and found.shape == (len(texts), self.vectors.encoder.dim):
            return found
        found = self.vectors.queries(texts)
        self._put(name, found)
        return found

    def save(self) -> None:
        """Write the arrays this build made, remove those it did not use, and other
        fingerprints' folders unused for a week. A failure only logs."""
        if self.path is None:
            return
        for name in sorted(self._new):
            array = self._used[name]
            if not write_atomically(self.path, f"{name}.npy", lambda f, a=array: np.save(f, a, allow_pickle=False),
                                    stale=".tmp-*"):  # crashed writes' temporaries, after a week
                return
        self._kept |= self._new
        self._new.clear()
        week_ago = time.time() - 7 * 86_400
        try:
            for old in self.path.glob("*.npy"):
                if old.stem not in self._used:
                    old.unlink(missing_ok=True)
            for old in self.path.parent.glob("corpus-*"):
                if old != self.path and old.stat().st_mtime < week_ago:
                    if old.is_dir():
                        shutil.rmtree(old)
                    else:
                        old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("corpus cache %s not tidied (%s)", self.path, exc)
