"""`python -m bot report unanswered`: what residents asked that the knowledge did not answer.

Questions that got `fallback` (nothing fitting) or `choices` (not sure which)
are grouped by similarity and counted, biggest group first: the list staff
work through to add aliases, examples or missing services. Slack's
`unanswered` command shows the same lines (`format_groups`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.querylog import QueryLog, UnansweredGroup

__all__ = ["run", "parse_since", "format_groups", "opened_log", "log_source", "NoLog"]

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_UNIT = {"h": 3600.0, "d": 86_400.0, "w": 7 * 86_400.0}
# scheme://[user[:password]@]host[:port][/database][?options]: what a report may name of it
_DB_URL = re.compile(r"^[\w+.-]+://(?:[^/?#]*@)?(?P<host>\[[^\]]*\]|[^:/?]*)(?::(?P<port>\d+))?/?(?P<db>[^?]*)")


def parse_since(since: str | float | None, *, now: float | None = None) -> float:
    """`30d`, `12h`, `2w` (ago) or an ISO date `2026-10-01` → unix time."""
    now = time.time() if now is None else now
    if since is None or since == "":
        return now - 30 * _UNIT["d"]
    if isinstance(since, int | float):
        return float(since)
    m = _SPAN.match(since)
    if m:
        return now - float(m.group(1)) * _UNIT[m.group(2)]
    try:
        return datetime.fromisoformat(since.strip()).timestamp()
    except ValueError:
        raise ValueError(f"--since: expected e.g. 30d, 12h, 2w or 2026-10-01, got {since!r}") from None


def format_groups(groups: Sequence[UnansweredGroup], *, limit: int = 50, council_column: bool = True) -> list[str]:
    """One line per group (count, example, kinds) plus up to two other wordings."""
    lines: list[str] = []
    for g in groups[:limit]:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(g.kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        head = f"{g.council:<12} " if council_column else ""
        lines.append(f"{head}{g.count:>4}件  {_one_line(g.example)}  [{kinds}]")
        others = [_one_line(q) for q in g.questions if q != g.example][:2]
        if others:
            lines.append(f"{'':<{13 if council_column else 0}}      ほかの言い方: " + " / ".join(others))
    if len(groups) > limit:
        lines.append(f"… ほか {len(groups) - limit} グループ")
    return lines


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class NoLog(Exception):
    """No query log to read (message for the user in `args[0]`)."""


def _location(data_dir: Path | None, env: Mapping[str, str]) -> tuple[str | None, Path]:
    """(DATABASE_URL, or None for SQLite; the SQLite folder): --data-dir wins over DATABASE_URL."""
    from bot.querylog.backend import default_data_dir

    database_url = None if data_dir else (env.get("DATABASE_URL") or None)
    return database_url, Path(data_dir) if data_dir else default_data_dir(env)


def log_source(*, data_dir: Path | None, env: Mapping[str, str] | None = None) -> str:
    """Which log a report read, for its last line: a count of 0 means little without it.

    PostgreSQL is named by host, port and database, never with the password.
    """
    from bot.querylog.sqlite import DB_NAME

    e = os.environ if env is None else env
    database_url, folder = _location(data_dir, e)
    if database_url:
        m = _DB_URL.match(database_url)
        host, port, db = (m.group("host"), m.group("port"), m.group("db")) if m else ("", None, "")
        return f"PostgreSQL {host or 'localhost'}:{port or 5432}/{db} (DATABASE_URL)"
    why = "--data-dir" if data_dir else ("MADOGUCHI_DATA_DIR" if e.get("MADOGUCHI_DATA_DIR") else
                                         "the default; set MADOGUCHI_DATA_DIR or --data-dir for another")
    return f"{folder / DB_NAME} ({why})"


@contextmanager
def opened_log(*, data_dir: Path | None, env: Mapping[str, str] | None = None) -> Iterator[QueryLog]:
    """The configured query log for a report, closed afterwards; `NoLog` when there is none."""
    from bot.querylog.backend import StoreUnavailable, open_querylog
    from bot.querylog.sqlite import DB_NAME

    e = os.environ if env is None else env
    database_url, folder = _location(data_dir, e)
    if database_url is None and not (folder / DB_NAME).exists():
        raise NoLog(f"no query log at {folder / DB_NAME} (set MADOGUCHI_DATA_DIR or --data-dir)")
    try:
        store = open_querylog(data_dir=folder, database_url=database_url,
                              retention_days=float(e.get("MADOGUCHI_RETENTION_DAYS", "90")),
                              salt=e.get("MADOGUCHI_HASH_SALT") or None)
    except StoreUnavailable as exc:
        raise NoLog(str(exc)) from None
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def run(
    *,
    council: str | None,
    since: str | float | None,
    data_dir: Path | None,
    out: TextIO,
    env: Mapping[str, str] | None = None,
    limit: int = 50,
) -> int:
    """Print the grouped unanswered questions; 0 on success, 1 when there is no log to read."""
    try:
        start = parse_since(since)
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 2
    try:
        with opened_log(data_dir=data_dir, env=env) as store:
            groups = store.unanswered(council=council, since=start)
    except NoLog as exc:
        out.write(f"{exc.args[0]}\n")
        return 1
    span = f"{datetime.fromtimestamp(start):%Y-%m-%d %H:%M} 以降"
    where = f"、{council}" if council else ""
    out.write(f"答えられなかった質問（fallback・choices）{span}{where}: "
              f"{sum(g.count for g in groups)}件、{len(groups)}グループ\n")
    for line in format_groups(groups, limit=limit, council_column=not council):
        out.write(line + "\n")
    out.write(f"クエリログ: {log_source(data_dir=data_dir, env=env)}\n")
    return 0
