"""The knowledge a running server answers from, reloadable without a restart.

A reload loads and validates the new folder completely and builds a new
`Assistant`; only then is the reference swapped (one assignment, atomic in
Python). A failed reload keeps the last good knowledge serving and remembers
the errors, so `/healthz` and Slack `status` can show them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.assistant import Assistant
from bot.knowledge.loader import check_knowledge
from bot.knowledge.problems import KnowledgeError, Problem, Problems
from bot.retrieval.encoder import EncoderStatus, load_encoder
from bot.language.keystore import KeyStore, open_keys
from bot.retrieval.vectors import VectorCache, open_vectors
from bot.settings import MatchSettings

__all__ = ["LiveKnowledge", "ReloadResult"]


@dataclass(frozen=True, slots=True)
class ReloadResult(Problems):
    ok: bool
    at: float
    problems: tuple[Problem, ...] = ()
    services: int = 0


class LiveKnowledge:
    """`encoder` defaults to `load_encoder()`; when it is off, answers are lexical and
    `encoder.reason` says why (for the start-up log and /healthz)."""

    def __init__(self, root: Path | str | None = None, *, settings: MatchSettings | None = None,
                 encoder: EncoderStatus | None = None, keys: Path | str | None = None) -> None:
        self.root = root
        self.settings = settings or MatchSettings()
        self.encoder = encoder if encoder is not None else load_encoder()
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        self.keys: KeyStore | None = open_keys(keys)  # entry texts' analysis keys, kept between runs
        result = check_knowledge(root, cache=self._cache)
        if result.knowledge is None:
            raise KnowledgeError(list(result.problems))
        # One cache for the life of the process: a reload encodes only the texts that changed.
        self.vectors: VectorCache | None = open_vectors(result.knowledge.root, self.encoder.encoder)
        self._assistant = self._build(result.knowledge, previous=None)
        self.last = ReloadResult(True, time.time(), result.problems, len(result.knowledge.services))
        self.last_good = self.last
        self.reloads = 0
        self.failures = 0

    @property
    def _cache(self) -> Path | None:
        """Where parsed YAML is kept between runs: beside the analysis keys."""
        return None if self.keys is None else self.keys.folder

    @property
    def assistant(self) -> Assistant:
        return self._assistant

    def reload(self) -> ReloadResult:
        """Re-read the folder; swap only if it is entirely valid."""
        with self._lock:
            result = check_knowledge(self.root, cache=self._cache)
            if result.knowledge is None:
                self.failures += 1
                self.last = ReloadResult(False, time.time(), result.problems)
                return self.last
            self._assistant = self._build(result.knowledge, previous=self._assistant)
            self.reloads += 1
            self.last = self.last_good = ReloadResult(
                True, time.time(), result.problems, len(result.knowledge.services)
            )
            return self.last

    def _build(self, knowledge, *, previous: Assistant | None) -> Assistant:  # noqa: ANN001 - a loaded Knowledge
        """`previous`, the assistant it replaces, lends the indexes of councils whose services did not change."""
        assistant = Assistant(knowledge, self.settings, vectors=self.vectors, keys=self.keys, previous=previous)
        if self.vectors is not None:
            self.vectors.save()  # keep what was newly encoded; a read-only folder only logs
        return assistant
