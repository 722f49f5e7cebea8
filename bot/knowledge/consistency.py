"""Checks across files, once every file has loaded on its own.

A service may name a related service that does not exist, and a "not offered"
topic may name a service the council does run. Each file is valid alone; only
together are they wrong, so these checks run last and point at the line to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.knowledge.model import Council, NotOffered, Service
from bot.language.normalize import fold
from bot.knowledge.problems import Problem
from bot.knowledge.yamlfile import read_yaml

__all__ = ["related_problems", "gap_problems", "window_problems", "own_names", "offices_for"]


def _line(base: Path, file: str, path: tuple) -> int:
    doc, _ = read_yaml(base / file, display=file)
    return doc.line(path) if doc is not None else 1


def related_problems(base: Path, services: dict[str, Service], *, broken: set[str]) -> list[Problem]:
    """`related` ids that are unknown or belong to another council (ids of broken files are skipped)."""
    out = []
    for s in services.values():
        for i, ref in enumerate(s.related):
            target = services.get(ref)
            if target is None and ref in broken:
                continue
            if target is None or target.council_id != s.council_id:
                why = "unknown id" if target is None else "belongs to another council"
                out.append(Problem(s.path, _line(base, s.path, ("related", i)), "related", f"{why}: {ref!r}"))
    return out


def own_names(council_id: str, services: Iterable[Service]) -> dict[str, str]:
    """Folded title or alias → id, over the council's own resident services that still run."""
    return {
        fold(n): s.id for s in services
        if s.council_id == council_id and s.audience == "resident" and s.status != "ended"
        for n in (s.title, *s.aliases)
    }


def offices_for(council_id: str, services: Iterable[Service],
                other_offices: Sequence[NotOffered]) -> tuple[NotOffered, ...]:
    """The common "another office handles it" topics that hold for this council: not one
    whose term names a service of its own (a council whose knowledge lists the city's
    生活保護 window answers with that window, never with "not here")."""
    names = own_names(council_id, services)
    return tuple(gap for gap in other_offices if not any(fold(t) in names for t in gap.terms))


def gap_problems(
    base: Path,
    councils: dict[str, Council],
    services: dict[str, Service],
) -> list[Problem]:
    """Warnings for a council's "not offered" term that is also the name of one of its own services."""
    by_council: dict[str, list[Service]] = {}
    for s in services.values():  # once, not once per council: a national knowledge has thousands
        by_council.setdefault(s.council_id, []).append(s)
    out = []
    for council in councils.values():
        names = own_names(council.id, by_council.get(council.id, ()))
        for i, gap in enumerate(council.not_offered):
            for j, term in enumerate(gap.terms):
                if fold(term) in names:
                    out.append(Problem(
                        council.path, _line(base, council.path, ("not_offered", i, "terms", j)),
                        f"not_offered.{i}.terms.{j}",
                        f"{term!r} is also a name of {names[fold(term)]}: offered or not? One of the two is "
                        "out of date", "warning"))
    return out


def window_problems(base: Path, councils: dict[str, Council], services: dict[str, Service]) -> list[Problem]:
    """One warning per window lacking a phone number or hours, at its line in council.yaml.

    The fix belongs in council.yaml, not in each of the services that inherit
    the window, so it is reported once with how many services refer to it.
    """
    out = []
    for council in councils.values():
        using: dict[str, int] = {}
        for s in services.values():
            if s.council_id == council.id:
                using[s.department_id] = using.get(s.department_id, 0) + 1
        for i, dep in enumerate(council.departments.values()):
            missing = dep.contact.missing
            if missing:
                out.append(Problem(
                    council.path, _line(base, council.path, ("departments", i)), f"departments[{i}]",
                    f"window {dep.contact.name!r} has no {' and '.join(missing)} "
                    f"({using.get(dep.id, 0)} services refer to it)", "warning"))
        if council.window.missing:
            out.append(Problem(
                council.path, _line(base, council.path, ("window",)), "window",
                f"the general window {council.window.name!r} has no {' and '.join(council.window.missing)}",
                "warning"))
    return out
