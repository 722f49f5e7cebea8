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
from bot.normalize import fold

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
        self._rules: list[tuple[SafetyRule, tuple[str, ...]]] = []
        for rule in knowledge.safety:
            forms = {fold(t) for t in rule.terms} | {language.reading(t) for t in rule.terms}
            self._rules.append((rule, tuple(f for f in forms if len(f) >= 2)))

    def check(self, q: Analysis) -> Alert | None:
        fired = [rule for rule, forms in self._rules if any(f in q.folded for f in forms)]
        if not fired:
            return None
        seen: dict[str, Hotline] = {}
        for rule in fired:
            for ref in rule.hotlines:
                seen.setdefault(ref, self._hotlines[ref])
        return Alert(tuple(fired), tuple(seen.values()))
