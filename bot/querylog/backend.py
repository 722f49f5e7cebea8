"""Open the configured query log: PostgreSQL when a database URL is given, else SQLite.

The core never imports network drivers: the PostgreSQL store lives in the
adapters and is found through the `madoguchi.querylog` entry point group
(name `postgresql`), the same way the `serve` command is plugged in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

from bot.querylog import QueryLog

__all__ = ["open_querylog", "default_data_dir", "StoreUnavailable"]


class StoreUnavailable(RuntimeError):
    """The configured store cannot be used (driver not installed, …)."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """MADOGUCHI_DATA_DIR, else `$XDG_DATA_HOME/madoguchi` (`~/.local/share/madoguchi`); the
    server and the reports share it. XDG_DATA_HOME is the process's own: a test session points
    it at a fresh folder and never touches a real home."""
    e = os.environ if env is None else env
    if e.get("MADOGUCHI_DATA_DIR"):
        return Path(e["MADOGUCHI_DATA_DIR"])
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "madoguchi"


def open_querylog(
    *,
    data_dir: Path | str | None = None,
    database_url: str | None = None,
    retention_days: float = 90,
    salt: str | None = None,
) -> QueryLog:
    """The PostgreSQL store for `database_url`, else `querylog.sqlite3` in `data_dir`."""
    if database_url:
        scheme = database_url.split(":", 1)[0]
        if scheme not in ("postgres", "postgresql"):
            raise StoreUnavailable(f"unsupported DATABASE_URL scheme {scheme!r} (use postgresql://)")
        found = [ep for ep in entry_points(group="madoguchi.querylog") if ep.name == "postgresql"]
        if not found:
            raise StoreUnavailable("DATABASE_URL is set but the PostgreSQL store is not installed "
                                   "(pip install 'madoguchi[ops]')")
        return found[0].load()(database_url, retention_days=retention_days, salt=salt)
    from bot.querylog.sqlite import SqliteQueryLog

    return SqliteQueryLog.in_dir(Path(data_dir) if data_dir else default_data_dir(),
                                 retention_days=retention_days, salt=salt or None)
