"""The query log: every question, privacy-masked, for staff review.

`QueryLog` is the seam: SQLite by default (embedded, in MADOGUCHI_DATA_DIR),
PostgreSQL when DATABASE_URL is set (provided by the adapters, which own
network drivers). Entries never hold a platform user id in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["LogEntry", "UnansweredGroup", "QueryLog"]


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: float  # unix time
    council: str
    channel: str  # line | slack | cli | http
    question: str  # already masked
    kind: str
    top_ids: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    user_hash: str | None = None  # salted hash, never the platform id
    feedback: str | None = None  # yes | no, when the resident answered 役に立った？
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    council: str
    example: str  # one representative question (masked)
    count: int
    kinds: dict[str, int] = field(default_factory=dict)
    questions: tuple[str, ...] = ()


class QueryLog(Protocol):
    def record(self, entry: LogEntry) -> None: ...

    def feedback(self, *, council: str, event_id: str, value: str) -> None: ...

    def unanswered(self, *, council: str | None, since: float) -> list[UnansweredGroup]: ...

    def purge(self, *, older_than: float) -> int: ...
