"""LINE's webhook JSON, read once into the few fields the bot uses.

The signature is checked by line-bot-sdk (`SignatureValidator`) on the raw
body; the body is then parsed once with `json.loads`. line-bot-sdk's
`WebhookParser` builds pydantic models per event (about 40 µs at the
webhook and 33 µs again at delivery, a quarter of what a bare echo bot
spends on a whole request) and checks nothing the bot relies on: a field of
the wrong type is simply absent here (`None`, or left out), the same as an
event LINE did not fill.
Reading never raises for any JSON value, so a signed but odd event is
ignored or answered with the menu, never a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LineEvent", "Source", "Content", "Mentionee", "read_event", "NotAWebhook", "webhook_events"]


class NotAWebhook(ValueError):
    """A signed body that is not a webhook: not a JSON object with an `events` list of objects."""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Mentionee:
    index: int  # in UTF-16 code units, as LINE counts
    length: int
    is_self: bool
    user_id: str | None


@dataclass(frozen=True, slots=True)
class Source:
    type: str  # user | group | room
    user_id: str | None = None
    group_id: str | None = None
    room_id: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """A message event's `message`: its type, and for text its text and mentions."""

    type: str
    text: str | None = None
    mentionees: tuple[Mentionee, ...] = ()


@dataclass(frozen=True, slots=True)
class LineEvent:
    type: str
    mode: str
    source: Source
    reply_token: str | None = None
    webhook_event_id: str | None = None
    message: Content | None = None
    postback_data: str | None = None


def _mentionees(mention: Any) -> tuple[Mentionee, ...]:
    found = []
    listed = _dict(mention).get("mentionees")
    for m in listed if isinstance(listed, list) else ():
        m = _dict(m)
        index, length = _int(m.get("index")), _int(m.get("length"))
        if index is None or length is None or index < 0 or length < 0:
            continue
        found.append(Mentionee(index, length, m.get("isSelf") is True, _str(m.get("userId"))))
    return tuple(found)


def read_event(raw: Any) -> LineEvent:
    """The fields of one webhook event the handlers use; never raises."""
    raw = _dict(raw)
    src = _dict(raw.get("source"))
    source = Source(_str(src.get("type")) or "user", _str(src.get("userId")), _str(src.get("groupId")),
                    _str(src.get("roomId")))
    message = None
    if isinstance(raw.get("message"), dict):
        m = raw["message"]
        message = Content(_str(m.get("type")) or "", _str(m.get("text")), _mentionees(m.get("mention")))
    return LineEvent(type=_str(raw.get("type")) or "", mode=_str(raw.get("mode")) or "active", source=source,
                     reply_token=_str(raw.get("replyToken")), webhook_event_id=_str(raw.get("webhookEventId")),
                     message=message, postback_data=_str(_dict(raw.get("postback")).get("data")))


def webhook_events(body: Any) -> tuple[str | None, list[dict]]:
    """(destination, events) of a parsed webhook body; `NotAWebhook` when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise NotAWebhook("not a JSON object with an events list")
    events = body["events"]
    if not all(isinstance(e, dict) for e in events):
        raise NotAWebhook("an event is not a JSON object")
    return _str(body.get("destination")), events
