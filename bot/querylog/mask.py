"""Mask numbers in free text before it is stored or logged.

Residents type their phone number, bank account or card number into the chat
("電話は０９０ー１２３４ー５６７８です"). The query log and the logs keep the
question for staff review, but never those digits. A run of digits — ASCII,
全角 or any other Unicode digit, or 漢数字 — joined by hyphens, long-vowel
marks, spaces or brackets is masked when it holds at least `MIN_DIGITS`
digits: each digit becomes `*`, separators stay, so staff still see that a
phone number was given. Short numbers (ages, 3人, 令和5年, 20万円) stay.
E-mail addresses are masked too. `mask_text` is idempotent.
"""

from __future__ import annotations

import re

__all__ = ["mask_text", "MIN_DIGITS", "MASK"]

MIN_DIGITS = 6
MASK = "*"

# What people put between digit groups: hyphens and dashes of every width, the
# long-vowel mark an IME produces for "-", spaces (also 全角), brackets, slashes.
_SEP = r"\-‐‑‒–—―−－ｰー~〜～ \t\u3000()（）/／"
_DIGIT = r"\d"
_KANJI = "〇一二三四五六七八九"
_RUN = re.compile(rf"{_DIGIT}(?:[{_SEP}]{{0,3}}{_DIGIT})*")
_KANJI_RUN = re.compile(rf"[{_KANJI}](?:[{_SEP}のノ]{{0,2}}[{_KANJI}])*")
# Bounded parts (RFC 5321 lengths), so a long text without "@" costs linear time, not quadratic.
_EMAIL = re.compile(r"[\w.+\-]{1,64}[@＠][\w\-]{1,63}(?:[.．][\w\-]{1,63}){1,8}")
_IS_DIGIT = re.compile(rf"{_DIGIT}")
_IS_KANJI = re.compile(rf"[{_KANJI}]")


_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def _digits(match: re.Match[str], pattern: re.Pattern[str], *, keep_ids: bool) -> str:
    text = match.group()
    if len(pattern.findall(text)) < MIN_DIGITS:
        return text
    if keep_ids:  # inside an id such as 01H8A1234567XYZ: letters on both sides
        s, start, end = match.string, match.start(), match.end()
        if start > 0 and end < len(s) and _ASCII_WORD.match(s[start - 1]) and _ASCII_WORD.match(s[end]):
            return text
    return pattern.sub(MASK, text)


def mask_text(text: str, *, keep_ids: bool = False) -> str:
    """`text` with phone/account/card-like digit runs and e-mail addresses masked.

    `keep_ids=True` (for logs) leaves digits that sit inside an ASCII word, with
    a letter or digit on both sides (event ids, hashes), so log lines can still
    be correlated; a number a person typed is never written that way.
    """
    if not text:
        return text
    if "@" in text or "＠" in text:
        text = _EMAIL.sub(lambda m: MASK * 3 + "@" + MASK * 3, text)
    text = _RUN.sub(lambda m: _digits(m, _IS_DIGIT, keep_ids=keep_ids), text)
    return _KANJI_RUN.sub(lambda m: _digits(m, _IS_KANJI, keep_ids=keep_ids), text)
