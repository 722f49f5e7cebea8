"""The query log: every question, privacy-masked, for staff review.

`QueryLog` is the seam: SQLite by default (embedded, in MADOGUCHI_DATA_DIR),
PostgreSQL when DATABASE_URL is set (provided by the adapters, which own
network drivers). Entries never hold a platform user id in plain text.

An entry holds the question as asked (cut to what is kept); a store masks it
(`clean_question`) and key-hashes `user_hash` with its salt when it writes, on
its writer thread. Masking names runs Sudachi once more over the message: 0.02
ms alone, but about 0.15 ms of the server's CPU per LINE event when it ran on
the matching thread between answers, and little on the writer thread, which
masks a batch in a row (docs/performance.md, stop 27). Stores also offer
`flush()`, `close()`, `recent()` and `stats()` besides the protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.answer import Answer

__all__ = ["LogEntry", "UnansweredGroup", "QueryLog", "MAX_STORED_CHARS", "UNANSWERED_KINDS",
           "NOT_QUESTIONS", "STAFF_CHANNELS", "hash_user", "clean_question", "entry_for"]

MAX_STORED_CHARS = 1_000  # the core reads no more of a question either
UNANSWERED_KINDS = ("fallback", "choices")
# Reasons that are navigation, not a question the knowledge failed: a menu tap,
# a pick from a list, an empty message (a sticker).
NOT_QUESTIONS = ("menu", "picked", "empty")
# Channels where staff, not residents, ask: logged, but left out of `unanswered`
# so staff trying wordings do not drown out what residents could not find.
STAFF_CHANNELS = ("slack",)


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: float  # unix time
    council: str
    channel: str  # line | slack | cli | http
    question: str  # as asked, cut; masked by the store that writes it
    kind: str
    top_ids: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    user_hash: str | None = None  # salted hash, never the platform id
    feedback: str | None = None  # yes | no, when the resident answered 役に立った？
    event_id: str | None = None
    reason: str | None = None  # Answer.reason: matched | ambiguous | no_match | menu | …


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

    def feedback_entries(self, *, council: str | None, since: float, limit: int = 1000) -> list[LogEntry]: ...


def hash_user(user_id: str, *, salt: str) -> str:
    """A stable pseudonym for a platform user id: HMAC-SHA256 keyed by `salt`, 32 hex chars."""
    return hmac.new(salt.encode(), user_id.encode(), hashlib.sha256).hexdigest()[:32]


def clean_question(text: str) -> str:
    """Masked and cut to `MAX_STORED_CHARS`: what a store may keep of a question."""
    from bot.querylog.mask import mask_text

    # Mask a little beyond the cut, so a number straddling it is masked whole.
    return mask_text(text[: MAX_STORED_CHARS + 64])[:MAX_STORED_CHARS]


def entry_for(
    answer: Answer,
    *,
    channel: str,
    text: str | None = None,
    user: str | None = None,
    event_id: str | None = None,
    at: float | None = None,
) -> LogEntry:
    """The log entry of one answered message (`text` defaults to `answer.query`).

    `user` may be the raw platform id: it is hashed here at once, and stores
    key-hash it again with their salt before writing. The question is only cut here:
    the store masks it when it writes.
    """
    ranked = answer.results or answer.choices
    top = tuple(o.id for o in ranked[:5])
    scores = tuple(round(float(o.score), 4) for o in ranked[:5])
    if answer.service is not None and answer.service.id not in top:
        top, scores = (answer.service.id, *top[:4]), (1.0, *scores[:4])
    return LogEntry(
        at=time.time() if at is None else at,
        council=answer.council_id,
        channel=channel,
        question=(answer.query if text is None else text)[: MAX_STORED_CHARS + 64],
        kind=answer.kind,
        top_ids=top,
        scores=scores,
        user_hash=hashlib.sha256(user.encode()).hexdigest() if user else None,
        event_id=event_id,
        reason=answer.reason or None,
    )
