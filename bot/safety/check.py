"""The safety check: term rules and the detector together, in two levels.

- `emergency`: a term rule fired (and the message is not plainly *about*
  danger: a course, a campaign, a past fire), or the detector reads danger.
  The lines come first.
- A message that tells something and also asks, read whole, lies among the
  knowledge's questions; when it reads near a worry, its situation (the
  message without its asking sentences, `bot.safety.situation`) is read too, and
  is an emergency when the detector alone would make it one (below a worry,
  only when it reads clearly as danger: harmless asides sit there too).
- `concern`: worry without immediate danger — a term in a calm message or in
  one that reads as small talk, a detector margin just below the line, one
  above it that reads nearer the corpus' worries than its danger
  (`Reading.urgency`), one just above it that reads nearer its small talk
  (`Reading.talk`), or a message among the worries (`Reading.worry`). The
  question is answered as usual, with one kind line and its number, so a
  borderline message loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from bot.answer import Level
from bot.knowledge.model import Hotline, Knowledge
from bot.language.analysis import Analysis, Language
from bot.language.normalize import fold
from bot.safety.detector import DangerDetector, Reading
from bot.safety.situation import Asking
from bot.safety.terms import SafetyCheck
from bot.settings import MatchSettings

__all__ = ["DangerCheck", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    kinds: tuple[str, ...]
    message: str  # the lead of an emergency answer
    note: str  # the one kind line of a concern
    hotlines: tuple[Hotline, ...]
    searches: tuple[str, ...] = ()  # for the council's own services (no food, no bed tonight)
    reading: Reading | None = None
    by_terms: bool = False  # a term rule fired (else the detector alone)

    def softened(self) -> Verdict:
        """The same worry as a `concern`: the usual answer plus one kind line."""
        lines = self.hotlines[:2]
        return Verdict("concern", self.kinds, self.message, self.note, lines, (), self.reading, self.by_terms)


def _chars(text: str) -> int:
    """Letters and digits: how much a message says, punctuation and emoji aside."""
    return sum(ch.isalnum() for ch in text)


class DangerCheck:
    def __init__(self, knowledge: Knowledge, language: Language, *, detector: DangerDetector | None,
                 settings: MatchSettings, encode: Callable[[str], np.ndarray | None] | None = None) -> None:
        """`encode` gives a text's vector as a message's is made (for the situation's reading)."""
        self._k = knowledge
        self.terms = SafetyCheck(knowledge, language)
        self._calm = tuple(fold(w) for w in knowledge.calm_words)
        self._asking = Asking.of(ends=knowledge.asking[0], words=knowledge.asking[1])
        self.detector = detector
        self._s = settings
        self._encode = encode

    def check(self, q: Analysis, vector: np.ndarray | None) -> Verdict | None:
        verdict, reading = self._whole(q, vector)
        if (verdict is None or verdict.level != "emergency") and reading is not None:
            return self.situation(q.text, reading) or verdict
        return verdict

    def situation(self, text: str, whole: Reading) -> Verdict | None:
        """An emergency when the message read whole comes near a worry (`danger_situation_gate`)
        and, without its asking sentences, reads as an emergency to the detector alone (below a
        worry, by `danger_situation_clear`); else None."""
        s = self._s
        if self.detector is None or self._encode is None or whole.margin < s.danger_situation_gate:
            return None
        told = self._asking.situation(text)
        if told is None or _chars(told) < s.danger_min_chars:
            return None
        vector = self._encode(told)
        if vector is None:
            return None
        reading = self.detector.read(vector, fold(told))
        if not reading.kinds or self.detector_level(reading) != "emergency":
            return None
        if whole.margin < s.danger_concern and reading.margin < s.danger_situation_clear:
            return None  # below a worry read whole: only a situation that reads clearly as danger
        return self._verdict("emergency", reading.kinds, "", (), reading)

    def _whole(self, q: Analysis, vector: np.ndarray | None) -> tuple[Verdict | None, Reading | None]:
        """The message read as a whole: the term rules and the detector, in two levels; and the
        detector's reading, which the situation's gate needs even when it makes nothing of it."""
        s = self._s
        alert = self.terms.check(q)
        # A word or two (お金, 車いす) is a topic, not a situation: only the terms read it.
        chars = _chars(q.folded)
        long_enough = chars >= s.danger_min_chars
        reading = (self.detector.read(vector, q.folded)
                   if self.detector is not None and vector is not None and long_enough else None)
        sure = reading is not None and reading.margin >= s.danger_emergency
        if alert is not None:
            calm = any(w in q.folded for w in self._calm)
            # A term in a message the detector reads as plainly ordinary (a past that is over, a
            # game, an idiom) or as small talk (ころんでひざからちがでたけど、もうとまったよ: across
            # writers, 14 more of the 433 look-alikes a term fires on than the floor alone, and none
            # of its 1,361 danger messages; stop 30) is a worry: the answer still carries the kind
            # line and its number. In fewer words (じさつしたい) the term says it.
            ordinary = (reading is not None and chars >= s.danger_term_floor_chars
                        and (reading.margin < s.danger_term_floor or self._near_talk(reading)))
            level: Level = "concern" if (calm and not sure) or ordinary else "emergency"
            terms = tuple(r.kind or r.id for r in alert.rules)
            if not sure or reading is None:
                verdict = self._verdict(level, terms, alert.message, alert.hotlines, reading)
                return replace(verdict, by_terms=True), reading
            # Sure of danger, the detector names the kind and its lines lead; the rule's follow. A
            # term says that something is wrong more reliably than which kind (手をあげ: a partner, a
            # child or a parent): across writers, where the two differ, the detector's kind was
            # right for 474 of 564 corpus messages and the term's for 25 (stop 26).
            kinds = tuple(dict.fromkeys([*reading.kinds, *terms]))
            return replace(self._verdict(level, kinds, "", (), reading, after=alert.hotlines), by_terms=True), reading
        if reading is None or not reading.kinds:
            return None, reading
        level = self.detector_level(reading)
        return (None if level is None else self._verdict(level, reading.kinds, "", (), reading)), reading

    def detector_level(self, reading: Reading) -> Level | None:
        """What the detector alone makes of a reading: an emergency (sure of danger, nearer it
        than the worries, and, unless far above the line, than the small talk), a worry (a
        margin just below the line, or among the worries), or nothing."""
        s = self._s
        if (reading.margin >= s.danger_emergency and reading.urgency >= s.danger_urgency
                and not self._near_talk(reading)):
            return "emergency"
        if reading.margin >= s.danger_concern or reading.worry >= s.danger_worry:
            return "concern"
        return None

    def _near_talk(self, reading: Reading) -> bool:
        """Nearer the corpus' small talk than its danger, and not far above the line."""
        return reading.talk < self._s.danger_talk and reading.margin < self._s.danger_talk_ceiling

    def _verdict(self, level: Level, kinds: tuple[str, ...], message: str, lines: tuple[Hotline, ...],
                 reading: Reading | None, *, after: tuple[Hotline, ...] = ()) -> Verdict:
        """`lines` come before the kinds' own lines, `after` behind them; each number once."""
        known = [self._k.danger_kinds[k] for k in kinds if k in self._k.danger_kinds]
        seen = {h.number: h for h in lines}
        for h in [self._k.hotlines[ref] for kind in known for ref in kind.hotlines] + list(after):
            seen.setdefault(h.number, h)
        hotlines = tuple(seen.values())
        if level == "concern":  # one kind line: its first number or two
            first = known[0].hotlines[:2] if known else ()
            hotlines = tuple(self._k.hotlines[r] for r in first) or hotlines[:1]
        return Verdict(
            level=level,
            kinds=kinds,
            message=message or (known[0].message if known else ""),
            note=known[0].note if known else "",
            hotlines=hotlines,
            searches=tuple(k.search for k in known if k.search),
            reading=reading,
        )
