"""Each rule of the decision, on hand-made rankings (no matching involved)."""

from __future__ import annotations

import pytest

from bot.retrieval.fusion import Ranking, lexical_only
from bot.assistant import Assistant
from bot.decision.decide import decide
from bot.retrieval.matcher import Match
from bot.knowledge.model import Service
from bot.settings import MatchSettings

S = MatchSettings()


def _decide(assistant: Assistant, *matches: tuple[str, float, float, float, bool], elsewhere: bool = False) -> str:
    k = assistant.knowledge
    ranked = [Match(k.services[f"minato/{sid}"], score, phrase, cover, named, doc=i, lexical=score)
              for i, (sid, score, phrase, cover, named) in enumerate(matches)]
    a = decide(knowledge=k, council=k.councils["minato"], query="q", ranking=lexical_only(ranked), settings=S, elsewhere=elsewhere)
    return a.kind if a.kind != "fallback" else f"fallback:{a.reason}"


@pytest.mark.parametrize(
    ("matches", "kind"),
    [
        # a high score with a clear lead
        ((("kyushoku", 0.9, 0.0, 0.9, False), ("salon", 0.6, 0.0, 0.6, False)), "answer"),
        # a high score, but a close runner-up
        ((("kyushoku", 0.9, 0.0, 0.9, False), ("salon", 0.8, 0.0, 0.8, False)), "choices"),
        # tied at the top, but only one was named, and it explains as much as the other
        ((("kyushoku", 1.0, 0.7, 1.0, True), ("salon", 1.0, 0.0, 1.0, False)), "answer"),
        # named, but another explains more of the message
        ((("kyushoku", 0.9, 0.7, 0.6, True), ("salon", 0.9, 0.0, 0.9, False)), "choices"),
        # both named: the name decides nothing
        ((("kyushoku", 1.0, 0.7, 1.0, True), ("salon", 1.0, 0.7, 1.0, True)), "choices"),
        # below `answer`, yet plainly ahead of everything else
        ((("kyushoku", 0.55, 0.0, 0.55, False), ("salon", 0.2, 0.0, 0.2, False)), "answer"),
        # below `answer` and not far enough ahead
        ((("kyushoku", 0.55, 0.0, 0.55, False), ("salon", 0.4, 0.0, 0.4, False)), "choices"),
        # nothing reaches `choice`
        ((("kyushoku", 0.3, 0.0, 0.3, False),), "fallback:no_match"),
        ((), "fallback:no_match"),
    ],
)
def test_rules(fixture_assistant: Assistant, matches: tuple, kind: str) -> None:
    assert _decide(fixture_assistant, *matches) == kind


def test_a_service_only_another_council_offers_is_not_offered_here(fixture_assistant: Assistant) -> None:
    assert _decide(fixture_assistant, ("kyushoku", 0.3, 0.0, 0.3, False), elsewhere=True) == "fallback:not_offered"


def test_a_not_offered_topic_on_top_is_said_plainly(fixture_assistant: Assistant) -> None:
    k = fixture_assistant.knowledge
    council = k.councils["minato"]
    gap = Service.gap(council, 0, council.not_offered[0])
    ranked = [Match(gap, 1.0, 1.0, 1.0, True, doc=0, lexical=1.0),
              Match(k.services["minato/kyushoku"], 0.5, 0.0, 0.5, False, doc=1, lexical=0.5)]
    a = decide(knowledge=k, council=council, query="q", ranking=lexical_only(ranked), settings=S)
    assert (a.kind, a.reason) == ("fallback", "not_offered")
    assert council.not_offered[0].topic in a.message or (council.not_offered[0].message or "") in a.message


def _fused(assistant: Assistant, rows: list[tuple[str, float, float, float]], *, lexical_top: int, dense_top: int):
    """rows: (service, fused score, lexical score, cosine)."""
    k = assistant.knowledge
    matches = tuple(Match(k.services[f"minato/{sid}"], score, 0.0, lex, False, doc=i, lexical=lex, dense=cos)
                    for i, (sid, score, lex, cos) in enumerate(rows))
    ranking = Ranking(matches, lexical_top=lexical_top, dense_top=dense_top, dense=True)
    return decide(knowledge=k, council=k.councils["minato"], query="q", ranking=ranking, settings=S)


def test_agreement_answers_below_the_lexical_thresholds(fixture_assistant: Assistant) -> None:
    rows = [("kyushoku", 0.52, 0.45, 0.9), ("salon", 0.4, 0.4, 0.85)]
    assert _fused(fixture_assistant, rows, lexical_top=0, dense_top=0).kind == "answer"


def test_disagreement_offers_choices(fixture_assistant: Assistant) -> None:
    rows = [("kyushoku", 0.52, 0.45, 0.85), ("salon", 0.4, 0.4, 0.9)]
    assert _fused(fixture_assistant, rows, lexical_top=0, dense_top=1).kind == "choices"


def test_a_lexical_winner_far_from_the_meaning_is_not_answered(fixture_assistant: Assistant) -> None:
    # lexically clear (0.9 against 0.5), but the runner-up is much closer in meaning
    rows = [("kyushoku", 0.7, 0.9, 0.80), ("salon", 0.6, 0.5, 0.92)]
    assert _fused(fixture_assistant, rows, lexical_top=0, dense_top=1).kind == "choices"
    rows = [("kyushoku", 0.7, 0.9, 0.90), ("salon", 0.6, 0.5, 0.92)]
    assert _fused(fixture_assistant, rows, lexical_top=0, dense_top=1).kind == "answer"


