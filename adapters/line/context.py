"""What a LINE event handler is given (`Context`) and returns (`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.alerts import Alert
from adapters.line.limits import Message
from adapters.runtime import Runtime
from bot.querylog import LogEntry

__all__ = ["Context", "Reply"]


@dataclass(frozen=True, slots=True)
class Context:
    runtime: Runtime
    council: str
    bot_user_id: str | None = None  # the webhook's `destination`: the bot's own user id


@dataclass(frozen=True, slots=True)
class Reply:
    messages: list[Message]
    entry: LogEntry | None = None  # the question, for the query log
    feedback: tuple[str, str] | None = None  # (question's event id, yes|no)
    alert: Alert | None = None  # an emergency: staff are told after the resident is answered
    encoded: bytes | None = None  # `messages` as sent (client.encode_messages), made off the event loop
