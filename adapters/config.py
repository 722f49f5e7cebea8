"""Deployment settings, read only from the environment (secrets never from files)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.querylog.backend import default_data_dir

__all__ = ["LineChannel", "Config", "env_suffix"]


def env_suffix(council_id: str) -> str:
    """The environment-variable suffix of a council: `kiyose` → `KIYOSE`, `a-b` → `A_B`."""
    return council_id.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class LineChannel:
    council: str
    secret: str
    token: str

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return f"LineChannel(council={self.council!r}, secret=***, token=***)"


@dataclass(frozen=True, slots=True)
class Config:
    knowledge: Path | None = None
    default_council: str | None = None
    line_api: str = "https://api.line.me"
    line_api_data: str = "https://api-data.line.me"  # rich-menu images go here
    loading_after: float = 1.0  # seconds without an answer before LINE shows the loading animation
    line: dict[str, LineChannel] = field(default_factory=dict)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api: str = "https://slack.com/api/"
    slack_settings: Path | None = None
    data_dir: Path = Path(".madoguchi")
    retention_days: int = 90
    hash_salt: str = field(default="", repr=False)
    redis_url: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    max_body: int = 256 * 1024
    outbox_max: int = 2000  # LINE events waiting to be answered before the webhook answers 503
    line_timeout: float = 5.0  # seconds one call to the Messaging API may take before it is retried
    max_event_age: float = 86_400.0  # older events are refused as replays; duplicates are remembered this long
    reply_window: float = 50.0  # seconds after an event its reply token is used; a push afterwards
    handoff_key: str | None = field(default=None, repr=False)  # Fernet key; no key, no handoffs
    handoff_days: float = 7.0  # an open handoff closes itself after this many days
    handoff_hours: str = "mon-fri 08:30-17:15"  # when staff read handoffs (Japan time)

    @classmethod
    def from_env(cls, councils: list[str], env: Mapping[str, str] | None = None, **overrides) -> Config:
        """Read LINE_*__<COUNCIL>, SLACK_*, MADOGUCHI_* and friends for `councils`."""
        e = os.environ if env is None else env
        default = e.get("MADOGUCHI_COUNCIL") or None
        line: dict[str, LineChannel] = {}
        for c in councils:
            sfx = env_suffix(c)
            secret = e.get(f"LINE_CHANNEL_SECRET__{sfx}")
            token = e.get(f"LINE_CHANNEL_ACCESS_TOKEN__{sfx}")
            if not (secret and token) and c == default:
                secret, token = e.get("LINE_CHANNEL_SECRET"), e.get("LINE_CHANNEL_ACCESS_TOKEN")
            if secret and token:
                line[c] = LineChannel(c, secret, token)
        data_dir = default_data_dir(e)
        values = dict(
            default_council=default,
            line_api=e.get("LINE_API_ENDPOINT", "https://api.line.me").rstrip("/"),
            line_api_data=e.get("LINE_API_DATA_ENDPOINT") or e.get("LINE_API_ENDPOINT") or "https://api-data.line.me",
            line=line,
            slack_signing_secret=e.get("SLACK_SIGNING_SECRET") or None,
            slack_bot_token=e.get("SLACK_BOT_TOKEN") or None,
            slack_app_token=e.get("SLACK_APP_TOKEN") or None,
            slack_api=e.get("SLACK_API_URL", "https://slack.com/api/"),
            slack_settings=Path(e["MADOGUCHI_SLACK_SETTINGS"]) if e.get("MADOGUCHI_SLACK_SETTINGS") else None,
            data_dir=data_dir,
            retention_days=int(e.get("MADOGUCHI_RETENTION_DAYS", "90")),
            hash_salt=e.get("MADOGUCHI_HASH_SALT", ""),
            redis_url=e.get("REDIS_URL") or None,
            database_url=e.get("DATABASE_URL") or None,
            outbox_max=int(e.get("MADOGUCHI_OUTBOX_MAX", "2000")),
            line_timeout=float(e.get("MADOGUCHI_LINE_TIMEOUT", "5")),
            reply_window=float(e.get("MADOGUCHI_REPLY_WINDOW", "50")),
            max_event_age=float(e.get("MADOGUCHI_MAX_EVENT_AGE", "86400")),
            handoff_key=e.get("MADOGUCHI_HANDOFF_KEY") or None,
            handoff_days=float(e.get("MADOGUCHI_HANDOFF_DAYS", "7")),
            handoff_hours=e.get("MADOGUCHI_HANDOFF_HOURS", "mon-fri 08:30-17:15"),
        )
        values.update(overrides)
        return cls(**values)
