"""The detector's corpus kept on disk between runs: detectors and answers are exactly those built without it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bot.assistant import Assistant
from bot.language.keystore import KeyStore
from bot.language.normalize import fold
from bot.retrieval.vectors import VectorCache
from bot.safety import corpus as corpus_module
from bot.safety.corpus import CorpusCache, recount
from bot.safety.detector import DangerDetector
from bot.safety.wording import gram_counts

MESSAGES = ["もう死にたい", "橋の上にいます。みんな今までありがとう", "夫に殴られて家に帰れない", "かぎを預けたい",
            "今日のお昼ご飯", "三日何も食べてない", "こんにちは", "子どもがご飯をもらえていないみたい"]


def _counted(cache: CorpusCache, texts: list[str]) -> Counter[str]:
    """The cache's gram arrays of `texts` as a Counter, to compare with a plain count."""
    grams, counts = cache.gram_arrays(texts)
    return Counter(dict(zip(grams.tolist(), counts.tolist())))


def _same_detectors(a: DangerDetector, b: DangerDetector) -> None:
    for side in ("danger", "ordinary"):
        x, y = getattr(a, side), getattr(b, side)
        assert x.dtype == y.dtype and np.array_equal(x, y), side
    assert a.wording is not None and b.wording is not None
    for name, value in vars(a.wording).items():
        assert np.array_equal(value, vars(b.wording)[name]), name
    assert (a.texts, a.kinds) == (b.texts, b.kinds)
    assert a.kind_wording is not None and b.kind_wording is not None
    assert a.kind_wording.kinds == b.kind_wording.kinds
    assert np.array_equal(a.kind_wording._grams, b.kind_wording._grams)
    assert np.array_equal(a.kind_wording._log, b.kind_wording._log)
    assert a.worries == b.worries > 0 and a.talk == b.talk > 0
    for x, y in ((a.urgency_wording, b.urgency_wording), (a.talk_wording, b.talk_wording)):
        assert x is not None and y is not None
        assert np.array_equal(x._grams, y._grams) and np.array_equal(x._log, y._log)


@pytest.fixture()
def vectors(real_assistant: Assistant) -> VectorCache:
    assert real_assistant.vectors is not None
    return real_assistant.vectors


def test_detectors_from_the_kept_corpus_are_identical(real_assistant: Assistant, vectors: VectorCache,
                                                      tmp_path: Path, monkeypatch) -> None:
    counted: list[int] = []
    looked_up: list[int] = []
    monkeypatch.setattr(corpus_module, "gram_counts", lambda folded: counted.append(1) or gram_counts(folded))
    real_queries = VectorCache.queries
    monkeypatch.setattr(VectorCache, "queries", lambda self, texts, **kw: looked_up.append(len(texts))
                        or real_queries(self, texts, **kw))
    knowledge, store = real_assistant.knowledge, KeyStore(tmp_path)
    cold = Assistant(knowledge, vectors=vectors, keys=store)  # counts and stacks, writes the files
    [written] = tmp_path.glob("corpus-*")
    kinds = len({e.kind for e in knowledge.crisis if e.level == "danger"})
    # danger by kind, the corpus' ordinary side, the examples; danger and the worries (urgency),
    # danger and the small talk (talk)
    assert len(counted) == kinds + 2 + 2 + 2 and sum(looked_up) > 7000
    counted.clear()
    looked_up.clear()
    warm = Assistant(knowledge, vectors=vectors, keys=store)  # reads them back
    assert counted == [] and looked_up == []
    reference = real_assistant._safety.detector
    assert reference is not None
    for built in (cold, warm):
        detector = built._safety.detector
        assert detector is not None
        _same_detectors(reference, detector)
        for message in MESSAGES:
            vector = built.encode(message)
            assert vector is not None
            assert detector.read(vector, fold(message)) == reference.read(vector, fold(message)), message
            assert built.ask("tomakomai", message) == real_assistant.ask("tomakomai", message), message
    assert sum(f.stat().st_size for f in written.iterdir()) > 7000 * 384 * 4


