"""The query log in PostgreSQL (DATABASE_URL), for several replicas sharing one log.

Same behaviour as the SQLite store: a background thread writes batches (a
webhook never waits for the database), questions are masked and cut, user
ids are HMAC-hashed. The salt is MADOGUCHI_HASH_SALT, else one random salt
created once in the table `madoguchi_meta`, so every replica hashes alike.
Tables are created when missing; the retention purge runs hourly.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

import psycopg

from bot.querylog import NOT_QUESTIONS, STAFF_CHANNELS, UNANSWERED_KINDS, LogEntry, UnansweredGroup
from bot.querylog.sqlite import stored_row
from bot.querylog.writer import BatchWriter, Feedback, QueuedStore

__all__ = ["PostgresQueryLog", "open_store"]

log = logging.getLogger("madoguchi.stores.postgres")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS madoguchi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS madoguchi_queries (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    council   TEXT NOT NULL,
    channel   TEXT NOT NULL,
    question  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    reason    TEXT,
    top_ids   JSONB NOT NULL DEFAULT '[]',
    scores    JSONB NOT NULL DEFAULT '[]',
    user_hash TEXT,
    feedback  TEXT,
    event_id  TEXT
);
CREATE INDEX IF NOT EXISTS madoguchi_queries_at ON madoguchi_queries (at);
CREATE INDEX IF NOT EXISTS madoguchi_queries_council_at ON madoguchi_queries (council, at);
CREATE INDEX IF NOT EXISTS madoguchi_queries_event ON madoguchi_queries (event_id);
"""
_INSERT = ("INSERT INTO madoguchi_queries (at, council, channel, question, kind, reason, top_ids, scores,"
           " user_hash, feedback, event_id) VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb,"
           " %s, %s, %s)")
_FEEDBACK = "UPDATE madoguchi_queries SET feedback = %s WHERE council = %s AND event_id = %s"


def _ts(value: datetime) -> float:
    return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()


class PostgresQueryLog(QueuedStore):
    """A `QueryLog` in PostgreSQL; safe to share between threads."""

    def __init__(self, url: str, *, retention_days: float = 90, salt: str | None = None,
                 connect_timeout: int = 5) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self.retention_days = retention_days
        with self._connect() as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(7355608)")  # replicas starting together
            db.execute(_SCHEMA)
            if not salt:
                db.execute("INSERT INTO madoguchi_meta (key, value) VALUES ('salt', %s) "
                           "ON CONFLICT (key) DO NOTHING", (secrets.token_hex(32),))
                salt = db.execute("SELECT value FROM madoguchi_meta WHERE key = 'salt'").fetchone()[0]
        self._salt: str = salt
        self._writer_db: psycopg.Connection | None = None
        self._upkeep()  # retention: purge once on open, then hourly on the writer thread
        self._writer = BatchWriter(self._write, name="querylog-postgres", upkeep=self._upkeep)

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout,
                               application_name="madoguchi")

    # -- writing (on the writer thread) ---------------------------------------------
    def _write(self, items: list) -> None:
        for attempt in (1, 2):  # one reconnect: the server restarted, a proxy dropped us
            try:
                if self._writer_db is None or self._writer_db.closed:
                    self._writer_db = self._connect()
                db = self._writer_db
                with db.transaction(), db.cursor() as cur:
                    rows = [stored_row(i, salt=self._salt) for i in items if isinstance(i, LogEntry)]
                    if rows:
                        cur.executemany(_INSERT, rows)
                    for f in (i for i in items if isinstance(i, Feedback)):
                        cur.execute(_FEEDBACK, (f.value, f.council, f.event_id))
                return
            except psycopg.OperationalError:
                if self._writer_db is not None:
                    self._writer_db.close()
                self._writer_db = None
                if attempt == 2:
                    raise

    # -- the QueryLog protocol -----------------------------------------------------
    def unanswered(self, *, council: str | None, since: float) -> list[UnansweredGroup]:
        from bot.querylog.group import group_questions

        self.flush(timeout=2.0)
        sql = ("SELECT council, question, kind FROM madoguchi_queries WHERE at >= to_timestamp(%s)"
               " AND kind = ANY(%s) AND COALESCE(reason, '') <> ALL(%s) AND channel <> ALL(%s)")
        args: list = [since, list(UNANSWERED_KINDS), list(NOT_QUESTIONS), list(STAFF_CHANNELS)]
        if council:
            sql += " AND council = %s"
            args.append(council)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY at DESC LIMIT 100000", args).fetchall()
        return group_questions(rows)

    def purge(self, *, older_than: float) -> int:
        with self._connect() as db:
            return db.execute("DELETE FROM madoguchi_queries WHERE at < to_timestamp(%s)", (older_than,)).rowcount

    # -- beyond the protocol ---------------------------------------------------------
    def recent(self, *, limit: int = 100, council: str | None = None) -> list[LogEntry]:
        self.flush(timeout=2.0)
        sql = ("SELECT at, council, channel, question, kind, top_ids, scores, user_hash, feedback, event_id, reason"
               " FROM madoguchi_queries" + (" WHERE council = %s" if council else "") +
               " ORDER BY at DESC, id DESC LIMIT %s")
        with self._connect() as db:
            rows = db.execute(sql, [council, limit] if council else [limit]).fetchall()
        return [LogEntry(_ts(r[0]), r[1], r[2], r[3], r[4], tuple(r[5]), tuple(r[6]), r[7], r[8], r[9], r[10])
                for r in rows]

    def feedback_entries(self, *, council: str | None, since: float, limit: int = 1000) -> list[LogEntry]:
        """Answers residents rated (はい／いいえ), newest first."""
        self.flush(timeout=2.0)
        sql = ("SELECT at, council, channel, question, kind, top_ids, scores, user_hash, feedback, event_id, reason"
               " FROM madoguchi_queries WHERE feedback IS NOT NULL AND at >= to_timestamp(%s)"
               + (" AND council = %s" if council else "") + " ORDER BY at DESC, id DESC LIMIT %s")
        with self._connect() as db:
            rows = db.execute(sql, [since, council, limit] if council else [since, limit]).fetchall()
        return [LogEntry(_ts(r[0]), r[1], r[2], r[3], r[4], tuple(r[5]), tuple(r[6]), r[7], r[8], r[9], r[10])
                for r in rows]

    def close(self) -> None:
        self._writer.close()
        if self._writer_db is not None:
            self._writer_db.close()
            self._writer_db = None


def open_store(url: str, *, retention_days: float = 90, salt: str | None = None) -> PostgresQueryLog:
    """The `madoguchi.querylog` entry point `postgresql` (see `bot.querylog.backend`)."""
    return PostgresQueryLog(url, retention_days=retention_days, salt=salt)
