"""A detector that reads situations, not keywords: nearest neighbours in meaning.

People in danger rarely write the keyword (「橋の上にいます。みんな今までありがとう」).
The labelled corpus in `_common/crisis/` holds danger messages by kind, and
look-alikes and worries that are not emergencies; the knowledge's own example
questions are ordinary questions too. A message's *margin* adds two readings of it:
- its meaning: how densely danger and ordinary messages surround it,
  τ·log mean exp(cos/τ) of its cosines to its `near` nearest on each side (a
  Parzen window over the sentence vectors), danger minus ordinary;
- its wording (`bot.safety.wording`): naive Bayes over its character grams,
  which carries better from one writer to another, weighted to the same scale.
Its kinds are voted by its k nearest danger messages. No training step: the
corpus is the model, so staff can read why a message was flagged, and an
edit to the YAML takes effect on the next reload.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.model import CrisisExample
from bot.safety.wording import Side, Wording

__all__ = ["DangerDetector", "Reading"]


@dataclass(frozen=True, slots=True)
class Reading:
    """How much a message reads like danger (margin > 0: closer to danger), and of which kinds."""

    margin: float
    kinds: tuple[str, ...]
    nearest: str  # the closest danger message, for staff
    meaning: float = 0.0  # the vectors' part of the margin
    wording: float = 0.0  # the character grams' part (already weighted)


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
                 k: int = 7, tau: float = 0.005, near: int = 200) -> None:
        self.k = k
        self.tau = tau
        self.near = near
        self.wording = wording
        self.wording_weight = wording_weight
        self.kinds = [e.kind for e in danger]
        self.texts = [e.text for e in danger]
        self.danger = danger_vectors
        self.ordinary = ordinary_vectors

    def read(self, vector: np.ndarray, folded: str = "", *, skip_ordinary: int | None = None,
             skip_danger: int | None = None) -> Reading:
        """`folded` is the message's folded text (for its wording). `skip_ordinary` or
        `skip_danger` leaves one corpus message out, vector and grams, to judge it as if
        unseen (the knowledge's own examples in `kb check`; calibration)."""
        d = self.danger @ vector
        o = self.ordinary @ vector
        leave_out: Side | None = None
        if skip_ordinary is not None:
            o = np.delete(o, skip_ordinary)
            leave_out = "ordinary"
        others = d
        if skip_danger is not None:
            others = np.delete(d, skip_danger)
            d = d.copy()
            d[skip_danger] = -np.inf  # votes for its kinds without it
            leave_out = "danger"
        meaning = _density(others, self.tau, self.near) - _density(o, self.tau, self.near)
        wording = (self.wording_weight * self.wording.score(folded, leave_out=leave_out)
                   if self.wording is not None and folded else 0.0)
        margin = meaning + wording
        near = np.argsort(-d)[: self.k]
        votes: Counter[str] = Counter()
        for i in near:
            votes[self.kinds[i]] += float(d[i])
        ranked = [kind for kind, _ in votes.most_common()]
        # A second kind rides along when it has nearly as many close neighbours.
        kinds = tuple(ranked[:1] + [k for k in ranked[1:2] if votes[k] >= 0.6 * votes[ranked[0]]])
        return Reading(round(margin, 4), kinds, self.texts[int(near[0])] if len(near) else "",
                       round(meaning, 4), round(wording, 4))
