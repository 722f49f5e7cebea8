"""Spot messages that signal danger or distress, from `_common/safety.yaml`.

Checked before anything else: a resident in danger must see the hotlines
first, whatever else the message asks. Terms are compared on the folded
surface, in kanji and in their kana reading, so 死にたい and しにたい both count.
Readings are compared with the typed text only, never with the question's own
reading, so 医師に対して (いしにたいして) does not look like 死にたい, and a kana
form must begin a word (Sudachi's split of the message), so はいしょく does not
contain 遺書 (いしょ). Terms are also compared word by word in dictionary form,
so 死んだ方が meets 死んだほうが and なぐられた meets 殴られ.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language import Analysis, Language, lemmas
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


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: SafetyRule
    anywhere: tuple[str, ...]  # forms that begin with a kanji: found anywhere
    at_word: tuple[str, ...]  # kana (and other) forms: must begin a word
    lemmas: tuple[str, ...]  # the terms as words in dictionary form: any inflection
    context: tuple[str, ...]  # one of these must be in the message too, if any
    unless: tuple[str, ...]  # none of these may be in the message


class SafetyCheck:
    def __init__(self, knowledge: Knowledge, language: Language) -> None:
        self._hotlines = knowledge.hotlines
        self._rules: list[_Rule] = []
        for rule in knowledge.safety:
            written = {fold(t) for t in rule.terms if len(fold(t)) >= 2}
            spoken = {language.reading(t) for t in rule.terms} - written
            forms = written | {f for f in spoken if len(f) >= 3}
            context = {fold(t) for t in rule.context} | {language.reading(t) for t in rule.context}
            lemma_forms = {lemmas(language.tokenizer.tokenize(t)) for t in rule.terms}
            self._rules.append(_Rule(
                rule,
                anywhere=tuple(sorted(f for f in forms if is_kanji(f[0]))),
                at_word=tuple(sorted(f for f in forms if not is_kanji(f[0]))),
                lemmas=tuple(sorted(f for f in lemma_forms if f.count("|") >= 3)),  # two words or more
                context=tuple(sorted(c for c in context if c)),
                unless=tuple(sorted({fold(t) for t in rule.unless})),
            ))

    @staticmethod
    def _at_word(form: str, text: str, starts: frozenset[int] | None) -> bool:
        """`form` begins a word of the message, so a kana form is not read out of
        the middle of another word: けられ in 受けられ, なぐる in 小さなグループ."""
        start = text.find(form)
        while start != -1:
            if starts is not None:
                if start in starts:
                    return True
            elif start == 0 or not is_kanji(text[start - 1]):
                return True
            start = text.find(form, start + 1)
        return False

    def _fires(self, r: _Rule, q: Analysis) -> bool:
        if r.context and not any(c in q.folded for c in r.context):
            return False
        if any(u in q.folded for u in r.unless):
            return False
        text, words = q.folded + "。", q.lemmas + "。|"  # the end of a message ends a sentence
        return (
            any(f in text for f in r.anywhere)
            or any(self._at_word(f, text, q.starts) for f in r.at_word)
            or any(f in words for f in r.lemmas)
        )

    def check(self, q: Analysis) -> Alert | None:
        fired = [r.rule for r in self._rules if self._fires(r, q)]
        if not fired:
            return None
        seen: dict[str, Hotline] = {}
        for rule in fired:
            for ref in rule.hotlines:
                seen.setdefault(ref, self._hotlines[ref])
        return Alert(tuple(fired), tuple(seen.values()))
