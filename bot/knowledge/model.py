"""The knowledge as typed, frozen values: what the YAML files mean once loaded.

Nothing here knows about a particular council or service; every fact comes
from `knowledge/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Audience",
    "Status",
    "Contact",
    "Department",
    "NotOffered",
    "Council",
    "Service",
    "Category",
    "SynonymGroup",
    "Hotline",
    "SafetyRule",
    "Knowledge",
]

SMALL_TALK = "everyday"  # the corpus' topic for small talk among the look-alikes

Audience = Literal["resident", "staff"]
Status = Literal["active", "paused", "ended", "planned", "draft"]  # draft: staff only, never answered


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact window. Any field may be empty: the seeds give no numbers."""

    name: str
    phone: str | None = None
    hours: str | None = None
    address: str | None = None
    url: str | None = None
    note: str | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(f for f in ("phone", "hours") if not getattr(self, f))


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    contact: Contact
    operator: Literal["council", "city", "other"] = "council"


@dataclass(frozen=True, slots=True)
class NotOffered:
    topic: str
    terms: tuple[str, ...]
    message: str | None = None
    # How residents ask for it, so both retrievers can tell it from the services offered.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Council:
    id: str
    name: str
    short_name: str
    prefecture: str
    aliases: tuple[str, ...]
    window: Contact
    departments: dict[str, Department]
    not_offered: tuple[NotOffered, ...] = ()
    path: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    council_id: str
    title: str
    aliases: tuple[str, ...]
    category: str
    audience: Audience
    summary: str
    contact: Contact
    department_id: str
    status: Status = "active"
    status_note: str | None = None
    who: str | None = None
    how_to_apply: str | None = None
    fee: str | None = None
    schedule: str | None = None
    examples: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    notes: str | None = None
    figures: str | None = None
    provider: str | None = None
    source: str | None = None
    updated: str | None = None
    path: str = ""
    offered: bool = True  # False for a council's `not_offered` topic, matched like a service

    @classmethod
    def gap(cls, council: Council, index: int, entry: NotOffered) -> Service:
        """A `not_offered` topic as a matchable entry, so "not offered here" competes fairly."""
        return cls(
            id=f"{council.id}/not-offered-{index}",
            council_id=council.id,
            title=entry.topic,
            aliases=entry.terms,
            category="",
            audience="resident",
            summary=entry.message or "",
            examples=entry.examples,
            contact=council.window,
            department_id="",
            path=council.path,
            offered=False,
        )


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    label: str
    terms: tuple[str, ...] = ()
    audience: Audience = "resident"


@dataclass(frozen=True, slots=True)
class SynonymGroup:
    """Words that mean the same thing to a resident; matched as one term."""

    canonical: str
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hotline:
    name: str
    number: str
    hours: str | None = None
    note: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class DangerKind:
    """One kind of danger: the lead of an emergency answer, the one kind line of a
    `concern`, the lines to show, and a search for the council's own services."""

    id: str
    message: str
    note: str
    hotlines: tuple[str, ...]
    search: str | None = None


@dataclass(frozen=True, slots=True)
class CrisisExample:
    """A labelled message of the danger corpus (`_common/crisis/`).

    level: "danger" (kind says which), "concern" (worry without immediate
    danger) or "calm" (a look-alike: a course, a campaign, an idiom). A
    look-alike's topic `everyday` (`SMALL_TALK`) marks small talk, which the
    detector also reads apart.
    """

    text: str
    level: str
    kind: str = ""
    topic: str = ""

    @property
    def small_talk(self) -> bool:
        return self.level == "calm" and self.topic == SMALL_TALK


@dataclass(frozen=True, slots=True)
class SafetyRule:
    """Words that signal one kind of danger, and which hotlines to show for it.

    With `context`, a term counts only when one of those words is in the
    message too (虐待 is a child-abuse alarm when a child is mentioned).
    """

    id: str
    terms: tuple[str, ...]
    hotlines: tuple[str, ...]
    message: str
    context: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()  # words that show the danger is past (火事の見舞金)
    kind: str = ""  # the DangerKind it signals (default: the rule's id)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything loaded from one `knowledge/` folder, validated."""

    councils: dict[str, Council]
    services: dict[str, Service]
    categories: dict[str, Category]
    synonyms: tuple[SynonymGroup, ...] = ()
    ignore_words: frozenset[str] = frozenset()
    excluding: tuple[str, ...] = ()  # words after a name that set it aside (以外, ではなく)
    hotlines: dict[str, Hotline] = field(default_factory=dict)
    safety: tuple[SafetyRule, ...] = ()
    danger_kinds: dict[str, DangerKind] = field(default_factory=dict)
    calm_words: tuple[str, ...] = ()  # a message with one talks *about* danger
    asking: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # sentence endings and words that ask
    crisis: tuple[CrisisExample, ...] = ()  # the detector's labelled corpus
    # Topics for another office (city hall, tax office), "not offered" in every council.
    other_offices: tuple[NotOffered, ...] = ()
    # Questions no council here handles (`_common/out_of_scope.yaml`): what "none of these" looks like.
    out_of_scope: tuple[str, ...] = ()
    # Entries staff started (`status: draft`): validated, shown to staff, never answered.
    drafts: dict[str, Service] = field(default_factory=dict)
    root: str = ""

    def services_of(self, council_id: str) -> list[Service]:
        return [s for s in self.services.values() if s.council_id == council_id]
