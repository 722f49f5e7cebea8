"""Mask personal data in free text before it is stored or logged.

Residents type their phone number, bank account, card or My Number, their
address, birthday and name into the chat ("電話は０９０ー１２３４ー５６７８です").
The query log and the logs keep the question for staff review, but never
those. What is masked:
- a run of digits — ASCII, 全角 or any other Unicode digit, or 漢数字 —
  joined by hyphens, dots, の, long-vowel marks, spaces or brackets, when it
  holds at least `MIN_DIGITS` digits: each digit becomes `*`, separators
  stay, so staff still see that a phone number was given. Short numbers
  (ages, 3人, 令和5年, 20万円) stay;
- e-mail addresses, and postal codes (〒060-0001, 〒0600001);
- the numbers of a street address (北1条西2丁目3-4, 5番地, 101号室) and
  building names (… ハイツ, … マンション, … 荘);
- dates of birth: a full date in 昭和/平成/… or more than 15 years back, and
  any date said to be a birthday (…生まれ, 誕生日, 生年月日);
- personal names, as Sudachi tags them (`names.mask_names`).
`mask_text` is idempotent.
"""

from __future__ import annotations

import re
import time
import unicodedata

from bot.querylog.names import mask_names

__all__ = ["mask_text", "MIN_DIGITS", "MASK", "BUILDING_MASK"]

MIN_DIGITS = 6
MASK = "*"

# What people put between digit groups: hyphens and dashes of every width, the
# long-vowel mark an IME produces for "-", spaces (also 全角), brackets, slashes.
_SEP = r"\-‐‑‒–—―−－ｰー~〜～ \t\u3000()（）/／.．・のノ"
_DIGIT = r"\d"
_KANJI = "〇一二三四五六七八九"
_RUN = re.compile(rf"{_DIGIT}(?:[{_SEP}]{{0,3}}{_DIGIT})*")
_KANJI_RUN = re.compile(rf"[{_KANJI}](?:[{_SEP}のノ]{{0,2}}[{_KANJI}])*")
# Bounded parts (RFC 5321 lengths), so a long text without "@" costs linear time, not quadratic.
_EMAIL = re.compile(r"[\w.+\-]{1,64}[@＠][\w\-]{1,63}(?:[.．][\w\-]{1,63}){1,8}")
_IS_DIGIT = re.compile(rf"{_DIGIT}")
_IS_KANJI = re.compile(rf"[{_KANJI}]")


_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")  # an address in a log line, not a phone number


def _digits(match: re.Match[str], pattern: re.Pattern[str], *, keep_ids: bool) -> str:
    text = match.group()
    if len(pattern.findall(text)) < MIN_DIGITS or _IPV4.fullmatch(text):
        return text
    if keep_ids:  # inside an id such as 01H8A1234567XYZ: letters on both sides
        s, start, end = match.string, match.start(), match.end()
        if start > 0 and end < len(s) and _ASCII_WORD.match(s[start - 1]) and _ASCII_WORD.match(s[end]):
            return text
    return pattern.sub(MASK, text)


_NUM = r"[0-9０-９〇一二三四五六七八九十]+"
_POSTAL = re.compile(r"(〒\s*)([0-9０-９]{3}[-－ー‐]?[0-9０-９]{4})")
_ADDRESS_NUM = re.compile(rf"({_NUM})(\s*(?:丁目|番地|番|号室|号棟|号館|号|条|線|地割))")
_AFTER_ADDRESS = re.compile(rf"((?:丁目|番地|番|条)\s*)({_NUM}(?:\s*[-－ー‐の]\s*{_NUM}){{0,3}})")
_BUILDING = re.compile(r"(?:[ァ-ヶー]+|[\u4e00-\u9fff]{1,6})?\s*(?:ハイツ|マンション|アパート|コーポ|メゾン|レジデンス|"
                       r"ハイム|パレス|ヴィラ|ビル|荘|団地|タワー|コート)(?:[ァ-ヶー]+)?(?:\s*[0-9０-９A-Za-z]+)?")
_ERA = r"(?:明治|大正|昭和|平成|令和|[MTSHRmtshr]\.?)"
_FULL_DATE = re.compile(rf"({_ERA}\s*)?([0-9０-９]{{1,4}}|元)\s*[年./／]\s*([0-9０-９]{{1,2}})\s*[月./／]\s*"
                        rf"([0-9０-９]{{1,2}})\s*日?")
_BIRTH_CONTEXT = re.compile(r"(誕生日|生年月日|生まれ|生)")
_DIGITS = re.compile(r"[0-9０-９〇一二三四五六七八九十元]")
BIRTH_YEARS = 15  # a full date at least this far back is taken for a date of birth
BUILDING_MASK = "〈建物〉"


def _stars(text: str) -> str:
    return _DIGITS.sub(MASK, text)


def _date(match: re.Match[str]) -> str:
    """A full date: masked when it is a date of birth (era other than 令和, old, or said so nearby)."""
    era, year = (match.group(1) or "").strip(), match.group(2)
    s, start, end = match.string, match.start(), match.end()
    context = s[max(0, start - 6):start] + s[end:end + 4]
    if _BIRTH_CONTEXT.search(context) or (era and not era.startswith(("令和", "R", "r"))):
        return _stars(match.group())
    if not era and year.isdigit():
        y = int(unicodedata.normalize("NFKC", year))
        if (len(year) == 4 and y <= time.localtime().tm_year - BIRTH_YEARS) or len(year) <= 2:
            return _stars(match.group())
    return match.group()


def _month_day_born(text: str) -> str:
    """「4月12日生まれ」「誕生日は4月12日」: a birthday without its year."""
    pattern = re.compile(r"((?:誕生日|生年月日)\D{0,4})?([0-9０-９]{1,2})(\s*月\s*)([0-9０-９]{1,2})(\s*日)(?=(\s*(?:生|産))?)")

    def one(m: re.Match[str]) -> str:
        if m.group(1) or m.group(6):
            return (m.group(1) or "") + _stars(m.group(2)) + m.group(3) + _stars(m.group(4)) + m.group(5)
        return m.group()

    return pattern.sub(one, text)


def _personal(text: str) -> str:
    """Addresses, postal codes and dates of birth (before the digit runs, which would split them)."""
    if "〒" in text:
        text = _POSTAL.sub(lambda m: m.group(1) + _stars(m.group(2)), text)
    text = _FULL_DATE.sub(_date, text)
    if "月" in text:
        text = _month_day_born(text)
    text = _ADDRESS_NUM.sub(lambda m: _stars(m.group(1)) + m.group(2), text)
    text = _AFTER_ADDRESS.sub(lambda m: m.group(1) + _stars(m.group(2)), text)
    return _BUILDING.sub(BUILDING_MASK, text)


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
    text = _personal(text)
    text = _RUN.sub(lambda m: _digits(m, _IS_DIGIT, keep_ids=keep_ids), text)
    text = _KANJI_RUN.sub(lambda m: _digits(m, _IS_KANJI, keep_ids=keep_ids), text)
    return mask_names(text)
