"""A reload keeps the indexes of councils whose services did not change, and they are exactly
those a build from nothing makes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.assistant import Assistant, UnknownCouncil
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import SynonymGroup
from bot.language.keystore import KeyStore, fingerprint
from tests.core.test_keystore import _same_indexes

QUESTIONS = ["車いすを借りたい", "くるまいす", "お弁当を届けてほしい", "フードバンクはありますか", "理事会", "こんにちは"]


def _edit(kb: Path) -> None:
    """One new example in みなと's wheelchair entry."""
    path = kb / "minato" / "services" / "kuruma-isu.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("examples:\n", "examples:\n  - 車いすを三日だけ借りたい\n", 1),
                    encoding="utf-8")


def test_a_reload_keeps_the_unchanged_councils_indexes_and_builds_the_edited_ones(kb_copy: Path) -> None:
    before = Assistant(load_knowledge(kb_copy))
    _edit(kb_copy)
    edited = load_knowledge(kb_copy)
    reloaded, fresh = Assistant(edited, previous=before), Assistant(edited)
    assert reloaded.indexes["yama"] is before.indexes["yama"]
    assert reloaded.indexes["minato"] is not before.indexes["minato"]
    assert reloaded.everywhere is before.everywhere  # an example changed, no name
    assert reloaded.everywhere.docs == fresh.everywhere.docs
    _same_indexes(fresh, reloaded)
    for council in edited.councils:  # the kept index now refers to the new knowledge, not the old
        index = reloaded.indexes[council]
        assert index.language is reloaded.language
        assert all(d is edited.services[d.id] for d in index.docs if d.id in edited.services)
        for q in QUESTIONS:
            assert reloaded.ask(council, q) == fresh.ask(council, q), (council, q)


def test_a_new_name_builds_the_names_of_every_council_again(kb_copy: Path) -> None:
    before = Assistant(load_knowledge(kb_copy))
    path = kb_copy / "minato" / "services" / "kuruma-isu.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("aliases: [", "aliases: [車いすの貸し出し窓口, ", 1),
                    encoding="utf-8")
    edited = load_knowledge(kb_copy)
    reloaded = Assistant(edited, previous=before)
    assert reloaded.everywhere is not before.everywhere and reloaded.indexes["yama"] is before.indexes["yama"]
    _same_indexes(Assistant(edited), reloaded)


def test_a_councils_last_service_removed_is_gone_from_its_index(kb_copy: Path) -> None:
    knowledge = load_knowledge(kb_copy)
    before = Assistant(knowledge)
    last = knowledge.services_of("minato")[-1]
    (kb_copy.parent / last.path).unlink()  # a path as the loader gives it, from the folder above the knowledge
    edited = load_knowledge(kb_copy)
    assert last.id not in edited.services
    reloaded = Assistant(edited, previous=before)
    assert last.id not in {d.id for d in reloaded.indexes["minato"].docs}
    _same_indexes(Assistant(edited), reloaded)


def test_nothing_is_kept_when_the_words_change(kb_copy: Path) -> None:
    knowledge = load_knowledge(kb_copy)
    before = Assistant(knowledge)
    more = replace(knowledge, synonyms=(*knowledge.synonyms, SynonymGroup("車いす", ("くるま",))))
    after = Assistant(more, previous=before)
    assert all(after.indexes[c] is not before.indexes[c] for c in knowledge.councils)
    _same_indexes(Assistant(more), after)


def test_the_analysis_kept_on_disk_still_covers_every_text_after_a_reload(kb_copy: Path, tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "analysis")
    before = Assistant(load_knowledge(kb_copy), keys=store)
    _edit(kb_copy)
    edited = load_knowledge(kb_copy)
    Assistant(edited, keys=store, previous=before)  # builds only みなと's index and the names
    stamp = fingerprint(synonyms=edited.synonyms, ignore=edited.ignore_words)
    kept = store.load(stamp)
    cold = KeyStore(tmp_path / "cold")
    Assistant(edited, keys=cold)  # what a start from nothing analyses
    everything = cold.load(stamp)
    assert set(everything.keys) <= set(kept.keys) and set(everything.names) <= set(kept.names)
    assert "車いすを三日だけ借りたい" in kept.keys


def test_an_assistant_for_one_council_indexes_it_alone_and_answers_as_the_whole(kb_copy: Path,
                                                                                 tmp_path: Path) -> None:
    knowledge = load_knowledge(kb_copy)
    store = KeyStore(tmp_path / "analysis")
    whole = Assistant(knowledge, keys=store)
    stamp = fingerprint(synonyms=knowledge.synonyms, ignore=knowledge.ignore_words)
    before = store.load(stamp)
    one = Assistant(knowledge, keys=store, councils=frozenset(["minato"]))
    assert list(one.indexes) == ["minato"]
    assert one.everywhere.docs == whole.everywhere.docs  # another council's names still count
    _same_indexes(one, whole)
    for q in QUESTIONS:
        assert one.ask("minato", q) == whole.ask("minato", q), q
    with pytest.raises(UnknownCouncil, match="not loaded here"):
        one.ask("yama", "車いす")
    kept = store.load(stamp)  # a start for one council forgets nothing of the others' analysis
    assert set(before.keys) <= set(kept.keys) and set(before.names) <= set(kept.names)
