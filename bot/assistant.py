"""The core's front door: a loaded knowledge base that answers questions.

Built once per knowledge load (indexes included) and then only read, so one
instance can serve many threads; a reload builds a new one and swaps it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.answer import Answer, Option, label
from bot.decision.decide import decide, service_answer
from bot.retrieval.index import Index
from bot.language.analysis import Analysis, Language
from bot.retrieval.matcher import named_exactly, rank
from bot.messages import M
from bot.knowledge.model import Audience, Council, Knowledge, Service
from bot.safety.terms import SafetyCheck
from bot.settings import MatchSettings

__all__ = ["Assistant", "UnknownCouncil", "MAX_QUESTION_CHARS"]

MAX_QUESTION_CHARS = 1_000  # a question never needs more; longer text is cut


class UnknownCouncil(KeyError):
    """The council id is not in the knowledge."""


@dataclass(slots=True)
class Assistant:
    knowledge: Knowledge
    settings: MatchSettings = field(default_factory=MatchSettings)
    language: Language = field(init=False)
    indexes: dict[str, Index] = field(init=False)
    everywhere: Index = field(init=False)
    _safety: SafetyCheck = field(init=False)

    def __post_init__(self) -> None:
        k = self.knowledge
        self.language = Language(synonyms=k.synonyms, ignore=k.ignore_words)
        self.indexes = {
            cid: Index(
                k.services_of(cid) + [Service.gap(c, i, n) for i, n in enumerate(c.not_offered + k.other_offices)],
                language=self.language,
                categories=k.categories,
                settings=self.settings,
            )
            for cid, c in k.councils.items()
        }
        residents = [s for s in k.services.values() if s.audience == "resident" and s.status == "active"]
        self.everywhere = Index(residents, language=self.language, settings=self.settings)
        self._safety = SafetyCheck(k, self.language)

    # -- lookups --------------------------------------------------------------
    def council(self, council_id: str) -> Council:
        try:
            return self.knowledge.councils[council_id]
        except KeyError:
            known = ", ".join(sorted(self.knowledge.councils))
            raise UnknownCouncil(f"unknown council {council_id!r} (known: {known})") from None

    def analyze(self, text: str) -> Analysis:
        return self.language.analyze(text[:MAX_QUESTION_CHARS])

    def _offered_elsewhere(self, council: Council, q: Analysis) -> bool:
        """Another council has a service whose name is plainly in the question."""
        docs = self.everywhere.docs
        return any(docs[d].council_id != council.id for d in named_exactly(self.everywhere, q))

    # -- answers --------------------------------------------------------------
    def ask(self, council_id: str, text: str, *, audience: Audience = "resident") -> Answer:
        """Answer one message from a resident (or, with audience="staff", from staff)."""
        council = self.council(council_id)
        q = self.analyze(text)
        alert = self._safety.check(q)
        if not q.units and alert is None:
            return Answer("fallback", council.id, council.name, text,
                          M.empty.format(council=council.short_name), council.window, "empty")
        ranked = rank(self.indexes[council_id], q, audience=audience)
        top = max((m.score for m in ranked), default=0.0)
        return decide(
            knowledge=self.knowledge,
            council=council,
            query=text,
            ranked=ranked,
            settings=self.settings,
            alert=alert,
            elsewhere=top < self.settings.choice and self._offered_elsewhere(council, q),
            audience=audience,
        )

    def pick(self, council_id: str, service_id: str, *, audience: Audience = "resident") -> Answer:
        """The answer for a service the resident chose from a list."""
        council = self.council(council_id)
        service = self.knowledge.services.get(service_id)
        if service is None or service.council_id != council.id or (
            audience == "resident" and service.audience != "resident"
        ):
            return Answer("fallback", council.id, council.name, service_id,
                          M.picked_unknown + M.ask_window.format(council=council.short_name),
                          council.window, "no_match")
        return service_answer(self.knowledge, council, service, query=service.title, reason="picked",
                              audience=audience)

    def menu(self, council_id: str, *, category: str | None = None, audience: Audience = "resident") -> Answer:
        """Categories of this council, or the services of one category, as choices."""
        council = self.council(council_id)
        services = [
            s for s in self.knowledge.services_of(council.id)
            if (audience == "staff" or s.audience == "resident") and s.status != "ended"
        ]
        if category is None:
            used = {s.category for s in services}
            opts = tuple(
                Option(f"category:{c.id}", c.label, label(c.label))
                for c in self.knowledge.categories.values()
                if c.id in used and (audience == "staff" or c.audience == "resident")
            )
            return Answer("choices", council.id, council.name, "", M.menu, council.window, "menu", choices=opts)
        cat = self.knowledge.categories.get(category)
        members = tuple(Option(s.id, s.title, label(s.title)) for s in services if s.category == category)
        if cat is None or not members:
            return self.menu(council_id, audience=audience)
        return Answer("choices", council.id, council.name, "", M.category_menu.format(category=cat.label),
                      council.window, "menu", choices=members)
