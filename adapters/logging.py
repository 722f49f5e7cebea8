"""Structured logs: one JSON object per line on stderr, with nothing secret in them.

Every record, from our loggers and from uvicorn, the SDKs and the stores,
goes through `JsonFormatter`:
- known secrets (LINE channel secrets and tokens, Slack signing secret and
  tokens, the hash salt, passwords in REDIS_URL/DATABASE_URL) are replaced
  by `***` wherever they appear, and so are things that look like secrets
  (xoxb-…, Bearer …, `token=…`, `user:password@` in URLs);
- free text (the message, string extras, tracebacks) is masked with
  `bot.querylog.mask.mask_text`, the same masking as the query log, so a
  phone number a resident typed never reaches a log file (digits inside an
  ASCII word, like a webhook event id, are kept so lines can be correlated).
  Id-like extras (`event_id`, `council`, `path`, …) are only redacted.
Extras passed with `extra={...}` become fields of the JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from bot.querylog.mask import mask_text

__all__ = ["JsonFormatter", "Redactor", "setup", "config_secrets"]

MIN_SECRET = 6  # shorter values would redact ordinary words
_ID_KEYS = frozenset({"event_id", "request_id", "council", "channel", "kind", "reason", "path", "method", "status",
                      "store", "source", "logger", "level", "ts", "service", "top_id", "error"})
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName", "color_message"}
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]+"), "xox*-***"),
    (re.compile(r"xapp-[A-Za-z0-9-]+"), "xapp-***"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 ***"),
    (re.compile(r"(?i)((?:authorization|x-line-signature|x-slack-signature|signing_secret|signing-secret|"
                r"access_token|access-token|channel_secret|channel-secret|client_secret|password|passwd|token|"
                r"secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"), r"\1***"),
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1***@"),
)


class Redactor:
    """Replaces known secret values and secret-looking strings with `***`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        known = set(self._secrets) | {v for v in values if v and len(v) >= MIN_SECRET}
        self._secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, "***")
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text


def config_secrets(config: Any) -> list[str]:
    """Every secret value in an `adapters.config.Config` (and the URLs that carry passwords)."""
    from urllib.parse import urlsplit

    values: list[str | None] = [config.slack_signing_secret, config.slack_bot_token, config.slack_app_token,
                                config.hash_salt, config.handoff_key]
    for ch in config.line.values():
        values += [ch.secret, ch.token]
    for url in (config.redis_url, config.database_url):
        if url:
            try:
                values.append(urlsplit(url).password)
            except ValueError:
                values.append(url)
    return [v for v in values if v]


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def _clean(self, key: str, value: Any) -> Any:
        if isinstance(value, str):
            value = self.redactor(value)
            return value if key in _ID_KEYS else mask_text(value, keep_ids=True)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, dict):
            return {str(k): self._clean(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(key, v) for v in value]
        return self._clean(key, str(value))

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        obj: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": self._clean("msg", message),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in obj:
                obj[key] = self._clean(key, value)
        if record.exc_info:
            obj["exc"] = self._clean("exc", self.formatException(record.exc_info))
        elif record.stack_info:
            obj["stack"] = self._clean("stack", record.stack_info)
        return json.dumps(obj, ensure_ascii=False, default=str)


def setup(
    *, secrets: Iterable[str | None] = (), level: int | str = logging.INFO, stream: TextIO | None = None
) -> Redactor:
    """Send all logging to `stream` (stderr) as JSON lines; returns the redactor (add secrets later)."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.setLevel(logging.NOTSET)  # inherit the root level, whatever uvicorn configured before
        lg.propagate = True
    return redactor
