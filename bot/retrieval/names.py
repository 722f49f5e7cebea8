"""The names of a set of services (titles and aliases), indexed by their kana n-grams.

A question is compared character by character only with the few names that
share sounds with it (`bot.retrieval.matcher`). This is all that asking "is a
service of another council named here?" needs: the "everywhere" index of every
council's resident services is names only, not a second full index of every
entry's words (at 100,000 services, half the time to build: 6.6–7.2 s, not 14.1–14.5).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.model import Service
from bot.language.analysis import Language
from bot.settings import MatchSettings

__all__ = ["Names", "Phrase", "grams", "ints"]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A title or alias of one service, in the forms the question is compared in."""

    doc: int
    text: str
    reading: str
    folded: str
    grams: int  # how many distinct n-grams it has (a candidate must share a third)


def grams(text: str) -> set[str]:
    """Trigrams of a text, or the text itself when it is shorter."""
    if len(text) < 3:
        return {text} if text else set()
    return {text[i : i + 3] for i in range(len(text) - 2)}


def ints(values: np.ndarray | Sequence[int], code: str) -> array:
    """A typed array (`code` i, B or H) of `values`: 4, 1 or 2 bytes each, not a Python object."""
    return array(code, np.asarray(values, dtype={"i": np.int32, "B": np.uint8, "H": np.uint16}[code]).tobytes())


class Names:
    """`phrases[phrase_start[d]:phrase_start[d+1]]` are service d's names;
    `gram_pids[gram_start[g]:gram_start[g+1]]` the phrases with n-gram g (`gram_ids`)."""

    def __init__(self, services: Sequence[Service], *, language: Language,
                 settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.language = language
        self.docs: list[Service] = list(services)
        self.n = len(self.docs)
        self.max_df = self.settings.max_postings
        self.phrases: list[Phrase] = []
        self.phrase_start = array("i", [0])
        self.gram_ids: dict[str, int] = {}
        gram_of, gram_pid = array("i"), array("i")  # (n-gram, phrase) pairs, grouped by n-gram below
        for d, s in enumerate(self.docs):
            for text in (s.title, *s.aliases):
                self._add_phrase(d, text, gram_of, gram_pid)
            self.phrase_start.append(len(self.phrases))
        by_gram = np.argsort(np.frombuffer(gram_of, dtype=np.int32), kind="stable")
        self.gram_pids = ints(np.frombuffer(gram_pid, dtype=np.int32)[by_gram], "i")
        per_gram = np.bincount(np.frombuffer(gram_of, dtype=np.int32), minlength=len(self.gram_ids))
        self.gram_start = ints(np.concatenate(([0], np.cumsum(per_gram))), "i")

    def _add_phrase(self, doc: int, text: str, gram_of: array, gram_pid: array) -> None:
        reading, folded = self.language.name_forms(text)
        if not reading and not folded:
            return
        pid = len(self.phrases)
        own = grams(reading) if folded is reading else grams(reading) | grams(folded)
        self.phrases.append(Phrase(doc, text, reading, folded, len(own)))
        gram_ids = self.gram_ids
        new = own.difference(gram_ids)
        if new:
            gram_ids.update(zip(new, range(len(gram_ids), len(gram_ids) + len(new))))
        gram_of.extend(map(gram_ids.__getitem__, own))
        gram_pid.extend([pid] * len(own))

    def names_are(self, services: Sequence[Service]) -> bool:
        """Whether these services, in this order, have the names this index holds."""
        return len(services) == self.n and all(
            (a.title, a.aliases) == (b.title, b.aliases) for a, b in zip(self.docs, services))

    def names_of(self, doc: int) -> range:
        """The phrase numbers of service `doc`'s title and aliases."""
        return range(self.phrase_start[doc], self.phrase_start[doc + 1])