def test_another_corpus_is_counted_again(vectors: VectorCache, tmp_path: Path) -> None:
    texts = ["助けて", "もう無理", "ボランティアをしたい"]
    first = CorpusCache(vectors, folder=tmp_path)
    assert _counted(first, texts) == gram_counts(map(fold, texts))
    first.queries(texts)
    first.save()
    edited = [*texts[:2], "ボランティアをしたいです"]
    second = CorpusCache(vectors, folder=tmp_path)
    assert _counted(second, edited) == gram_counts(map(fold, edited))
    assert np.array_equal(second.queries(edited), vectors.queries(edited))
    second.save()
    [folder] = tmp_path.glob("corpus-*")
    # only the last build's lists: grams, counts, texts and vectors of `edited`
    assert sorted(f.name.split("-")[0] for f in folder.iterdir()) == ["counts", "grams", "queries", "texts"]
    third = CorpusCache(vectors, folder=tmp_path)
    assert _counted(third, edited) == gram_counts(map(fold, edited))
    third.save()
    assert len(list(folder.iterdir())) == 3  # the vectors were not asked for


texts_strategy = st.lists(st.text(alphabet="あいうかきくアイ漢字 ｱ１a", max_size=6), max_size=8)


@settings(max_examples=300, deadline=None)
@given(before=texts_strategy, after=texts_strategy)
def test_counts_from_a_kept_list_are_a_plain_count(before: list[str], after: list[str]) -> None:
    kept = gram_counts(map(fold, before))
    assert recount(kept, before, after) == gram_counts(map(fold, after))


def test_arrays_read_mapped_outlive_another_builds_save(vectors: VectorCache, tmp_path: Path) -> None:
    """A reader keeps what it mapped while another build (a reload, a replica) replaces or
    removes the files: they are only ever renamed over or unlinked, never written in place."""
    texts = ["家に帰りたくない", "ご飯を食べていない"]
    first = CorpusCache(vectors, folder=tmp_path)
    expected = _counted(first, texts), first.queries(texts).copy()
    first.save()
    reader = CorpusCache(vectors, folder=tmp_path)
    held = reader.queries(texts)
    assert isinstance(held, np.memmap)
    other = CorpusCache(vectors, folder=tmp_path)
    _counted(other, ["サロンに行きたい"]), other.queries(["サロンに行きたい"])
    other.save()  # removes the files `reader` mapped
    assert len(list(tmp_path.glob("corpus-*/queries-*.npy"))) == 1  # the other build's alone
    assert np.array_equal(held, expected[1])
    assert _counted(reader, texts) == expected[0]


@pytest.mark.parametrize("damage", [lambda b: b[:100], lambda b: b"not an array at all", lambda b: b""])
@pytest.mark.parametrize("array", ["grams", "counts", "texts", "queries"])
def test_a_damaged_file_is_counted_again(vectors: VectorCache, tmp_path: Path, damage, array: str) -> None:
    texts = ["家に帰りたくない", "ご飯を食べていない", "サロンに行きたい"]
    cache = CorpusCache(vectors, folder=tmp_path)
    _counted(cache, texts), cache.queries(texts)
    cache.save()
    [path] = tmp_path.glob(f"corpus-*/{array}-*.npy")
    path.write_bytes(damage(path.read_bytes()))
    again = CorpusCache(vectors, folder=tmp_path)
    assert _counted(again, texts) == gram_counts(map(fold, texts))
    assert np.array_equal(again.queries(texts), vectors.queries(texts))
    again.save()
    assert path.stat().st_size > 100  # written again


def test_an_unwritable_folder_only_costs_the_work(vectors: VectorCache, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    cache = CorpusCache(vectors, folder=blocker / "analysis")
    assert _counted(cache, ["助けて"]) == gram_counts([fold("助けて")])
    cache.save()  # logs, never raises


def test_an_edited_example_counts_only_the_new_text(real_assistant: Assistant, vectors: VectorCache,
                                                        tmp_path: Path, monkeypatch) -> None:
    knowledge, store = real_assistant.knowledge, KeyStore(tmp_path)
    Assistant(knowledge, vectors=vectors, keys=store)
    sid, service = next((sid, s) for sid, s in knowledge.services.items() if s.audience == "resident")
    edited = replace(knowledge, services={**knowledge.services,
                                          sid: replace(service, examples=(*service.examples, "車いすを三日借りたい"))})
    counted: list[int] = []

    def counting(folded):  # noqa: ANN001, ANN202 - stands in for gram_counts
        texts = list(folded)
        counted.append(len(texts))
        return gram_counts(texts)

    monkeypatch.setattr(corpus_module, "gram_counts", counting)
    built = Assistant(edited, vectors=vectors, keys=store)
    assert counted == [1]  # the new example alone: the rest are the kept examples' counts
    assert built._safety.detector is not None and "車いすを三日借りたい" in built._ordinary
    fresh = Assistant(edited, vectors=vectors, keys=KeyStore(tmp_path / "elsewhere"))
    assert fresh._safety.detector is not None
    _same_detectors(fresh._safety.detector, built._safety.detector)
