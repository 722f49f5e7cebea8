"""Spot messages that signal danger or distress, from `_common/safety.yaml`.

Checked before anything else: a resident in danger must see the hotlines
first, whatever else the message asks. Terms are compared on the folded
surface, in kanji and in their kana reading, so 死にたい and しにたい both count.
Readings are compared with the typed text only, never with the question's own
reading, so 医師に対して (いしにたいして) does not look like 死にたい. A kana
form must begin a word (Sudachi's split of the message), and a short one must
be a whole word, so 受けられ does not contain 蹴られ and はいしょく does not
contain 遺書 (いしょ). Terms are also compared word by word in dictionary form,
so 死んだ方が meets 死んだほうが and なぐられた meets 殴られ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.language.analysis import Analysis, Language, lemmas
from bot.knowledge.model import Hotline, Knowledge, SafetyRule
from bot.language.normalize import fold, is_kanji

__all__ = ["SafetyCheck", "Alert"]

_SHORT = 3  # kana forms this short must be whole words


@dataclass(frozen=True, slots=True)
class Alert:
    rules: tuple[SafetyRule, ...]
    hotlines: tuple[Hotline, ...]

    @property
    def message(self) -> str:
        return self.rules[0].message


def _pattern(forms: set[str], *, lookahead: bool = False) -> re.Pattern[str] | None:
    """One regex for a set of forms (longest first); with `lookahead`, finditer
    yields every position where one of them begins, overlapping or not."""
    if not forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))
    return re.compile(f"(?=(?:{alternatives}))" if lookahead else alternatives)


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: SafetyRule
    anywhere: re.Pattern[str] | None  # forms that begin with a kanji: found anywhere
    at_word: re.Pattern[str] | None  # kana (and other) forms: must begin a word
    whole: tuple[str, ...]  # short kana forms: must be a word of their own
    lemmas: re.Pattern[str] | None  # the terms as words in dictionary form: any inflection
    context: re.Pattern[str] | None  # one of these must be in the message too, if any
    unless: re.Pattern[str] | None  # none of these may be in the message


@dataclass(frozen=True, slots=True)
class _Message:
    """The forms of one message the rules look in, worked out once per message.

    The end of a message ends a sentence, so 帰ってこん。 matches a message that
    stops at 帰ってこん.
    """

    text: str  # folded, with 。 added
    words: str  # dictionary forms between bars, with 。 added
    starts: frozenset[int] | None  # where words begin in `text`; None if unknown
    ends: frozenset[int] | None  # where words end

    @classmethod
    def of(cls, q: Analysis) -> _Message:
        ends = None if q.starts is None else q.starts | {len(q.folded)}
        return cls(q.folded + "。", q.lemmas + "。|", q.starts, ends)

    def begins_word(self, at: int) -> bool:
        if self.starts is None:  # no word split: at least not inside a kanji word
            return at == 0 or not is_kanji(self.text[at - 1])
        return at in self.starts


class SafetyCheck:
    def __init__(self, knowledge: Knowledge, language: Language) -> None:
        self._hotlines = knowledge.hotlines
        self._rules: list[_Rule] = []
        for rule in knowledge.safety:
            written = {fold(t) for t in rule.terms if len(fold(t)) >= 2}
            spoken = {language.reading(t) for t in rule.terms} - written
            forms = written | {f for f in spoken if len(f) >= 3}
            context = {fold(t) for t in rule.context} | {language.reading(t) for t in rule.context}
            # A term cut after て (死にてぇ reads 死ぬ|て) is a spelling, not a phrase: in
            # dictionary form it would also match 死んで, so only its surface counts.
            split = [language.tokenizer.tokenize(t) for t in rule.terms]
            lemma_forms = {lemmas(toks) for toks in split if toks and toks[-1].word not in ("て", "で")}
            self._rules.append(_Rule(
                rule,
                anywhere=_pattern({f for f in forms if is_kanji(f[0])}),
                at_word=_pattern({f for f in forms if not is_kanji(f[0]) and len(f) > _SHORT}, lookahead=True),
                whole=tuple(sorted(f for f in forms if not is_kanji(f[0]) and len(f) <= _SHORT)),
                lemmas=_pattern({f for f in lemma_forms if f.count("|") >= 3}),  # two words or more
                context=_pattern({c for c in context if c}),
                unless=_pattern({fold(t) for t in rule.unless}),
            ))

    @staticmethod
    def _at_word(pattern: re.Pattern[str], m: _Message) -> bool:
        """A form begins a word of the message, so a kana form is not read out of
        the middle of another word: けられ in 受けられ, なぐる in 小さなグループ."""
        for found in pattern.finditer(m.text):
            if m.begins_word(found.start()):
                return True
        return False

    @staticmethod
    def _whole_word(forms: tuple[str, ...], m: _Message) -> bool:
        """A short form is a word of its own: いしょ (遺書) is not in いしょく (移植)."""
        for form in forms:
            at = m.text.find(form)
            while at != -1:
                if m.begins_word(at) and (m.ends is None or at + len(form) in m.ends):
                    return True
                at = m.text.find(form, at + 1)
        return False

    def _fires(self, r: _Rule, m: _Message) -> bool:
        if r.context is not None and not r.context.search(m.text):
            return False
        if r.unless is not None and r.unless.search(m.text):
            return False
        return bool(
            (r.anywhere is not None and r.anywhere.search(m.text))
            or (r.at_word is not None and self._at_word(r.at_word, m))
            or self._whole_word(r.whole, m)
            or (r.lemmas is not None and r.lemmas.search(m.words))
        )

    def check(self, q: Analysis) -> Alert | None:
        m = _Message.of(q)
        fired = [r.rule for r in self._rules if self._fires(r, m)]
        if not fired:
            return None
        seen: dict[str, Hotline] = {}
        for rule in fired:
            for ref in rule.hotlines:
                seen.setdefault(ref, self._hotlines[ref])
        return Alert(tuple(fired), tuple(seen.values()))
