"""Text normalisation shared by the knowledge side and the question side.

Both sides must go through exactly the same steps, otherwise a half-width
ｷｭｳｼｮｸ in a question would never meet 給食 in an entry.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "to_hiragana", "fold", "is_kanji"]

# Marks residents type in place of the long-vowel mark ー after kana.
_DASHES = "-‐‑‒–—―−ｰ~〜～"
_LONG_AFTER_KANA = re.compile(rf"(?<=[ぁ-ゖァ-ヺー])[{re.escape(_DASHES)}]")
_WAVES = re.compile(rf"[{re.escape('〜～~')}]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")
_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}  # str.translate table
# Text made only of these is already normal (NFKC, case folding and every rule above leave
# it as is): most words, once folded, so the common case costs one scan.
_SETTLED = re.compile(r"[ぁ-ゖァ-ヺー一-鿿々〆a-z0-9]*")
# …and already folded too (no katakana, no spaces): most words of the knowledge and of questions.
_FOLDED = re.compile(r"[ぁ-ゖー一-鿿々〆a-z0-9]*")
_MAX_ROUNDS = 4


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CONTROL.sub("", text)
    text = _LONG_AFTER_KANA.sub("ー", text)
    text = _WAVES.sub("〜", text)
    return _SPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """NFKC, case-fold, unify long-vowel marks and wave dashes, tidy spaces.

    Repeated until nothing changes, so the result is idempotent even for the
    rare characters whose case folding is not NFKC-stable.
    """
    if _SETTLED.fullmatch(text):
        return text
    for _ in range(_MAX_ROUNDS):
        new = _once(text)
        if new == text:
            break
        text = new
    return text


def to_hiragana(text: str) -> str:
    """Fold katakana to hiragana (カギ → かぎ); other characters are kept."""
    return text.translate(_HIRAGANA)


def fold(text: str) -> str:
    """The comparison form: normalised, hiragana only, no spaces (idempotent)."""
    if _FOLDED.fullmatch(text):
        return text
    for _ in range(_MAX_ROUNDS):
        new = normalize(to_hiragana(normalize(text)).replace(" ", ""))
        if new == text or _FOLDED.fullmatch(new):  # a folded text folds to itself: no second round
            return new
        text = new
    return text


def is_kanji(ch: str) -> bool:
    """True for a CJK ideograph (and 々〆), the characters that carry a word's stem."""
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆"
