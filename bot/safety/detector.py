"""A detector that reads situations, not keywords: nearest neighbours in meaning.

People in danger rarely write the keyword (「橋の上にいます。みんな今までありがとう」).
The labelled corpus in `_common/crisis/` holds danger messages by kind, and
look-alikes and worries that are not emergencies; the knowledge's own example
questions, and the questions no council handles, are ordinary questions too. A
message's *margin* adds two readings of it:
- its meaning: how densely danger and ordinary messages surround it,
  τ·log mean exp(cos/τ) of its cosines to its `near` nearest on each side (a
  Parzen window over the sentence vectors), danger minus ordinary;
- its wording (`bot.safety.wording`): naive Bayes over its character grams,
  which carries better from one writer to another, weighted to the same scale.
A message read as danger is also read against the worries alone, the same
two ways (`urgency`): a worry (最近、母の物忘れが心配で) lies nearer to danger
than any look-alike, and what tells it apart is whether the harm is happening
now, which the worries written beside the danger messages show. And a message
that lies among the worries more than among the other ordinary messages
(`worry`, by meaning) is a worry, whatever its margin. Small talk is read the
same way (`talk`): against the small talk alone, a message about a son who
sleeps till noon lies nearer it than the danger of a son who will not leave
his room, and its words say so more plainly than against the whole ordinary
side, where small talk is a small part of the counts.
Its kinds are those whose own messages surround it most densely (the same
density, over each kind's nearest): a kind with many messages a little
farther off can outweigh one lone near neighbour of another kind, which a
vote of the k nearest could not. Each kind's density is joined by how its
messages are worded (`bot.safety.kind_wording`), weighted to the same scale. No training step: the
corpus is the model, so staff can read why a message was flagged, and an
edit to the YAML takes effect on the next reload.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.model import CrisisExample
from bot.safety.kind_wording import KindWording
from bot.safety.wording import Side, Wording
from bot.settings import MatchSettings

__all__ = ["DangerDetector", "Reading"]


@dataclass(frozen=True, slots=True)
class Reading:
    """How much a message reads like danger (margin > 0: closer to danger), and of which kinds."""

    margin: float
    kinds: tuple[str, ...]
    nearest: str  # the closest danger message, for staff
    meaning: float = 0.0  # the vectors' part of the margin
    wording: float = 0.0  # the character grams' part (already weighted)
    urgency: float = math.inf  # nearer danger than the worries by this much (inf: no worries to read against)
    worry: float = -math.inf  # nearer the worries than the other ordinary messages by this much
    talk: float = math.inf  # nearer danger than the small talk by this much (inf: no small talk to read against)


def _density(sims: np.ndarray, tau: float, near: int) -> float:
    """τ·log mean exp(cos/τ) over the `near` largest cosines, computed stably: near the
    largest cosine, raised by close company. Over a fixed number of neighbours, neither
    a mean over a whole side (which falls by τ·log N as a side grows: more examples in
    the knowledge raised every margin) nor a sum (which rises with it)."""
    if sims.size == 0:
        return -1.0
    if sims.size > near:
        sims = np.partition(sims, sims.size - near)[-near:]
    top = float(sims.max())
    return top + tau * float(np.log(np.exp((sims - top) / tau).mean()))


class DangerDetector:
    def __init__(self, danger: Sequence[CrisisExample], danger_vectors: np.ndarray,
                 ordinary_vectors: np.ndarray, *, wording: Wording | None = None, wording_weight: float = 0.0,
                 tau: float = 0.005, near: int = 200, kind_tau: float = 0.02, kind_near: int = 20,
                 kind_margin: float = 0.005, kind_wording: KindWording | None = None,
                 kind_wording_weight: float = 0.0, worries: int = 0, urgency_wording: KindWording | None = None,
                 urgency_wording_weight: float = 0.0, talk: int = 0, talk_wording: KindWording | None = None,
                 talk_wording_weight: float = 0.0) -> None:
        """The first `worries` rows of `ordinary_vectors` are worries, the next `talk` small
        talk; `urgency_wording` is the wording of danger against the worries (classes "danger"
        and "concern"), `talk_wording` against the small talk ("danger" and "talk")."""
        self.tau = tau
        self.near = near
        self.kind_tau = kind_tau
        self.kind_near = kind_near
        self.kind_margin = kind_margin
        self.kind_wording = kind_wording
        self.kind_wording_weight = kind_wording_weight
        self.wording = wording
        self.wording_weight = wording_weight
        self.kinds = [e.kind for e in danger]
        self.texts = [e.text for e in danger]
        labels = np.array(self.kinds, dtype=object)
        self._rows_of_kind = {kind: np.flatnonzero(labels == kind) for kind in dict.fromkeys(self.kinds)}
        self.danger = danger_vectors
        self.ordinary = ordinary_vectors
        self.worries = worries
        self.urgency_wording = urgency_wording
        self.urgency_wording_weight = urgency_wording_weight
        self.talk = talk
        self.talk_wording = talk_wording
        self.talk_wording_weight = talk_wording_weight

    @classmethod
    def configured(cls, danger: Sequence[CrisisExample], danger_vectors: np.ndarray, ordinary_vectors: np.ndarray,
                   *, settings: MatchSettings, wording: Wording | None = None,
                   kind_wording: KindWording | None = None, worries: int = 0,
                   urgency_wording: KindWording | None = None, talk: int = 0,
                   talk_wording: KindWording | None = None) -> DangerDetector:
        """The detector as `settings` tune it (`danger_*`): the bot's and the calibration's alike."""
        s = settings
        return cls(danger, danger_vectors, ordinary_vectors, wording=wording, wording_weight=s.danger_wording,
                   tau=s.danger_tau, near=s.danger_near, kind_tau=s.danger_kind_tau, kind_near=s.danger_kind_near,
                   kind_margin=s.danger_kind_margin, kind_wording=kind_wording,
                   kind_wording_weight=s.danger_kind_wording, worries=worries, urgency_wording=urgency_wording,
                   urgency_wording_weight=s.danger_urgency_wording, talk=talk, talk_wording=talk_wording,
                   talk_wording_weight=s.danger_talk_wording)

    def read(self, vector: np.ndarray, folded: str = "", *, skip_ordinary: int | None = None,
             skip_danger: int | None = None) -> Reading:
        """`folded` is the message's folded text (for its wording). `skip_ordinary` or
        `skip_danger` leaves one corpus message out, vector and grams, to judge it as if
        unseen (the knowledge's own examples in `kb check`; calibration)."""
        d = self.danger @ vector
        o = self.ordinary @ vector
        leave_out: Side | None = None
        worries, talk = self.worries, self.talk
        was_worry = was_talk = False
        if skip_ordinary is not None:
            o = np.delete(o, skip_ordinary)
            leave_out = "ordinary"
            was_worry = skip_ordinary < worries
            was_talk = worries <= skip_ordinary < worries + talk
            worries, talk = worries - was_worry, talk - was_talk
        others = d
        if skip_danger is not None:
            others = np.delete(d, skip_danger)
            d = d.copy()
            d[skip_danger] = -np.inf  # votes for its kinds without it
            leave_out = "danger"
        near_danger = _density(others, self.tau, self.near)
        meaning = near_danger - _density(o, self.tau, self.near)
        wording = (self.wording_weight * self.wording.score(folded, leave_out=leave_out)
                   if self.wording is not None and folded else 0.0)
        margin = meaning + wording
        own_kind = self.kinds[skip_danger] if skip_danger is not None else None
        urgency, worry, chat = math.inf, -math.inf, math.inf
        gone = "danger" if skip_danger is not None else None  # a left-out message's own class, for the wordings
        if worries > 0:
            worry = round(_density(o[:worries], self.tau, self.near) - _density(o[worries:], self.tau, self.near), 4)
            urgency = self._against(near_danger, o[:worries], self.urgency_wording, self.urgency_wording_weight,
                                    folded, leave_out=gone or ("concern" if was_worry else None))
        if talk > 0:
            chat = self._against(near_danger, o[worries:worries + talk], self.talk_wording, self.talk_wording_weight,
                                 folded, leave_out=gone or ("talk" if was_talk else None))
        return Reading(round(margin, 4), self._kinds(d, folded, leave_out=own_kind),
                       self.texts[int(np.argmax(d))] if len(d) else "",
                       round(meaning, 4), round(wording, 4), urgency, worry, chat)

    def _against(self, near_danger: float, group: np.ndarray, wording: KindWording | None, weight: float,
                 folded: str, *, leave_out: str | None) -> float:
        """How much nearer danger than one group of ordinary messages (the worries, the small
        talk): the danger density minus the group's, plus `weight` times the wording of danger
        against the group (`wording`'s classes "danger" and the group's)."""
        by = near_danger - _density(group, self.tau, self.near)
        if wording is not None and weight and folded:
            odds = wording.scores(folded, leave_out=leave_out)
            by += weight * (odds["danger"] - odds[wording.kinds[1]])
        return round(by, 4)

    def _kinds(self, d: np.ndarray, folded: str, *, leave_out: str | None) -> tuple[str, ...]:
        """The kind whose messages surround the message most densely, its wording weighed
        in; a second one rides along when its score is within `kind_margin` (the lines of
        both are shown). A kind with fewer than `kind_near` messages counts the missing ones
        as far away, so a kind of three examples is not favoured for having no others."""
        m, tau = self.kind_near, self.kind_tau
        worded = (self.kind_wording.scores(folded, leave_out=leave_out)
                  if self.kind_wording is not None and self.kind_wording_weight and folded else {})
        density = {}
        for kind, rows in self._rows_of_kind.items():
            sims = d[rows]
            sims = sims[np.isfinite(sims)]  # a left-out message does not count for its kind
            if len(sims):
                density[kind] = (_density(sims, tau, m) + tau * float(np.log(min(len(sims), m) / m))
                                 + self.kind_wording_weight * worded.get(kind, 0.0))
        ranked = sorted(density, key=density.__getitem__, reverse=True)
        return tuple(ranked[:1] + [k for k in ranked[1:2] if density[k] >= density[ranked[0]] - self.kind_margin])
