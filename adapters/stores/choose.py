"""Pick the stores from the configuration: shared ones when their URL is set."""

from __future__ import annotations

import logging

from adapters.config import Config
from adapters.dedupe import Dedupe, MemoryDedupe
from bot.querylog import QueryLog
from bot.querylog.backend import open_querylog

__all__ = ["choose_stores", "choose_outbox", "describe_url"]

log = logging.getLogger("madoguchi.stores")


def describe_url(url: str) -> str:
    """A URL fit for logs: scheme, host and path, never the user or password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def choose_stores(config: Config, *, problems: dict[str, str] | None = None) -> tuple[Dedupe, QueryLog | None]:
    """REDIS_URL → Redis dedupe, DATABASE_URL → PostgreSQL log; else both in SQLite in the data dir.

    A query log that cannot be opened (read-only or unusable data dir, database
    down) is no reason not to answer: the server runs without it, and the
    cause goes into `problems` (shown by /healthz).
    """
    if config.redis_url:
        from adapters.stores.redis_dedupe import RedisDedupe

        dedupe: Dedupe = RedisDedupe(config.redis_url, ttl=int(config.max_event_age))
        log.info("duplicate-event memory in redis", extra={"store": describe_url(config.redis_url)})
    else:
        from adapters.stores.sqlite_dedupe import SqliteDedupe

        try:
            dedupe = SqliteDedupe.in_dir(config.data_dir, ttl=config.max_event_age)
        except Exception as exc:  # unusable data dir: remember in memory (lost on restart), say so
            dedupe = MemoryDedupe(ttl=config.max_event_age)
            log.error("duplicate-event memory cannot be kept in %s (%s); in memory only", config.data_dir, exc)
            if problems is not None:
                problems["dedupe"] = f"{type(exc).__name__}: {exc}"[:300]
    where = describe_url(config.database_url) if config.database_url else str(config.data_dir)
    try:
        querylog = open_querylog(data_dir=config.data_dir, database_url=config.database_url,
                                 retention_days=config.retention_days, salt=config.hash_salt or None)
    except Exception as exc:
        cause = f"{type(exc).__name__}: {exc}"[:300]
        log.error("query log in %s cannot be opened (%s); serving without it", where, cause)
        if problems is not None:
            problems["querylog"] = cause
        return dedupe, None
    log.info("query log in %s", where, extra={"store": type(querylog).__name__})
    return dedupe, querylog


def choose_outbox(config: Config):
    """DATABASE_URL → the outbox in PostgreSQL (shared by replicas); else None: SQLite in the data dir,
    opened by `Runtime.open_outbox` when the LINE webhook first needs it."""
    if not config.database_url:
        return None
    from adapters.stores.postgres_outbox import PostgresOutbox

    log.info("LINE outbox in %s", describe_url(config.database_url))
    return PostgresOutbox(config.database_url, max_pending=config.outbox_max)
