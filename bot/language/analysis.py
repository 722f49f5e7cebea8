"""Turn any text — an entry field or a resident's message — into match terms.

A text becomes a list of *units*, one per content word. A unit carries several
keys that may meet the knowledge: the dictionary form (`w:`), the reading
(`r:`), the kanji stem of a verb (`t:`, so 預ける meets 預かる) and the
synonym group from `_common/synonyms.yaml` (`s:`). The same function runs on
both sides, so normalisation can never drift between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from bot.knowledge.model import SynonymGroup
from bot.language.keystore import Keys, Stored
from bot.language.normalize import fold, is_kanji
from bot.language.tokens import Token, Tokenizer, default_tokenizer

T = TypeVar("T")

__all__ = ["Unit", "Analysis", "Language", "KEY_FACTORS", "lemmas"]

# How much a match on each kind of key is worth, relative to the exact word.
KEY_FACTORS: dict[str, float] = {"w": 1.0, "s": 0.9, "r": 0.85, "t": 0.6, "f": 0.75}
_VERBAL_READING_MIN = 2
_REMEMBERED_TEXTS = 16_384  # entry texts whose keys are kept; the bundled knowledge has about 5,000
_REMEMBERED_WORDS = 50_000  # words whose keys are kept; the bundled knowledge has about 4,000


@dataclass(frozen=True, slots=True)
class Unit:
    """One meaningful word of a text, with every key it can match by."""

    surface: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    text: str
    folded: str  # normalised, hiragana-folded surface, no spaces
    reading: str  # the whole text as hiragana
    units: tuple[Unit, ...]
    # Offsets in `folded` where a word begins; None when they could not be aligned.
    starts: frozenset[int] | None = None
    # The words in dictionary form, each between bars (|死ぬ|た|方|が|), so a
    # phrase can be found whatever its inflection or kana/kanji spelling.
    lemmas: str = "|"

    @property
    def keys(self) -> set[str]:
        return {k for u in self.units for k in u.keys}


def lemmas(tokens: tuple[Token, ...]) -> str:
    """The dictionary forms between bars, so a substring test matches whole words only."""
    return "|" + "".join(t.word + "|" for t in tokens)


def _kept(text: str, built: dict[str, T], stored: dict[str, T], work_out: Callable[[str], T]) -> T:
    """What this build already has for `text`, else what was stored, else worked out;
    noted in `built` either way, to be written back."""
    found = built.get(text)
    if found is None:
        found = stored.get(text)
        if found is None:
            found = work_out(text)
        built[text] = found
    return found


def _word_starts(folded: str, tokens: tuple[Token, ...]) -> frozenset[int] | None:
    """Where each token begins in `folded`; None if the two do not line up."""
    starts, at = [], 0
    for t in tokens:
        if not folded.startswith(t.folded, at):
            return None
        starts.append(at)
        at += len(t.folded)
    return frozenset(starts)


class Language:
    """Tokeniser + synonyms + ignorable words: the project's view of Japanese."""

    def __init__(
        self,
        *,
        synonyms: tuple[SynonymGroup, ...] = (),
        ignore: frozenset[str] = frozenset(),
        excluding: tuple[str, ...] = (),
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.tokenizer = tokenizer or default_tokenizer()
        # Words after a name that set it aside (以外, ではなく …), folded, longest first.
        self.excluding: tuple[str, ...] = tuple(sorted({fold(w) for w in excluding if fold(w)}, key=len, reverse=True))
        self.ignore = frozenset(fold(w) for w in ignore) | frozenset(self.tokenizer.reading(w) for w in ignore)
        # Each variant as a sequence of (word, reading) pairs, indexed by its first word and reading.
        self._variants: dict[str, list[tuple[tuple[tuple[str, str], ...], str]]] = {}
        for group in synonyms:
            for variant in group.variants:
                seq = tuple((t.word, t.reading) for t in self.tokenizer.tokenize(variant))
                if not seq:
                    continue
                entry = (seq, fold(group.canonical))
                for first in {seq[0][0], seq[0][1]}:
                    self._variants.setdefault(first, []).append(entry)
        # Each council's index and the "everywhere" one share entry texts: work their keys out once.
        self._remembered = lru_cache(maxsize=_REMEMBERED_TEXTS)(self._unit_keys)
        self.unit_keys = self._remembered
        self._remembered_names = lru_cache(maxsize=_REMEMBERED_TEXTS)(self._name_forms)
        self.name_forms = self._remembered_names
        self._stored = Stored({}, {})  # keys and name forms read from disk, while building
        self._built = Stored({}, {})  # those of this build's texts, to write back
        self._word_keys: dict[Token, tuple[str, ...]] = {}  # plain dict: reads and writes are atomic

    def use_stored(self, stored: Stored) -> None:
        """While building indexes: take each entry text's keys and each name's forms from
        `stored` (a `KeyStore`'s file) when it has them, and note them all for `stop_storing`."""
        self._stored, self._built = stored, Stored({}, {})
        self.unit_keys = self._unit_keys_stored
        self.name_forms = self._name_forms_stored

    def stop_storing(self) -> tuple[Stored, bool]:
        """The keys and name forms of every text analysed since `use_stored`, and whether they
        differ from what was stored; memory of both is released."""
        built, stored = self._built, self._stored
        changed = any(len(b) != len(s) or any(t not in s for t in b) for b, s in zip(built, stored))
        self._stored, self._built = Stored({}, {}), Stored({}, {})
        self.unit_keys = self._remembered
        self.name_forms = self._remembered_names
        return built, changed

    def _unit_keys_stored(self, text: str) -> Keys:
        return _kept(text, self._built.keys, self._stored.keys, self._remembered)

    def _name_forms(self, text: str) -> tuple[str, str]:
        """A title's or alias' reading and folded form, the forms names are compared in
        (one string for both when they are the same, as for kana names)."""
        reading, folded = self.tokenizer.reading(text), fold(text)
        return (reading, reading) if folded == reading else (reading, folded)

    def _name_forms_stored(self, text: str) -> tuple[str, str]:
        return _kept(text, self._built.names, self._stored.names, self._remembered_names)

    def _synonyms_at(self, tokens: tuple[Token, ...], i: int) -> list[tuple[str, int]]:
        """Synonym groups whose variant starts at token i, with the variant's length."""
        found: list[tuple[str, int]] = []
        t = tokens[i]
        for seq, canonical in self._variants.get(t.word, []) + self._variants.get(t.reading, []):
            n = len(seq)
            window = tokens[i : i + n]
            if len(window) == n and all(w.word == a or w.reading == b for w, (a, b) in zip(window, seq)):
                found.append((canonical, n))
        return found

    def analyze(self, text: str) -> Analysis:
        tokens = self.tokenizer.tokenize(text)
        folded = fold(text)
        reading = "".join(t.reading for t in tokens)
        return Analysis(text=text, folded=folded, reading=reading, units=self._units(tokens),
                        starts=_word_starts(folded, tokens), lemmas=lemmas(tokens))

    def _unit_keys(self, text: str) -> Keys:
        """The keys of each unit of `text`: all an index needs of an entry's field
        (without the whole-text forms only a question needs)."""
        return tuple(u.keys for u in self._units(self.tokenizer.tokenize(text)))

    def _units(self, tokens: tuple[Token, ...]) -> tuple[Unit, ...]:
        # A synonym group is attached to the last token of its variant (the head
        # word in Japanese): お米 gives 米 the group, not the prefix お.
        variants = self._variants
        groups_at: dict[int, set[str]] = {}
        for i, t in enumerate(tokens):
            if t.word in variants or t.reading in variants:
                for canonical, n in self._synonyms_at(tokens, i):
                    groups_at.setdefault(i + n - 1, set()).add(canonical)
        units: list[Unit] = []
        seen_groups: set[str] = set()
        for i, t in enumerate(tokens):
            keys = self._word_keys.get(t)
            if keys is None:
                keys = self._keys_of(t)
                if len(self._word_keys) < _REMEMBERED_WORDS:
                    self._word_keys[t] = keys
            groups = groups_at.get(i)
            if groups:
                groups -= seen_groups
                seen_groups |= groups
                keys += tuple("s:" + g for g in sorted(groups))
            if keys:
                units.append(Unit(t.surface, keys))
        return tuple(units)

    def _keys_of(self, t: Token) -> tuple[str, ...]:
        """A word's own keys (its synonym groups depend on its neighbours, so come apart)."""
        if not t.content or t.word in self.ignore or t.reading in self.ignore:
            return ()
        keys = ["w:" + t.word]
        if len(t.reading) >= _VERBAL_READING_MIN:
            keys.append("r:" + t.reading)
        stem = "".join(ch for ch in t.word if is_kanji(ch))
        if stem and stem != t.word and len(stem) <= 2:
            keys.append("t:" + stem)
        return tuple(keys)  # distinct: each kind has its own prefix

    def reading(self, text: str) -> str:
        return self.tokenizer.reading(text)
