"""Index keys kept on disk between runs: the indexes and answers are exactly those built without them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.knowledge.model import SynonymGroup
from bot.language.analysis import Language
from bot.language.keystore import KeyStore, fingerprint
from bot.language.tokens import Tokenizer

QUESTIONS = ["かぎを預けたい", "給食サビース", "せいねんこうけん", "お金を借りたい", "くるまいす かりたい",
             "ボランティアをしてみたい", "ｸﾙﾏｲｽ", "死にたい", "こんにちは", "子ども食堂はありますか"]
ARRAYS = ("post_doc", "post_code", "post_start", "fwd_key", "fwd_tf", "fwd_start", "idf")
NAMES = ("gram_pids", "gram_start", "phrase_start")


def _same_indexes(a: Assistant, b: Assistant) -> None:
    for name in [*a.indexes, None]:
        x = a.everywhere if name is None else a.indexes[name]
        y = b.everywhere if name is None else b.indexes[name]
        assert x.phrases == y.phrases and x.gram_ids == y.gram_ids, name
        for field in NAMES if name is None else NAMES + ARRAYS:
            assert getattr(x, field) == getattr(y, field), (name, field)
        if name is not None:
            assert x.vocab == y.vocab and x.doc_len == y.doc_len, name


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(default_root())


@pytest.fixture(scope="module")
def reference(knowledge) -> Assistant:
    return Assistant(knowledge)


def test_indexes_from_stored_keys_are_identical(knowledge, reference, tmp_path: Path, monkeypatch) -> None:
    store = KeyStore(tmp_path)
    analysed: list[str] = []
    real = Language._unit_keys
    monkeypatch.setattr(Language, "_unit_keys", lambda self, text: analysed.append(text) or real(self, text))
    read: list[str] = []
    real_reading = Tokenizer.reading
    monkeypatch.setattr(Tokenizer, "reading", lambda self, text: read.append(text) or real_reading(self, text))
    names = {n for s in knowledge.services.values() for n in (s.title, *s.aliases)}
    cold = Assistant(knowledge, keys=store)  # analyses everything, writes the file
    [written] = tmp_path.glob("keys-*.marshal")
    assert len(analysed) > 4000 and names <= set(read)
    analysed.clear()
    read.clear()
    warm = Assistant(knowledge, keys=store)  # every entry text's keys and every name's reading come from the file
    said = {t for r in knowledge.safety for t in (*r.terms, *r.context)}  # read by the danger check, not the index
    assert analysed == [] and not names & set(read) - said
    stored = store.load(fingerprint(synonyms=knowledge.synonyms, ignore=knowledge.ignore_words))
    assert len(stored.keys) > 4000 and names <= set(stored.names)
    for built in (cold, warm):
        _same_indexes(reference, built)
        for council in sorted(knowledge.councils):
            for q in QUESTIONS:
                assert built.ask(council, q) == reference.ask(council, q), (council, q)
    assert written.stat().st_size > 0


def test_a_damaged_file_is_analysed_again(knowledge, reference, tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    Assistant(knowledge, keys=store)
    [path] = tmp_path.glob("keys-*.marshal")
    path.write_bytes(path.read_bytes()[:1000])  # cut short, as by a full disk
    _same_indexes(reference, Assistant(knowledge, keys=store))
    path.write_bytes(b"not marshal at all")
    _same_indexes(reference, Assistant(knowledge, keys=store))
    assert len(path.read_bytes()) > 1000  # written again, whole


def test_an_unwritable_folder_only_costs_the_analysis(knowledge, reference, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    _same_indexes(reference, Assistant(knowledge, keys=KeyStore(blocker / "analysis")))


def test_what_the_keys_depend_on_changes_the_file(knowledge) -> None:
    base = fingerprint(synonyms=knowledge.synonyms, ignore=knowledge.ignore_words)
    assert base == fingerprint(synonyms=knowledge.synonyms, ignore=knowledge.ignore_words)
    more = (*knowledge.synonyms, SynonymGroup("かぎ", ("合鍵", "スペアキー")))
    assert fingerprint(synonyms=more, ignore=knowledge.ignore_words) != base
    assert fingerprint(synonyms=knowledge.synonyms, ignore={*knowledge.ignore_words, "です"}) != base
    edited = replace(knowledge.synonyms[0], variants=knowledge.synonyms[0].variants[:-1])
    assert fingerprint(synonyms=(edited, *knowledge.synonyms[1:]), ignore=knowledge.ignore_words) != base
