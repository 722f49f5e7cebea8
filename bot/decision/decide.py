"""Decide what to say from a ranking: answer, choices, fallback or emergency.

Pure functions over already-computed facts, so every rule is visible in one
place and every threshold comes from `MatchSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.answer import Answer, Danger, Option, ServiceCard, StaffDetail, label
from bot.retrieval.fusion import Ranking
from bot.retrieval.matcher import Match
from bot.messages import M
from bot.knowledge.model import Council, Knowledge, Service
from bot.safety.check import Verdict
from bot.settings import MatchSettings

__all__ = ["decide", "service_answer", "options", "card", "agreed"]


def options(matches: Sequence[Match], *, limit: int) -> tuple[Option, ...]:
    return tuple(Option(m.service.id, m.service.title, label(m.service.title), m.score) for m in matches[:limit])


def card(service: Service) -> ServiceCard:
    return ServiceCard(
        id=service.id,
        title=service.title,
        summary=service.summary,
        window=service.contact,
        category=service.category,
        status=service.status,
        status_note=service.status_note,
        who=service.who,
        how_to_apply=service.how_to_apply,
        fee=service.fee,
        schedule=service.schedule,
    )


def _staff(service: Service, score: float) -> StaffDetail:
    return StaffDetail(
        id=service.id,
        score=score,
        audience=service.audience,
        department=service.contact.name,
        file=service.path,
        updated=service.updated,
        notes=service.notes,
        figures=service.figures,
        provider=service.provider,
        source=service.source,
    )


def service_answer(
    knowledge: Knowledge,
    council: Council,
    service: Service,
    *,
    query: str,
    score: float = 1.0,
    reason: str = "matched",
    results: tuple[Option, ...] = (),
    audience: str = "resident",
) -> Answer:
    """The `answer` for one service, with its related services as next steps."""
    related = []
    for rid in service.related:
        r = knowledge.services.get(rid)
        if r is not None and r.council_id == council.id and (audience == "staff" or r.audience == "resident"):
            related.append(Option(r.id, r.title, label(r.title)))
    return Answer(
        kind="answer",
        council_id=council.id,
        council_name=council.name,
        query=query,
        message=service.title,
        window=council.window,
        reason=reason,
        service=card(service),
        related=tuple(related),
        results=results or (Option(service.id, service.title, label(service.title), score),),
        staff=_staff(service, score),
    )


def _fallback(
    council: Council, query: str, message: str, *, reason: str, results: tuple[Option, ...] = (), ask: bool = True,
    maybe: tuple[Option, ...] = (),
) -> Answer:
    text = message + (M.ask_window.format(council=council.short_name) if ask else "")
    if maybe:
        text += M.maybe
    return Answer("fallback", council.id, council.name, query, text, council.window, reason, results=results,
                  choices=maybe)


def _not_offered(council: Council, gap: Service, *, query: str, results: tuple[Option, ...]) -> Answer:
    """Not offered here: the council's own words about it (which office), else the window."""
    if gap.summary:
        return _fallback(council, query, gap.summary, reason="not_offered", results=results, ask=False)
    message = M.not_offered.format(topic=gap.title, council=council.short_name)
    return _fallback(council, query, message, reason="not_offered", results=results)


def _clear_winner(ranking: Ranking, top: Match, others: Sequence[Match], settings: MatchSettings) -> bool:
    """The lexical rules, on lexical scores: a high score with a clear lead, a typed
    name no other shares, or a plain lead in a message full of words no entry speaks
    of. With a dense ranking, its top must not be clearly closer in meaning."""
    if ranking.dense and top.dense is not None:
        closest = max((m.dense for m in (top, *others) if m.dense is not None), default=top.dense)
        if closest - top.dense > settings.dense_veto:
            return False
    rivals = [m.lexical for m in others]
    best = max([top.lexical, *rivals])
    name_evidence = top.phrase >= settings.named and all(m.phrase < settings.named for m in others)
    lead = top.lexical - max(rivals, default=0.0)
    # Its name is in the message as typed, no other candidate's is, and no other explains
    # more of the message: no lead needed (other entries may merely mention that name).
    only_named = (top.named and not any(m.named for m in others) and top.lexical >= best
                  and top.coverage >= max((m.coverage for m in others), default=0.0))
    clear = top.lexical >= settings.clear and lead >= settings.clear_margin
    return clear or (top.lexical >= settings.answer
                     and (only_named or lead >= (settings.named_margin if name_evidence else settings.margin)))


def _named_gap(ranked: Sequence[Match], top: Match) -> Service | None:
    """A topic not offered here whose name is typed more fully than the top service's
    (町会費 holds 会費): the longer name is what the resident means."""
    if not top.named:  # a topic named only in passing (介護認定を受けるほどではない) sets nothing aside
        return None
    for m in ranked:
        if not m.service.offered and m.named and m.phrase > top.phrase:
            return m.service
    return None


