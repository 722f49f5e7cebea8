"""Each rule of the decision, on hand-made rankings (no matching involved)."""

from __future__ import annotations

import pytest

from bot.assistant import Assistant
from bot.decision.decide import decide
from bot.retrieval.matcher import Match
from bot.knowledge.model import Service
from bot.settings import MatchSettings

S = MatchSettings()


def _decide(assistant: Assistant, *matches: tuple[str, float, float, float, bool], elsewhere: bool = False) -> str:
    k = assistant.knowledge
    ranked = [Match(k.services[f"minato/{sid}"], score, phrase, cover, named)
              for sid, score, phrase, cover, named in matches]
    a = decide(knowledge=k, council=k.councils["minato"], query="q", ranked=ranked, settings=S, elsewhere=elsewhere)
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
    ranked = [Match(gap, 1.0, 1.0, 1.0, True), Match(k.services["minato/kyushoku"], 0.5, 0.0, 0.5, False)]
    a = decide(knowledge=k, council=council, query="q", ranked=ranked, settings=S)
    assert (a.kind, a.reason) == ("fallback", "not_offered")
    assert council.not_offered[0].topic in a.message or (council.not_offered[0].message or "") in a.message
