"""Is a verified Slack body one of Slack's shapes? Checked before bolt sees it.

bolt and the listeners read fields with `.get` and string functions: an
`event` that is null or a list, a `text` that is a number, a form whose
`payload` is empty, or JSON nested a thousand deep made them raise, and the
webhook answered 500 with a traceback. Only the fields something here reads
are checked, each for its type; anything else passes through untouched.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

__all__ = ["well_formed", "valid_timestamp", "MAX_DEPTH"]

MAX_DEPTH = 32  # Slack's payloads are a few levels deep; Block Kit stays far below this
_EVENT_STRINGS = ("type", "channel", "user", "text", "ts", "thread_ts", "channel_type", "subtype", "bot_id",
                  "event_ts")
_TOP_STRINGS = ("type", "event_id", "trigger_id", "team_id", "api_app_id", "token")
_PAYLOAD_OBJECTS = ("user", "channel", "container", "message", "team", "view")
_ACTION_STRINGS = ("action_id", "block_id", "value", "type")


def valid_timestamp(value: str | None) -> bool:
    """X-Slack-Request-Timestamp is whole seconds: ASCII digits only (no `1e9`, `NaN`, sign or space)."""
    return bool(value) and value.isascii() and value.isdigit() and len(value) <= 12


def _depth(node: Any, limit: int) -> bool:
    """True when `node` nests at most `limit` containers deep (iterative: no recursion to exhaust)."""
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children)
    return True


def _strings(obj: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return all(obj.get(k) is None or isinstance(obj.get(k), str) for k in keys)


def _event_body(body: Any) -> bool:
    if not isinstance(body, dict) or not _strings(body, _TOP_STRINGS):
        return False
    if "event" in body:
        event = body["event"]
        if not isinstance(event, dict) or not _strings(event, _EVENT_STRINGS):
            return False
    auth = body.get("authorizations")
    return auth is None or (isinstance(auth, list) and all(isinstance(a, dict) for a in auth))


def _payload(payload: Any) -> bool:
    if not isinstance(payload, dict) or not _strings(payload, (*_TOP_STRINGS, "response_url")):
        return False
    if any(payload.get(k) is not None and not isinstance(payload[k], dict) for k in _PAYLOAD_OBJECTS):
        return False
    for key in ("user", "channel", "team"):
        if not _strings(payload.get(key) or {}, ("id",)):
            return False
    if not _strings(payload.get("message") or {}, ("ts", "thread_ts")):
        return False
    actions = payload.get("actions")
    if actions is None:
        return True
    return isinstance(actions, list) and all(isinstance(a, dict) and _strings(a, _ACTION_STRINGS) for a in actions)


def _json(text: str) -> Any:
    """The parsed JSON, or raise ValueError (also for nesting too deep to be Slack's)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not _depth(value, MAX_DEPTH):
        raise ValueError("nested too deep")
    return value


def well_formed(body: bytes, content_type: str) -> bool:
    """A JSON event body, or a form (slash command, or interaction with a JSON `payload`), of Slack's shapes."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return _event_body(_json(text))
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            return _payload(_json(form["payload"][0]))
        return True
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return False
