"""Build and sign LINE webhook bodies exactly as the platform does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

__all__ = ["sign", "body", "text", "event", "mention", "BOT_ID", "USER_ID"]

BOT_ID = "U0000000000000000000000000000b0t"  # the webhook's `destination`
USER_ID = "U1234567890abcdef1234567890abcdef"
_seq = itertools.count(1)


def sign(secret: str, raw: bytes) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def body(*events: dict, destination: str = BOT_ID) -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()


def _event_id() -> str:
    return f"01J{next(_seq):023d}"


def event(kind: str, *, source: dict | None = None, reply: bool = True, event_id: str | None = None,
          redelivery: bool = False, **fields: Any) -> dict:
    e: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": USER_ID},
        "webhookEventId": event_id or _event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply:
        e["replyToken"] = f"rt-{e['webhookEventId']}"
    e.update(fields)
    return e


def text(message: str, *, mention_: dict | None = None, **kw: Any) -> dict:
    content: dict[str, Any] = {"id": str(next(_seq)), "type": "text", "text": message, "quoteToken": "qt"}
    if mention_:
        content["mention"] = mention_
    return event("message", message=content, **kw)


def mention(text_: str, name: str, *, is_self: bool | None = True, user_id: str | None = None) -> dict:
    """A mention of `name` (e.g. "@まどぐち") inside `text_`."""
    idx = len(text_[: text_.index(name)].encode("utf-16-le")) // 2
    m: dict[str, Any] = {"index": idx, "length": len(name.encode("utf-16-le")) // 2, "type": "user"}
    if is_self is not None:
        m["isSelf"] = is_self
    if user_id:
        m["userId"] = user_id
    return {"mentionees": [m]}


def group(group_id: str = "Cgroup0001") -> dict:
    return {"type": "group", "groupId": group_id, "userId": USER_ID}


def room(room_id: str = "Rroom0001") -> dict:
    return {"type": "room", "roomId": room_id, "userId": USER_ID}


MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {"type": "sticker", "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC",
                "quoteToken": "qt"},
    "image": {"type": "image", "contentProvider": {"type": "line"}, "quoteToken": "qt"},
    "audio": {"type": "audio", "duration": 1000, "contentProvider": {"type": "line"}},
    "video": {"type": "video", "duration": 1000, "contentProvider": {"type": "line"}, "quoteToken": "qt"},
    "file": {"type": "file", "fileName": "a.pdf", "fileSize": 10},
    "location": {"type": "location", "title": "市役所", "address": "北海道苫小牧市", "latitude": 42.6,
                 "longitude": 141.6},
}


def media(kind: str, **kw: Any) -> dict:
    return event("message", message={"id": str(next(_seq)), **MEDIA[kind]}, **kw)


def postback(data: str, **kw: Any) -> dict:
    return event("postback", postback={"data": data}, **kw)
