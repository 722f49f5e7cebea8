"""Figures of one system on one question set: ranking quality and decisions."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.evaluation.questions import Question

__all__ = ["Outcome", "Figures", "score"]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # answer | choices | fallback | emergency
    ranked: tuple[str, ...]
    seconds: float
    dangers: tuple[str, ...] = ()  # the kinds of danger whose lines the answer shows


@dataclass(slots=True)
class Figures:
    top1: float = 0.0
    top3: float = 0.0
    mrr: float = 0.0
    answer_rate: float = 0.0
    precision: float = 0.0
    declined: float = 0.0
    crisis: float = 0.0
    alarms: float = 0.0  # emergency answers to messages that are not in danger
    kind_shown: float = 0.0  # of danger messages of a known kind answered as emergencies: its lines shown
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    NAMES = ("top1", "top3", "mrr", "answer_rate", "precision", "declined", "crisis", "alarms", "kind_shown",
             "p50_ms", "p99_ms")


def _rate(hits: Iterable[bool]) -> float:
    xs = list(hits)
    return sum(xs) / len(xs) if xs else float("nan")


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def score(pairs: list[tuple[Question, Outcome]]) -> Figures:
    ins = [(q, o) for q, o in pairs if q.group == "in_scope"]
    declines = [(q, o) for q, o in pairs if q.group in ("out_of_scope", "not_offered")]
    crisis = [(q, o) for q, o in pairs if q.group == "crisis"]
    # A danger corpus labels each message with its kind (style "crisis:dv"): were that kind's lines shown?
    kinds = [(q.style.partition(":")[2], o) for q, o in crisis if o.kind == "emergency" and ":" in q.style]
    answered = [(q, o) for q, o in pairs if o.kind == "answer"]

    def rr(q: Question, o: Outcome) -> float:
        for i, sid in enumerate(o.ranked[:10], 1):
            if sid in q.expect:
                return 1.0 / i
        return 0.0

    times = [o.seconds * 1000 for _, o in pairs]
    return Figures(
        top1=_rate(bool(o.ranked) and o.ranked[0] in q.expect for q, o in ins),
        top3=_rate(any(s in q.expect for s in o.ranked[:3]) for q, o in ins),
        mrr=statistics.fmean(rr(q, o) for q, o in ins) if ins else float("nan"),
        answer_rate=_rate(o.kind == "answer" for _, o in ins),
        precision=_rate(bool(o.ranked) and o.ranked[0] in q.expect for q, o in answered),
        declined=_rate(o.kind == "fallback" for _, o in declines),
        crisis=_rate(o.kind == "emergency" for _, o in crisis),
        alarms=_rate(o.kind == "emergency" for q, o in pairs if q.group != "crisis"),
        kind_shown=_rate(kind in o.dangers for kind, o in kinds),
        p50_ms=_pct(times, 0.5),
        p99_ms=_pct(times, 0.99),
        counts={"in_scope": len(ins), "declinable": len(declines), "crisis": len(crisis), "answered": len(answered)},
    )


System = Callable[[Question], Outcome]
