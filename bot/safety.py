"""Spot messages that signal danger or distress, from `_common/safety.yaml`.

Checked before anything else: a resident in danger must see the hotlines
first, whatever else the message asks. Terms are compared on the folded
surface, in kanji and in their kana reading, so 死にたい and しにたい both count.
Readings are compared with the typed text only, never with the question's own
reading, so 医師に対して (いしにたいして) does not look like 死にたい.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language import Analysis, Language
from bot.model import Hotline, Knowledge, SafetyRule
from bot.normalize import fold, is_kanji

__all__ = ["SafetyCheck", "Alert"]


@dataclass(frozen=True, slots=True)
class Alert:
    rules: tuple[SafetyRule, ...]
    hotlines: tuple[Hotline, ...]

    @property
    def message(self) -> str:
        return self.rules[0].message


class SafetyCheck:
    def __init__(self, knowledge: Knowledge, language: Language) -> None:
        self._hotlines = knowledge.hotlines
        self._rules: list[tuple[SafetyRule, tuple[str, ...], tuple[str, ...]]] = []
        for rule in knowledge.safety:
            written = {fold(t) for t in rule.terms}
            spoken = {language.reading(t) for t in rule.terms} - written
            self._rules.append((rule, tuple(f for f in written if len(f) >= 2),
                                tuple(f for f in spoken if len(f) >= 3)))

    @staticmethod
    def _typed_in_kana(form: str, text: str) -> bool:
        """`form` (a reading) occurs in `text` as a word of its own, not as the
        kana ending of a kanji word: けられ in 受けられ is not 蹴られ."""
        start = text.find(form)
        while start != -1:
            if start == 0 or not is_kanji(text[start - 1]):
                return True
            start = text.find(form, start + 1)
        return False

    def _fires(self, written: tuple[str, ...], spoken: tuple[str, ...], text: str) -> bool:
        return any(f in text for f in written) or any(self._typed_in_kana(f, text) for f in spoken)

    def check(self, q: Analysis) -> Alert | None:
        fired = [rule for rule, written, spoken in self._rules if self._fires(written, spoken, q.folded)]
        if not fired:
            return None
        seen: dict[str, Hotline] = {}
        for rule in fired:
            for ref in rule.hotlines:
                seen.setdefault(ref, self._hotlines[ref])
        return Alert(tuple(fired), tuple(seen.values()))