def _named_elsewhere(matches: Sequence[Match], top: Match) -> Service | None:
    """A topic not offered here (another office's business) whose name is typed in the
    message, when none of the council's own candidates is named and it explains more of
    the message than their first: 介護保険料 with 65歳 in it is the city's, not a points
    scheme for people over 65 that only the age brought up."""
    if any(m.named for m in matches if m.service.offered):
        return None
    for m in matches:
        if not m.service.offered and m.named and m.lexical > top.lexical:
            return m.service
    return None


def agreed(ranking: Ranking, top: Match, others: Sequence[Match], settings: MatchSettings) -> bool:
    """Both retrievers put this service first, and it leads the fused ranking clearly;
    with the reranker, its probability says so instead (it weighs both sides' evidence,
    where the agreement rule only compared their first places)."""
    if top.p is not None:
        return top.p >= settings.rerank_answer
    lead = top.score - max((m.score for m in others), default=0.0)
    return ranking.agree and top.score >= settings.agree_answer and lead >= settings.agree_margin


def decide(
    *,
    knowledge: Knowledge,
    council: Council,
    query: str,
    ranking: Ranking,
    settings: MatchSettings,
    verdict: Verdict | None = None,
    helpers: tuple[Option, ...] = (),
    elsewhere: bool = False,
    audience: str = "resident",
) -> Answer:
    """The answer; a `concern` verdict adds its kind line to whatever is answered."""
    answer = _decide(knowledge=knowledge, council=council, query=query, ranking=ranking, settings=settings,
                     verdict=verdict, helpers=helpers, elsewhere=elsewhere, audience=audience)
    if verdict is not None and verdict.level == "concern":
        return replace(answer, hotlines=verdict.hotlines, danger=Danger("concern", verdict.kinds, verdict.note))
    return answer


def _decide(
    *,
    knowledge: Knowledge,
    council: Council,
    query: str,
    ranking: Ranking,
    settings: MatchSettings,
    verdict: Verdict | None,
    helpers: tuple[Option, ...],
    elsewhere: bool,
    audience: str,
) -> Answer:
    ranked = list(ranking.matches)
    gap = ranked[0].service if ranked and not ranked[0].service.offered else None
    offered = [m for m in ranked if m.service.offered]
    if gap is None and offered:
        gap = _named_gap(ranked, offered[0])
    ranked = offered
    results = options(ranked, limit=settings.results)
    if verdict is not None and verdict.level == "emergency":
        text = verdict.message + M.emergency_window.format(council=council.short_name)
        return Answer(
            "emergency", council.id, council.name, query, text, council.window, "crisis",
            hotlines=verdict.hotlines, results=results, related=helpers,
            danger=Danger("emergency", verdict.kinds),
        )
    top = ranked[0] if ranked else None
    if gap is not None and (top is None or top.score < settings.answer or top.phrase < 1.0):
        return _not_offered(council, gap, query=query, results=results)
    best = max((m.score for m in ranked), default=0.0)  # the order may put a lower score first
    weak = best < settings.choice
    if (top is None or weak) and elsewhere:
        return _fallback(council, query, M.not_offered_generic.format(council=council.short_name),
                         reason="not_offered", results=results)
    others = ranked[1:]
    clear = top is not None and not weak and _clear_winner(ranking, top, others, settings)
    none_fits = ranking.p_none is not None and ranking.p_none >= settings.rerank_decline  # the reranker's "none"
    if top is None or weak or (none_fits and not clear):
        # Never empty-handed: near candidates are offered as "もしかして".
        maybe = options([m for m in ranked if m.score >= settings.maybe], limit=settings.max_choices - 1)
        return _fallback(council, query, M.no_match, reason="no_match", results=results, maybe=maybe)
    if clear or agreed(ranking, top, others, settings):
        return service_answer(knowledge, council, top.service, query=query, score=top.score,
                              results=results, audience=audience)
    elsewhere_named = _named_elsewhere(ranking.matches, top)
    if elsewhere_named is not None:  # unsure of its own services, and another office's business is named
        return _not_offered(council, elsewhere_named, query=query, results=results)
    floor = max(settings.choice, best - settings.choice_window)
    close = [m for m in ranked if m.score >= floor][: settings.max_choices]
    if len(close) < 2:  # offer the runner-up too (or the single candidate there is)
        close = list(ranked[:2])
    return Answer(
        "choices", council.id, council.name, query, M.choices, council.window, "ambiguous",
        choices=options(close, limit=settings.max_choices), results=results,
    )
