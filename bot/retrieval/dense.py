"""Dense retrieval: how close in meaning a message is to each service.

Each service is a few passages — its name with its aliases and summary, and
each example question — and a service is as close as its closest passage, so
a resident's story can meet one example written in the same spirit. Rows are
aligned with the lexical `Index` of the same services, so the two rankings
can be fused by document number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.knowledge.model import Service
from bot.retrieval.vectors import VectorCache

__all__ = ["DenseIndex", "passages_of"]

SUMMARY_CHARS = 160  # the summary's lead: what the service is; the rest is detail


def passages_of(service: Service) -> list[str]:
    """The texts a service is embedded as (the first one names it)."""
    names = "、".join(dict.fromkeys((service.title, *service.aliases)))
    head = f"{names}。{service.summary[:SUMMARY_CHARS]}" if service.summary else names
    return [head, *dict.fromkeys(e for e in service.examples if e.strip())]


class DenseIndex:
    """Passage vectors of one set of services, one matrix for one product per question."""

    def __init__(self, services: Sequence[Service], *, cache: VectorCache) -> None:
        texts: list[str] = []
        owner: list[int] = []
        for doc, service in enumerate(services):
            for text in passages_of(service):
                texts.append(text)
                owner.append(doc)
        self.n = len(services)
        self.texts = texts
        self.matrix = cache.passages(texts)
        self.owner = np.asarray(owner, dtype=np.int32)
        # Service d's passages are rows start[d]:start[d + 1], its head (names) first.
        self.start = np.searchsorted(self.owner, np.arange(self.n + 1)).astype(np.int32)

    def passage_similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the message to every passage (rows of `matrix`)."""
        return self.matrix @ query

    def similarities(self, query: np.ndarray, *, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine of the message to each service (its best passage); −inf for none.
        `rows` are the `passage_similarities` when already worked out."""
        best = np.full(self.n, -np.inf, dtype=np.float32)
        if len(self.owner):
            np.maximum.at(best, self.owner, self.passage_similarities(query) if rows is None else rows)
        return best
