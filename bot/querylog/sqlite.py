"""The default query log: one SQLite file in the data folder, nothing to run.

`querylog.sqlite3` in MADOGUCHI_DATA_DIR, WAL mode, written by one background
thread (`BatchWriter`). Rows older than the retention period (90 days unless
configured) are deleted when the store opens and every hour after. User ids
are kept only as HMAC hashes keyed by a salt: MADOGUCHI_HASH_SALT, else a
random salt created once in the data folder (`salt`, readable by the owner
only), so hashes stay stable across restarts but mean nothing elsewhere.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.querylog import NOT_QUESTIONS, STAFF_CHANNELS, UNANSWERED_KINDS, LogEntry, UnansweredGroup, clean_question, hash_user
from bot.querylog.writer import BatchWriter, QueuedStore

__all__ = ["SqliteQueryLog", "DB_NAME", "load_salt"]

DB_NAME = "querylog.sqlite3"
SALT_NAME = "salt"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    id        INTEGER PRIMARY KEY,
    at        REAL NOT NULL,
    council   TEXT NOT NULL,
    channel   TEXT NOT NULL,
    question  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    reason    TEXT,
    top_ids   TEXT NOT NULL DEFAULT '[]',
    scores    TEXT NOT NULL DEFAULT '[]',
    user_hash TEXT,
    feedback  TEXT,
    event_id  TEXT
);
CREATE INDEX IF NOT EXISTS queries_at ON queries (at);
CREATE INDEX IF NOT EXISTS queries_council_at ON queries (council, at);
CREATE INDEX IF NOT EXISTS queries_event ON queries (event_id);
"""


def load_salt(data_dir: Path) -> str:
    """The salt of this installation: read from `data_dir/salt`, created on first use."""
    path = data_dir / SALT_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(salt + "\n")
    return salt


def stored_row(entry: LogEntry, *, salt: str) -> tuple:
    """The privacy-safe column values of an entry (masked, cut, user id key-hashed)."""
    return (
        float(entry.at), entry.council, entry.channel, clean_question(entry.question), entry.kind,
        entry.reason, json.dumps(list(entry.top_ids)), json.dumps([float(s) for s in entry.scores]),
        hash_user(entry.user_hash, salt=salt) if entry.user_hash else None, entry.feedback, entry.event_id,
    )


_INSERT = ("INSERT INTO queries (at, council, channel, question, kind, reason, top_ids, scores, user_hash,"
           " feedback, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_FEEDBACK = "UPDATE queries SET feedback = ? WHERE council = ? AND event_id = ?"


class SqliteQueryLog(QueuedStore):
    """A `QueryLog` in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str, *, retention_days: float = 90, salt: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.retention_days = retention_days
        self._salt = salt or load_salt(self.path.parent)
        # Owner-only from the first byte; SQLite gives its -wal/-shm files the same mode.
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._session() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        self._writer_db: sqlite3.Connection | None = None
        self._upkeep()  # retention: purge once on open, then hourly on the writer thread
        self._writer = BatchWriter(self._write, name="querylog-sqlite", upkeep=self._upkeep)

    @classmethod
    def in_dir(cls, data_dir: Path | str, **options) -> SqliteQueryLog:
        return cls(Path(data_dir) / DB_NAME, **options)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    # -- writing (on the writer thread) ---------------------------------------------
    def _write(self, items: list) -> None:
        if self._writer_db is None:
            self._writer_db = self._connect()
        db = self._writer_db
        db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                if isinstance(item, LogEntry):
                    db.execute(_INSERT, stored_row(item, salt=self._salt))
                else:
                    db.execute(_FEEDBACK, (item.value, item.council, item.event_id))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite has rolled back itself after "disk is full"
                db.execute("ROLLBACK")
            raise

    # -- the QueryLog protocol -----------------------------------------------------
    def unanswered(self, *, council: str | None, since: float) -> list[UnansweredGroup]:
        from bot.querylog.group import group_questions

        self.flush(timeout=2.0)
        sql = (f"SELECT council, question, kind FROM queries WHERE at >= ? AND kind IN "
               f"({','.join('?' * len(UNANSWERED_KINDS))}) AND COALESCE(reason, '') NOT IN "
               f"({','.join('?' * len(NOT_QUESTIONS))}) AND channel NOT IN ({','.join('?' * len(STAFF_CHANNELS))})")
        args: list = [since, *UNANSWERED_KINDS, *NOT_QUESTIONS, *STAFF_CHANNELS]
        if council:
            sql += " AND council = ?"
            args.append(council)
        with self._session() as db:
            rows = db.execute(sql + " ORDER BY at DESC LIMIT 100000", args).fetchall()
        return group_questions(rows)

    def purge(self, *, older_than: float) -> int:
        """Delete entries older than `older_than` (unix time); returns how many."""
        with self._session() as db:
            return db.execute("DELETE FROM queries WHERE at < ?", (older_than,)).rowcount

    # -- beyond the protocol ---------------------------------------------------------
    def recent(self, *, limit: int = 100, council: str | None = None) -> list[LogEntry]:
        """The newest entries as stored (masked, hashed), newest first."""
        return self._select("1 = 1", [], council=council, limit=limit)

    def feedback_entries(self, *, council: str | None, since: float, limit: int = 1000) -> list[LogEntry]:
        """Answers residents rated (はい／いいえ), newest first."""
        return self._select("feedback IS NOT NULL AND at >= ?", [since], council=council, limit=limit)

    def _select(self, where: str, args: list, *, council: str | None, limit: int) -> list[LogEntry]:
        self.flush(timeout=2.0)
        sql = "SELECT at, council, channel, question, kind, top_ids, scores, user_hash, feedback, event_id, reason"
        sql += f" FROM queries WHERE {where}" + (" AND council = ?" if council else "") + " ORDER BY at DESC, id DESC LIMIT ?"
        with self._session() as db:
            rows = db.execute(sql, [*args, *([council] if council else []), limit]).fetchall()
        return [LogEntry(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), tuple(json.loads(r[6])),
                         r[7], r[8], r[9], r[10]) for r in rows]

    def close(self) -> None:
        self._writer.close()
        if self._writer_db is not None:
            self._writer_db.close()
            self._writer_db = None
