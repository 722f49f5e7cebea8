"""Load and validate a `knowledge/` folder into one frozen `Knowledge`.

Every problem is collected (not just the first) with file, line and field, so
staff fix a broken edit in one go. Errors stop the load; warnings (missing
phone numbers and hours) do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge import schema
from bot.knowledge.checked import validated
from bot.knowledge.model import (
    Category,
    Contact,
    Council,
    CrisisExample,
    DangerKind,
    Department,
    Hotline,
    Knowledge,
    NotOffered,
    SafetyRule,
    Service,
    SynonymGroup,
)
from bot.knowledge.consistency import gap_problems, related_problems, window_problems
from bot.knowledge.contacts import phone_problem, url_problem
from bot.knowledge.problems import KnowledgeError, Problem, Problems
from bot.knowledge.yamlfile import ParsedStore, YamlDoc, read_yaml

__all__ = ["LoadResult", "load_knowledge", "check_knowledge", "default_root"]

COMMON = "_common"
MIN_WORDS = 3  # aliases and example questions a resident entry should have
_AFTER_PUNCT = re.compile(r"(?<=[。、！？」）])\s+")


def default_root() -> Path:
    """The knowledge bundled with the project (the repo's `knowledge/`)."""
    return Path(__file__).resolve().parents[2] / "knowledge"


@dataclass(frozen=True, slots=True)
class LoadResult(Problems):
    knowledge: Knowledge | None
    problems: tuple[Problem, ...]


def load_knowledge(root: Path | str | None = None, *, cache: Path | None = None) -> Knowledge:
    """Load `root`, raising `KnowledgeError` with every error if any."""
    result = check_knowledge(root, cache=cache)
    if result.knowledge is None:
        raise KnowledgeError(list(result.problems))
    return result.knowledge


_Safety = tuple[dict[str, Hotline], tuple[SafetyRule, ...], dict[str, DangerKind], tuple[str, ...],
                tuple[tuple[str, ...], tuple[str, ...]]]


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def _opt(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _not_offered(item: dict[str, Any]) -> NotOffered:
    """A council's `not_offered` topic or another office's, as validated YAML gives it."""
    return NotOffered(item["topic"], _texts(item["terms"]), _opt(item.get("message")), _texts(item.get("examples")))


def _prose(text: str) -> str:
    """Folded YAML puts a space where a line broke; Japanese needs none after 。"""
    return _AFTER_PUNCT.sub("", " ".join(text.split()))


def _contact(data: dict[str, Any], *, name: str) -> Contact:
    return Contact(
        name=name,
        phone=_opt(data.get("phone")),
        hours=_opt(data.get("hours")),
        address=_opt(data.get("address")),
        url=_opt(data.get("url")),
        note=_opt(data.get("note")),
    )


class _Loader:
    def __init__(self, root: Path, *, cache: Path | None = None) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.store = None if cache is None else ParsedStore(cache, root)

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read(self, path: Path, shape: dict[str, Any]) -> YamlDoc | None:
        doc, problems = read_yaml(path, display=self.rel(path), store=self.store)
        self.problems += problems
        if doc is None:
            return None
        if doc.data is None:
            self.problems.append(Problem(doc.file, 1, "", "file is empty"))
            return None
        found = validated(doc, shape, store=self.store)
        self.problems += found
        return None if found else doc

    def error(self, doc: YamlDoc, path: tuple, message: str, *, severity: str = "error") -> None:
        field = ".".join(str(p) for p in path)
        self.problems.append(Problem(doc.file, doc.line(path), field, message, severity))  # type: ignore[arg-type]

    def contact_fields(self, doc: YamlDoc, path: tuple, data: dict[str, Any]) -> None:
        """A phone number residents can dial and an https address that is safe to link."""
        for field, check in (("phone", phone_problem), ("url", url_problem)):
            value = _opt(data.get(field))
            message = check(value) if value else None
            if message:
                self.error(doc, (*path, field), message)

    # -- shared files -------------------------------------------------------
    def categories(self) -> dict[str, Category]:
        doc = self.read(self.root / COMMON / "categories.yaml", schema.CATEGORIES)
        if doc is None:
            return {}
        out: dict[str, Category] = {}
        for i, c in enumerate(doc.data["categories"]):
            if c["id"] in out:
                self.error(doc, ("categories", i, "id"), f"duplicate category id {c['id']!r}")
            out[c["id"]] = Category(c["id"], c["label"], _texts(c.get("terms")), c.get("audience", "resident"))
        return out

    def synonyms(self) -> tuple[tuple[SynonymGroup, ...], frozenset[str], tuple[str, ...]]:
        """Synonym groups, words to ignore, and words that set a name aside."""
        path = self.root / COMMON / "synonyms.yaml"
        doc = self.read(path, schema.SYNONYMS) if path.exists() else None
        if doc is None:
            return (), frozenset(), ()
        groups = tuple(SynonymGroup(g[0], _texts(g)) for g in doc.data["groups"])
        return groups, frozenset(_texts(doc.data.get("ignore"))), _texts(doc.data.get("excluding"))

    def other_offices(self) -> tuple[NotOffered, ...]:
        path = self.root / COMMON / "other_offices.yaml"
        doc = self.read(path, schema.OTHER_OFFICES) if path.exists() else None
        if doc is None:
            return ()
        return tuple(_not_offered(t) for t in doc.data["topics"])

    def out_of_scope(self) -> tuple[str, ...]:
        """Questions no council here handles, for the reranker's "none of these"."""
        path = self.root / COMMON / "out_of_scope.yaml"
        doc = self.read(path, schema.OUT_OF_SCOPE) if path.exists() else None
        if doc is None:
            return ()
        return tuple(dict.fromkeys(q["text"].strip() for q in doc.data["questions"] if q["text"].strip()))

    def safety(self) -> _Safety:
        """Hotlines, term rules, kinds of danger, calm words and what asks, from `safety.yaml`."""
        doc = self.read(self.root / COMMON / "safety.yaml", schema.SAFETY)
        if doc is None:
            return {}, (), {}, (), ((), ())
        hotlines = {
            h["id"]: Hotline(h["name"], str(h["number"]), _opt(h.get("hours")), _opt(h.get("note")), h["source"])
            for h in doc.data["hotlines"]
        }

        def known(refs: list[str], path: tuple) -> None:
            for j, ref in enumerate(refs):
                if ref not in hotlines:
                    self.error(doc, (*path, j), f"unknown hotline {ref!r}")

        kinds: dict[str, DangerKind] = {}
        for i, k in enumerate(doc.data.get("kinds") or ()):
            known(k["hotlines"], ("kinds", i, "hotlines"))
            kinds[k["id"]] = DangerKind(k["id"], k["message"].strip(), k["note"].strip(), _texts(k["hotlines"]),
                                        _opt(k.get("search")))
        rules = []
        for i, r in enumerate(doc.data["rules"]):
            known(r.get("hotlines") or (), ("rules", i, "hotlines"))
            kind = r.get("kind") or r["id"]
            if kinds and kind not in kinds:
                self.error(doc, ("rules", i, "kind"), f"unknown kind {kind!r} (see kinds:)")
            # A rule says what its kind says unless it has words or lines of its own.
            own = kinds.get(kind)
            message = (r.get("message") or (own.message if own else "")).strip()
            lines = _texts(r.get("hotlines")) or (own.hotlines if own else ())
            if not message or not lines:
                self.error(doc, ("rules", i), "no message or hotlines: give the rule its own, or a kind (kinds:)")
            rules.append(SafetyRule(r["id"], _texts(r["terms"]), lines, message,
                                    _texts(r.get("context")), _texts(r.get("unless")), kind))
        asking = doc.data.get("asking") or {}
        return (hotlines, tuple(rules), kinds, _texts(doc.data.get("calm")),
                (_texts(asking.get("ends")), _texts(asking.get("words"))))

    def crisis(self, kinds: dict[str, DangerKind]) -> tuple[CrisisExample, ...]:
        """The danger corpus: every file in `_common/crisis/`, each with danger, concern and look-alikes."""
        out: list[CrisisExample] = []
        for path in sorted((self.root / COMMON / "crisis").glob("*.yaml")):
            doc = self.read(path, schema.CRISIS)
            if doc is None:
                continue
            for level, section in (("danger", "danger"), ("concern", "concern"), ("calm", "lookalike")):
                for i, item in enumerate(doc.data.get(section) or ()):
                    kind = item.get("kind") or ""
                    if level == "danger" and kind not in kinds:
                        self.error(doc, (section, i, "kind"), f"unknown kind {kind!r} (see safety.yaml kinds:)")
                    out.append(CrisisExample(item["text"].strip(), level, kind, item.get("topic") or ""))
        return tuple(out)

    # -- councils -----------------------------------------------------------
    def council(self, folder: Path) -> Council | None:
        doc = self.read(folder / "council.yaml", schema.COUNCIL)
        if doc is None:
            return None
        d = doc.data
        if d["id"] != folder.name:
            self.error(doc, ("id",), f"council id {d['id']!r} must equal its folder name {folder.name!r}")
        departments: dict[str, Department] = {}
        for i, dep in enumerate(d["departments"]):
            if dep["id"] in departments:
                self.error(doc, ("departments", i, "id"), f"duplicate department id {dep['id']!r}")
            operator = dep.get("operator", "council")
            name = dep["name"]
            known = (d["name"], d.get("short_name") or "", *(d.get("aliases") or ()))
            if operator == "council" and not any(k and k in name for k in known):
                name = f"{d.get('short_name') or d['name']} {name}"  # 地域福祉課 → 苫小牧市社協 地域福祉課
            departments[dep["id"]] = Department(dep["id"], _contact(dep, name=name), operator)
            self.contact_fields(doc, ("departments", i), dep)
        window_data = d["window"]
        window = _contact(window_data, name=window_data["name"])
        self.contact_fields(doc, ("window",), window_data)
        if window_data.get("department") and window_data["department"] not in departments:
            self.error(doc, ("window", "department"), f"unknown department {window_data['department']!r}")
        not_offered = tuple(_not_offered(n) for n in d.get("not_offered") or ())
        return Council(
            id=d["id"],
            name=d["name"],
            short_name=_opt(d.get("short_name")) or d["name"],
            prefecture=d["prefecture"],
            aliases=_texts(d.get("aliases")),
            window=window,
            departments=departments,
            not_offered=not_offered,
            path=doc.file,
        )

    def service(self, path: Path, council: Council, categories: dict[str, Category]) -> Service | None:
        doc = self.read(path, schema.SERVICE)
        if doc is None:
            return None
        d = doc.data
        council_part, _, slug = d["id"].partition("/")
        if council_part != council.id:
            self.error(doc, ("id",), f"id must start with '{council.id}/' (this file is in {council.id}/)")
        if slug != path.stem:
            self.error(doc, ("id",), f"id slug {slug!r} must equal the file name {path.stem!r}")
        if d["category"] not in categories:
            self.error(doc, ("category",), f"unknown category {d['category']!r}")
        c = d["contact"]
        dep = council.departments.get(c["department"])
        if dep is None:
            self.error(doc, ("contact", "department"), f"unknown department {c['department']!r} of {council.id}")
            return None
        self.contact_fields(doc, ("contact",), c)
        base = dep.contact
        contact = Contact(
            name=_opt(c.get("name")) or base.name,
            phone=_opt(c.get("phone")) or base.phone,
            hours=_opt(c.get("hours")) or base.hours,
            address=_opt(c.get("address")) or base.address,
            url=_opt(c.get("url")) or base.url,
            note=_opt(c.get("note")) or base.note,
        )
        audience = d["audience"]
        status = d.get("status", "active")
        if audience == "resident" and status != "draft":  # missing phone/hours: one line per window, later
            for field in ("aliases", "examples"):
                if len(d.get(field) or ()) < MIN_WORDS:
                    self.error(doc, (field,), f"fewer than {MIN_WORDS} {field}: residents will miss this service",
                               severity="warning")
        staff = d.get("staff") or {}
        return Service(
            id=d["id"],
            council_id=council.id,
            title=d["title"].strip(),
            aliases=_texts(d.get("aliases")),
            category=d["category"],
            audience=audience,
            summary=_prose(d["summary"]),
            contact=contact,
            department_id=c["department"],
            status=status,
            status_note=_opt(d.get("status_note")),
            who=_opt(d.get("who")),
            how_to_apply=_opt(d.get("how_to_apply")),
            fee=_opt(d.get("fee")),
            schedule=_opt(d.get("schedule")),
            examples=_texts(d.get("examples")),
            related=_texts(d.get("related")),
            notes=_opt(staff.get("notes")),
            figures=_opt(staff.get("figures")),
            provider=_opt(staff.get("provider")),
            source=_opt(staff.get("source")),
            updated=_opt(staff.get("updated")),
            path=doc.file,
        )

    def load(self) -> Knowledge | None:
        if not self.root.is_dir():
            self.problems.append(Problem(str(self.root), 1, "", "knowledge folder not found"))
            return None
        categories = self.categories()
        synonyms, ignore, excluding = self.synonyms()
        hotlines, rules, kinds, calm, asking = self.safety()
        crisis = self.crisis(kinds)
        councils: dict[str, Council] = {}
        services: dict[str, Service] = {}
        drafts: dict[str, Service] = {}
        where: dict[str, str] = {}
        broken: set[str] = set()
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            council = self.council(folder)
            if council is None:
                continue
            councils[council.id] = council
            for path in sorted((folder / "services").glob("*.yaml")):
                service = self.service(path, council, categories)
                if service is None:
                    broken.add(f"{council.id}/{path.stem}")  # reported already; no cascade below
                    continue
                if service.id in where:
                    self.problems.append(
                        Problem(service.path, 1, "id", f"duplicate id {service.id!r} (also in {where[service.id]})")
                    )
                    continue
                (drafts if service.status == "draft" else services)[service.id] = service  # drafts: staff only
                where[service.id] = service.path
        self.problems += related_problems(self.root.parent, services, broken=broken)
        self.problems += window_problems(self.root.parent, councils, services)
        other_offices = self.other_offices()
        out_of_scope = self.out_of_scope()
        self.problems += gap_problems(self.root.parent, councils, services)
        if not councils:
            self.problems.append(Problem(str(self.root), 1, "", "no council folder found"))
        if any(p.severity == "error" for p in self.problems):
            return None
        return Knowledge(
            councils=councils,
            services=services,
            categories=categories,
            synonyms=synonyms,
            ignore_words=ignore,
            excluding=excluding,
            hotlines=hotlines,
            safety=rules,
            danger_kinds=kinds,
            calm_words=calm,
            asking=asking,
            crisis=crisis,
            other_offices=other_offices,
            out_of_scope=out_of_scope,
            drafts=drafts,
            root=str(self.root),
        )


def check_knowledge(root: Path | str | None = None, *, cache: Path | None = None) -> LoadResult:
    """Load `root` (default: the bundled knowledge) and report every problem. `cache` is a
    folder where parsed files are kept between runs (`yamlfile.ParsedStore`)."""
    loader = _Loader(Path(root) if root else default_root(), cache=cache)
    knowledge = loader.load()
    if loader.store is not None:
        loader.store.save()
    return LoadResult(knowledge, tuple(sorted(set(loader.problems))))
