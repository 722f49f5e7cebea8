"""SudachiPy tokenisation into the terms the index and the matcher share.

Each content word yields its dictionary form (鍵, 借りる) and its reading in
hiragana (かぎ, かりる), so a question typed in kana meets the kanji entry. The
dictionary comes from the `sudachidict-core` package: nothing is downloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from sudachipy import Dictionary, Morpheme, SplitMode

from bot.language.normalize import fold, is_kanji, normalize, to_hiragana

__all__ = ["Token", "Tokenizer", "content_terms", "default_tokenizer"]

# Parts of speech that carry meaning for matching.
_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "接頭辞", "代名詞", "副詞"})
_SKIP_SECOND = frozenset({"数詞", "非自立可能"})
_MAX_CHARS = 2_000  # longer messages are cut: a question never needs more
_MAX_WORDS = 200_000  # distinct words remembered; the knowledge uses about 10,000


@dataclass(frozen=True, slots=True)
class Token:
    surface: str
    folded: str  # the surface as typed, folded (see `normalize.fold`)
    word: str  # dictionary / normalised form, folded
    reading: str  # hiragana reading
    content: bool


class Tokenizer:
    """A thread-safe wrapper around one Sudachi tokenizer (SplitMode.A).

    Short units make kana-only and kanji spellings split the same way
    (成年|後見 either way), which is what matching needs.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self.dictionary = Dictionary(dict="core")  # one per process: the query log's masking shares it
        self.tokenize = lru_cache(maxsize=65_536)(self._tokenize)
        # Token per (dictionary word, surface): a word's forms are worked out once.
        # Plain dict reads and writes are atomic, so threads may share it.
        self._words: dict[tuple[int, str], Token] = {}

    def _sudachi(self):  # one Sudachi tokenizer per thread: it is not thread-safe
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = self.dictionary.tokenizer(mode=SplitMode.A)
        return tok

    def _tokenize(self, text: str) -> tuple[Token, ...]:
        text = normalize(text)[:_MAX_CHARS]
        if not text:
            return ()
        out: list[Token] = []
        words = self._words
        for m in self._sudachi().tokenize(text):
            surface = m.surface()
            key = None if m.is_oov() else (m.word_id(), surface)  # unknown words are not remembered
            token = words.get(key) if key else None
            if token is None:
                if not surface.strip():
                    continue
                token = self._token(m, surface)
                if key and len(words) < _MAX_WORDS:
                    words[key] = token
            out.append(token)
        return tuple(out)

    def _token(self, m: Morpheme, surface: str) -> Token:
        """One Token from one morpheme: the slow part, done once per dictionary word."""
        pos = m.part_of_speech()
        reading = to_hiragana(m.reading_form()) if m.reading_form() else fold(surface)
        if reading == "きごう":  # Sudachi's reading for unknown symbols
            reading = fold(surface)
        if m.is_oov() and any(is_kanji(c) for c in reading):
            reading = self._char_reading(surface)
        content = pos[0] in _CONTENT_POS and pos[1] not in _SKIP_SECOND
        return Token(surface=surface, folded=fold(surface), word=fold(m.normalized_form()), reading=reading,
                     content=content)

    def _char_reading(self, surface: str) -> str:
        """A reading for an unknown kanji word, character by character.

        Wrong-kanji typos (傾調 for 傾聴) are unknown to the dictionary; reading
        each character still gives けいちょう, which meets the intended word.
        """
        parts = []
        for ch in surface:
            ms = self._sudachi().tokenize(ch) if is_kanji(ch) else ()
            parts.append(to_hiragana(ms[0].reading_form()) if len(ms) == 1 and not ms[0].is_oov() else fold(ch))
        return "".join(parts)

    def reading(self, text: str) -> str:
        """The whole text as hiragana, the form fuzzy phrase matching compares."""
        return "".join(t.reading for t in self.tokenize(text))


@lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    return Tokenizer()


def content_terms(tokens: tuple[Token, ...], *, ignore: frozenset[str] = frozenset()) -> list[Token]:
    """The tokens that carry meaning, without the words listed as ignorable."""
    return [t for t in tokens if t.content and t.word not in ignore and t.reading not in ignore]