def test_weak_candidates_are_offered_as_maybe(fixture_assistant: Assistant) -> None:
    rows = [("kyushoku", 0.3, 0.2, 0.84), ("salon", 0.26, 0.2, 0.83), ("rijikai", 0.1, 0.1, 0.8)]
    a = _fused(fixture_assistant, rows, lexical_top=0, dense_top=0)
    assert (a.kind, a.reason) == ("fallback", "no_match")
    assert [o.id for o in a.choices] == ["minato/kyushoku", "minato/salon"]


@pytest.mark.parametrize(("top_named", "gap_phrase", "kind"), [
    (True, 0.8, "fallback:not_offered"),  # 町会費 typed: the longer name (not offered) wins over 会費
    (True, 0.4, "answer"),  # the service's own name is the fuller match
    (False, 0.8, "answer"),  # the topic only mentioned in passing, the service not named at all
])
def test_a_not_offered_topic_named_more_fully_than_the_top_service_wins(
        fixture_assistant: Assistant, top_named: bool, gap_phrase: float, kind: str) -> None:
    k = fixture_assistant.knowledge
    council = k.councils["minato"]
    gap = Service.gap(council, 0, council.not_offered[0])
    ranked = [Match(k.services["minato/kyushoku"], 0.9, 0.5, 0.9, top_named, doc=0, lexical=0.9),
              Match(gap, 0.5, gap_phrase, 0.5, True, doc=1, lexical=0.5)]
    a = decide(knowledge=k, council=council, query="q", ranking=lexical_only(ranked), settings=S)
    assert (a.kind if a.kind != "fallback" else f"fallback:{a.reason}") == kind


def _reranked(assistant: Assistant, rows: list[tuple[str, float, float]], p_none: float | None = None):
    """rows: (service, fused score, the reranker's probability); the lexical rules alone find none clear."""
    k = assistant.knowledge
    matches = tuple(Match(k.services[f"minato/{sid}"], score, 0.0, score, False, doc=i, lexical=score, dense=0.9, p=p)
                    for i, (sid, score, p) in enumerate(rows))
    ranking = Ranking(matches, lexical_top=0, dense_top=0, dense=True, p_none=p_none)
    return decide(knowledge=k, council=k.councils["minato"], query="q", ranking=ranking, settings=S)


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        ([("kyushoku", 0.6, S.rerank_answer), ("salon", 0.5, 0.2)], "answer"),
        # both retrievers agree with a lead the agreement rule would answer, but the model is not sure
        ([("kyushoku", 0.6, S.rerank_answer - 0.01), ("salon", 0.5, 0.2)], "choices"),
        # the model is not sure, but the lexical rules find it clear (a high score, a wide lead)
        ([("kyushoku", 0.95, S.rerank_answer - 0.01), ("salon", 0.3, 0.2)], "answer"),
        # the model is sure, but nothing reaches `choice`: not an answer
        ([("kyushoku", S.choice - 0.01, 0.99), ("salon", 0.1, 0.01)], "fallback"),
    ],
)
def test_with_the_reranker_its_probability_decides(fixture_assistant: Assistant, rows: list, kind: str) -> None:
    assert _reranked(fixture_assistant, rows).kind == kind


def test_when_none_of_the_candidates_fits_the_bot_says_so_and_offers_them_as_maybe(
        fixture_assistant: Assistant) -> None:
    rows = [("kyushoku", 0.6, 0.3), ("salon", 0.5, 0.1)]
    assert _reranked(fixture_assistant, rows, p_none=S.rerank_decline - 0.01).kind == "choices"
    a = _reranked(fixture_assistant, rows, p_none=S.rerank_decline)
    assert (a.kind, a.reason) == ("fallback", "no_match")
    assert [o.id for o in a.choices] == ["minato/kyushoku", "minato/salon"]


def test_a_clear_lexical_winner_is_answered_whatever_none_says(fixture_assistant: Assistant) -> None:
    assert _reranked(fixture_assistant, [("kyushoku", 0.95, 0.5), ("salon", 0.3, 0.0)], p_none=0.5).kind == "answer"


@pytest.mark.parametrize(("gap_lexical", "own_named", "top_p", "kind"), [
    (0.8, False, 0.5, "fallback:not_offered"),  # unsure of its own; another office's business typed, and it explains more
    (0.6, False, 0.5, "choices"),  # typed, but the council's candidate explains more of the message
    (0.8, True, 0.5, "answer"),  # one of the council's own services is named as fully: it is answered
    (0.8, False, S.rerank_answer, "answer"),  # the council's own service is sure: the name was in passing
])
def test_another_office_named_when_the_council_is_unsure_of_its_own(
        fixture_assistant: Assistant, gap_lexical: float, own_named: bool, top_p: float, kind: str) -> None:
    """65歳未満の介護保険料は: the age brings up a scheme for over-65s, the typed 介護保険料 is the city's."""
    k = fixture_assistant.knowledge
    council = k.councils["minato"]
    gap = Service.gap(council, 0, council.not_offered[0])
    own_phrase = 0.7 if own_named else 0.0  # named as fully as the other office's topic
    matches = (Match(k.services["minato/kyushoku"], 0.7, own_phrase, 0.7, own_named, doc=0, lexical=0.65, dense=0.9,
                     p=top_p),
               Match(gap, 0.6, 0.6, 0.6, True, doc=1, lexical=gap_lexical, dense=0.85),
               Match(k.services["minato/salon"], 0.5, 0.0, 0.5, False, doc=2, lexical=0.5, dense=0.85, p=0.1))
    ranking = Ranking(matches, lexical_top=1, dense_top=0, dense=True)
    a = decide(knowledge=k, council=council, query="q", ranking=ranking, settings=S)
    assert (a.kind if a.kind != "fallback" else f"fallback:{a.reason}") == kind
