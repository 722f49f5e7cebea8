"""The names-only index: what a full index holds of its services' names, and no more."""

from __future__ import annotations

from bot.assistant import Assistant
from bot.retrieval.index import Index
from bot.retrieval.matcher import named_exactly
from bot.retrieval.names import Names


def test_a_names_index_holds_exactly_the_names_of_a_full_one(fixture_assistant: Assistant) -> None:
    docs = list(fixture_assistant.knowledge.services.values())
    names = Names(docs, language=fixture_assistant.language)
    full = Index(docs, language=fixture_assistant.language, categories=fixture_assistant.knowledge.categories)
    assert names.phrases == full.phrases and names.gram_ids == full.gram_ids
    for field in ("phrase_start", "gram_pids", "gram_start"):
        assert getattr(names, field) == getattr(full, field), field
    assert not hasattr(names, "vocab")  # no words of summaries or examples: the "everywhere" index is names only
    for q in ("フードバンクはありますか", "ふーどばんく", "車いすを借りたい", "こんにちは"):
        analysis = fixture_assistant.analyze(q)
        assert named_exactly(names, analysis) == named_exactly(full, analysis), q


def test_everywhere_names_every_councils_resident_services(fixture_assistant: Assistant) -> None:
    everywhere = fixture_assistant.everywhere
    residents = [s for s in fixture_assistant.knowledge.services.values()
                 if s.audience == "resident" and s.status == "active"]
    assert isinstance(everywhere, Names) and not isinstance(everywhere, Index)
    assert everywhere.docs == residents
