"""The core's front door: a loaded knowledge base that answers questions.

Built once per knowledge load (indexes included) and then only read, so one
instance can serve many threads; a reload builds a new one and swaps it in.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from dataclasses import InitVar, dataclass, field
from typing import NamedTuple

import numpy as np

from bot.answer import Answer, Level, Option, label
from bot.decision.decide import agreed, decide, service_answer
from bot.knowledge.model import Audience, Council, Knowledge
from bot.language.keystore import KeyStore, Stored, fingerprint
from bot.language.analysis import Analysis, Language
from bot.language.normalize import fold, normalize
from bot.memory import release_freed
from bot.messages import M
from bot.retrieval.dense import DenseIndex
from bot.retrieval.fusion import Ranking, fuse, lexical_only
from bot.retrieval.index import Index
from bot.retrieval.indexes import Indexes, build_indexes
from bot.retrieval.matcher import Match, named_exactly, rank
from bot.retrieval.names import Names
from bot.retrieval.rerank import WEIGHTS_PATH, Reranker, rerank
from bot.retrieval.vectors import VectorCache
from bot.safety.check import DangerCheck, Verdict
from bot.safety.corpus import CorpusCache
from bot.safety.detector import DangerDetector
from bot.safety.kind_wording import KindWording
from bot.safety.wording import Wording
from bot.settings import MatchSettings

__all__ = ["Assistant", "UnknownCouncil", "MAX_QUESTION_CHARS"]

MAX_QUESTION_CHARS = 1_000  # a question never needs more; longer text is cut
_SURROGATE = re.compile("[\ud800-\udfff]")

log = logging.getLogger("madoguchi.assistant")


class UnknownCouncil(KeyError):
    """The council id is not in the knowledge."""


@dataclass(slots=True)
class Assistant:
    knowledge: Knowledge
    settings: MatchSettings = field(default_factory=MatchSettings)
    # Passage vectors (and the encoder behind them); None answers lexically only.
    vectors: VectorCache | None = None
    # Entry texts' index keys from the last build, on disk (`bot.language.keystore`), and in the same
    # folder what the danger detector reads of its corpus (`bot.safety.corpus`); None works all out.
    keys: KeyStore | None = None
    # The assistant this one replaces (a reload): what of its indexes did not change is kept
    # (`bot.retrieval.indexes`), not built again.
    previous: InitVar[Assistant | None] = None
    # The councils it answers for (None: every one): `ask --council` indexes one council, not all
    # of a national knowledge. Asked about another, it says the council is unknown.
    councils: frozenset[str] | None = None
    language: Language = field(init=False)
    indexes: dict[str, Index] = field(init=False)
    dense: dict[str, DenseIndex] = field(init=False)
    _built: Indexes = field(init=False)  # the three together, for the assistant that replaces this one
    # The fitted reranker over the fused candidates (`settings.rerank`), when dense is on.
    reranker: Reranker | None = field(init=False, default=None)
    # Every council's resident services, by name only: is a service of another council named here?
    everywhere: Names = field(init=False)
    _safety: DangerCheck = field(init=False)
    _ordinary: list[str] = field(init=False)  # the detector's ordinary messages, in row order
    _out_of_scope: np.ndarray = field(init=False)  # vectors of the questions no council handles

    def __post_init__(self, previous: Assistant | None) -> None:
        k = self.knowledge
        side = _Ordinary.of(k)
        self._ordinary = side.calm + side.examples
        # Nothing the detector reads changed (a phone number, a summary, opening hours): keep it.
        keep = previous is not None and self._reads_as(previous)
        corpus = None
        if self.vectors is not None and not keep:
            corpus = CorpusCache(self.vectors, folder=self.keys.folder if self.keys is not None else None)
        # The detector reads the corpus and the examples, the indexes the services: built side by
        # side, the detector's numpy half runs on the other core while the indexes hold the GIL
        # (a `serve` start, five councils: 0.05–0.08 s sooner).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="madoguchi-detector") as pool:
            detector = None if keep else pool.submit(self._detector, corpus, side)
            self._make_indexes(previous)
            self._safety = DangerCheck(k, self.language, settings=self.settings, encode=self.encode,
                                       detector=detector.result() if detector is not None
                                       else previous._safety.detector if previous is not None else None)
        if keep and previous is not None:
            self._out_of_scope = previous._out_of_scope
            return
        self._out_of_scope = np.zeros((0, 1), dtype=np.float32)
        if corpus is not None:
            if k.out_of_scope:
                self._out_of_scope = corpus.queries(list(k.out_of_scope))
            corpus.save()
        corpus = None  # of its file's arrays, only those in use stay
        release_freed()  # the detector's counting and the rest of the corpus file go back to the system

    def _make_indexes(self, previous: Assistant | None) -> None:
        """The language and every index, keeping what `previous` (a reload's) has of them."""
        k = self.knowledge
        self.language = Language(synonyms=k.synonyms, ignore=k.ignore_words, excluding=k.excluding)
        stamp, stored = "", Stored({}, {})
        if self.keys is not None:
            stamp = fingerprint(synonyms=k.synonyms, ignore=k.ignore_words)
            stored = self.keys.load(stamp)
            self.language.use_stored(stored)
        built = build_indexes(k, language=self.language, settings=self.settings, vectors=self.vectors,
                              previous=previous._built if previous is not None else None, only=self.councils)
        self._built, self.indexes, self.dense, self.everywhere = built, built.lexical, built.dense, built.everywhere
        if self.vectors is not None and self.settings.rerank:
            self.reranker = _load_reranker(WEIGHTS_PATH)
        if self.keys is not None:
            analysed, changed = self.language.stop_storing()
            if built.kept or self.councils is not None:  # texts not analysed again, or not at all: keep them
                analysed = Stored({**stored.keys, **analysed.keys}, {**stored.names, **analysed.names})
                changed = len(analysed.keys) != len(stored.keys) or len(analysed.names) != len(stored.names)
            if changed:
                self.keys.save(stamp, analysed)

    # -- lookups --------------------------------------------------------------
    def council(self, council_id: str) -> Council:
        found = self.knowledge.councils.get(council_id)
        if found is not None and council_id in self.indexes:
            return found
        if found is None:
            known = ", ".join(sorted(self.knowledge.councils))
            raise UnknownCouncil(f"unknown council {council_id!r} (known: {known})")
        raise UnknownCouncil(f"council {council_id!r} is not loaded here (only {', '.join(sorted(self.indexes))})")

    def analyze(self, text: str) -> Analysis:
        # A lone surrogate (\ud800) can be neither tokenised nor encoded: it becomes U+FFFD.
        return self.language.analyze(_SURROGATE.sub("\ufffd", text[:MAX_QUESTION_CHARS]))

    def _reads_as(self, previous: Assistant) -> bool:
        """Whether `previous`'s detector and out-of-scope vectors are this one's: the same corpus,
        examples, out-of-scope questions, settings and vectors."""
        a, b = previous.knowledge, self.knowledge
        return (previous.settings == self.settings and previous.vectors is self.vectors and a.crisis == b.crisis
                and a.out_of_scope == b.out_of_scope and previous._ordinary == self._ordinary)

    def _detector(self, corpus: CorpusCache | None, side: _Ordinary) -> DangerDetector | None:
        """The danger corpus and the knowledge's own examples and out-of-scope questions (ordinary), encoded."""
        danger = [e for e in self.knowledge.crisis if e.level == "danger"]
        calm, examples, worries, talk = side.calm, side.examples, side.worries, side.talk
        if corpus is None or not danger:
            return None
        # Counted apart (danger by kind, the corpus' ordinary side, the examples), so an edit
        # recounts only its own list.
        by_kind: dict[str, list[str]] = {}  # in one pass, kinds in order of first appearance
        for e in danger:
            by_kind.setdefault(e.kind, []).append(e.text)
        texts = [e.text for e in danger]
        grams, counts = corpus.grams_by_kind(by_kind)
        wording = Wording.from_arrays((grams, counts.sum(axis=0)), corpus.gram_arrays(calm), corpus.gram_arrays(examples))
        vectors = np.concatenate([corpus.queries(calm), corpus.queries(examples)])
        return DangerDetector.configured(danger, corpus.queries(texts), vectors,
                                         settings=self.settings, wording=wording,
                                         kind_wording=KindWording(list(by_kind), grams, counts),
                                         worries=len(worries), urgency_wording=_pair(corpus, texts, worries, "concern"),
                                         talk=len(talk), talk_wording=_pair(corpus, texts, talk, "talk"))

    def embedded_texts(self) -> list[tuple[str, str]]:
        """Every (kind, text) this assistant keeps a vector of: what the cache must hold."""
        detector = self._safety.detector
        queries = [] if detector is None else [*detector.texts, *self._ordinary]
        if self.vectors is not None:
            queries += self.knowledge.out_of_scope
        return [("passage", t) for d in self.dense.values() for t in d.texts] + [("query", t) for t in queries]

    def examples_read_as_danger(self) -> list[tuple[str, str, Level, float]]:
        """(service id, example, level, margin) for each resident example the detector would
        treat as an emergency or a worry (its answer then carries a kind line), read whole and,
        when it asks, without what it asks: a false alarm staff should see before residents do."""
        detector = self._safety.detector
        if detector is None or self.vectors is None:
            return []
        row = {t: i for i, t in enumerate(self._ordinary)}
        vectors = self.vectors.queries(self._ordinary)
        out = []
        for s in self.knowledge.services.values():
            for e in s.examples if s.audience == "resident" else ():
                reading = detector.read(vectors[row[e]], fold(e), skip_ordinary=row[e])
                level = self._safety.detector_level(reading)
                told = self._safety.situation(e, reading) if level != "emergency" else None
                if told is not None and told.reading is not None:  # what it tells, read without what it asks
                    level, reading = "emergency", told.reading
                if level is not None:
                    out.append((s.id, e, level, reading.margin))
        return out

    def encode(self, text: str) -> np.ndarray | None:
        """The message's vector, or None when dense retrieval is off or the encoder fails."""
        if self.vectors is None:
            return None
        try:
            return self.vectors.encoder.queries([self._excerpt(normalize(text))])[0]
        except Exception:  # an encoder failure must never cost the resident an answer
            log.exception("encoder failed; answering lexically")
            return None

    def _excerpt(self, text: str) -> str:
        """What of a message is encoded: all of it when short; else its start and its
        end, where a long story usually says what is wanted (encoding time grows with length)."""
        text = _SURROGATE.sub("\ufffd", text)
        n = self.settings.dense_max_chars
        if len(text) <= n:
            return text
        head = n * 2 // 3
        return text[:head] + "…" + text[-(n - head):]

    def fused(self, council_id: str, q: Analysis, vector: np.ndarray, audience: Audience
              ) -> tuple[Ranking, list[Match], np.ndarray]:
        """The fused ranking, the lexical one it came from, and the cosine to every passage."""
        index, dense = self.indexes[council_id], self.dense[council_id]
        lexical = rank(index, q, audience=audience)
        rows = dense.passage_similarities(vector)
        resident = index.resident
        ranking = fuse(lexical, dense.similarities(vector, rows=rows), index.docs,
                       eligible=(lambda d: True) if audience == "staff" else resident.__getitem__,
                       settings=self.settings)
        return ranking, lexical, rows

    def out_of_scope(self, vector: np.ndarray) -> float:
        """The message's best cosine to the questions no council handles (0 with none)."""
        return float((self._out_of_scope @ vector).max()) if len(self._out_of_scope) else 0.0

    def _rank(self, council_id: str, q: Analysis, vector: np.ndarray | None, audience: Audience) -> Ranking:
        if vector is None:
            return lexical_only(rank(self.indexes[council_id], q, audience=audience))
        ranking, lexical, rows = self.fused(council_id, q, vector, audience)
        if self.reranker is None:
            return ranking
        return rerank(ranking, self.reranker, lexical=lexical, rows=rows, start=self.dense[council_id].start,
                      out_of_scope=self.out_of_scope(vector))

    def _asks_for_a_service(self, verdict: Verdict, ranking: Ranking) -> bool:
        """A story of hardship that plainly asks for one service (both retrievers agree on it,
        with a clear lead) is a worry to answer, unless a term or a wide margin says danger."""
        s = self.settings
        if verdict.level != "emergency" or verdict.by_terms or verdict.reading is None:
            return False
        if verdict.reading.margin >= s.danger_emergency + s.danger_asking:
            return False
        offered = [m for m in ranking.matches if m.service.offered]
        return bool(offered) and agreed(ranking, offered[0], offered[1:], s)

    def _helpers(self, council_id: str, verdict: Verdict | None) -> tuple[Option, ...]:
        """The council's own services for a kind of danger that has them (no food, no bed tonight)."""
        if verdict is None or verdict.level != "emergency" or not verdict.searches:
            return ()
        found: dict[str, Option] = {}
        for search in verdict.searches:
            for m in rank(self.indexes[council_id], self.analyze(search))[:2]:
                if m.service.offered and m.service.status == "active" and m.score >= self.settings.choice:
                    found.setdefault(m.service.id, Option(m.service.id, m.service.title, label(m.service.title)))
        return tuple(found.values())[: self.settings.max_choices - 1]

    def _offered_elsewhere(self, council: Council, q: Analysis) -> bool:
        """Another council has a service whose name is plainly in the question."""
        docs = self.everywhere.docs
        return any(docs[d].council_id != council.id for d in named_exactly(self.everywhere, q))

    # -- answers --------------------------------------------------------------
    def ask(self, council_id: str, text: str, *, audience: Audience = "resident") -> Answer:
        """Answer one message from a resident (or, with audience="staff", from staff)."""
        council = self.council(council_id)
        q = self.analyze(text)
        vector = self.encode(text)
        verdict = self._safety.check(q, vector)
        # Kana that Sudachi splits into function words only still reaches the name
        # matcher (it compares readings); with no name found either, it is small talk.
        if not q.units and verdict is None and not any(m.phrase > 0 for m in rank(self.indexes[council_id], q)):
            return Answer("fallback", council.id, council.name, text,
                          M.empty.format(council=council.short_name), council.window, "empty")
        ranking = self._rank(council_id, q, vector, audience)
        top = max((m.score for m in ranking.matches), default=0.0)
        if verdict is not None and self._asks_for_a_service(verdict, ranking):
            verdict = verdict.softened()
        return decide(
            knowledge=self.knowledge,
            council=council,
            query=text,
            ranking=ranking,
            settings=self.settings,
            verdict=verdict,
            helpers=self._helpers(council_id, verdict),
            elsewhere=top < self.settings.choice and self._offered_elsewhere(council, q),
            audience=audience,
        )

    def follow_up(self, council_id: str, text: str, *, last_service: str | None = None,
                  audience: Audience = "resident") -> Answer | None:
        """A short follow-up to the last answer (費用は？, ありがとう), or None for a new question.

        A message that signals danger, or names a service, is never a
        follow-up: `ask` answers it. A worry may be one (人と話したい reads among
        the worries, and handing it to a person is what it asks for).
        """
        from bot.decision.followup import conversation_words, follow_up, read_intent

        text = text[:MAX_QUESTION_CHARS]
        if read_intent(conversation_words(self.knowledge), text) is None:  # cheap: most messages stop here
            return None
        q = self.analyze(text)
        danger = self._safety.check(q, self.encode(text))
        emergency = danger is not None and danger.level == "emergency"
        if emergency or named_exactly(self.indexes[self.council(council_id).id], q):
            return None
        return follow_up(self.knowledge, self.council(council_id), text, last_service=last_service, audience=audience)

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


class _Ordinary(NamedTuple):
    """The detector's ordinary side, in its row order: the corpus' worries, its small talk and its
    other look-alikes (`calm`), then the knowledge's resident examples followed by the questions no
    council handles (`Knowledge.out_of_scope`, in `examples`: a train ticket asked for is not a
    one-way trip)."""

    worries: list[str]
    talk: list[str]
    others: list[str]
    examples: list[str]

    @classmethod
    def of(cls, k: Knowledge) -> _Ordinary:
        return cls([e.text for e in k.crisis if e.level == "concern"], [e.text for e in k.crisis if e.small_talk],
                   [e.text for e in k.crisis if e.level not in ("danger", "concern") and not e.small_talk],
                   list(dict.fromkeys([*(e for s in k.services.values() if s.audience == "resident"
                                         for e in s.examples), *k.out_of_scope])))

    @property
    def calm(self) -> list[str]:
        return self.worries + self.talk + self.others


def _load_reranker(path: Path) -> Reranker | None:
    """The fitted reranker, or None (the linear fusion decides) when its file is
    missing or unusable: a bad file must not stop the bot from answering."""
    try:
        return Reranker.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("no usable reranker at %s (%s): the linear fusion decides", path, exc)
        return None


def _pair(corpus: CorpusCache, danger: list[str], other: list[str], name: str) -> KindWording | None:
    """The wording of danger against one group of ordinary messages (classes "danger" and `name`),
    or None without that group."""
    if not other:
        return None
    return KindWording(["danger", name], *corpus.grams_by_kind({"danger": danger, name: other}))
