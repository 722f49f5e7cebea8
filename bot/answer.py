"""The one channel-neutral answer every adapter renders.

It holds facts, not presentation: LINE turns it into a Flex bubble, Slack into
Block Kit, the terminal into text. Staff-only details ride along in `staff`
and resident channels simply ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.knowledge.model import Contact, Hotline, Status

__all__ = ["Kind", "Level", "Danger", "Option", "ServiceCard", "StaffDetail", "Answer", "label"]

Kind = Literal["answer", "choices", "fallback", "emergency"]
Level = Literal["emergency", "concern"]
LABEL_MAX = 20


def label(text: str, *, limit: int = LABEL_MAX) -> str:
    """A short button label: at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Option:
    """A service (or category) the resident can pick; `label` is ≤20 characters."""

    id: str
    title: str
    label: str
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class ServiceCard:
    id: str
    title: str
    summary: str
    window: Contact
    category: str
    status: Status = "active"
    status_note: str | None = None
    who: str | None = None
    how_to_apply: str | None = None
    fee: str | None = None
    schedule: str | None = None


@dataclass(frozen=True, slots=True)
class StaffDetail:
    """What staff see besides the resident's answer."""

    id: str
    score: float
    audience: str
    department: str
    file: str
    updated: str | None = None
    notes: str | None = None
    figures: str | None = None
    provider: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Danger:
    """Why hotlines ride along with an answer.

    `emergency`: the answer's kind is "emergency" and the lines come first.
    `concern`: worry without immediate danger; the question is answered as
    usual and `note` (one kind line) is shown with the answer's `hotlines`.
    `kinds` are the safety rule ids read in the message (suicide, dv, …).
    """

    level: Level
    kinds: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """What to say. `choices` on a `fallback` are "もしかして" guesses, offered
    like the choices of a `choices` answer."""

    kind: Kind
    council_id: str
    council_name: str
    query: str
    message: str  # the lead sentence, already in plain Japanese
    window: Contact  # the council's general window, always present
    reason: str = ""  # matched | ambiguous | no_match | not_offered | crisis | menu | picked | empty
    service: ServiceCard | None = None
    choices: tuple[Option, ...] = ()
    related: tuple[Option, ...] = ()
    hotlines: tuple[Hotline, ...] = ()
    results: tuple[Option, ...] = ()  # the ranking behind the answer, best first
    staff: StaffDetail | None = None
    danger: Danger | None = None
