"""LINE's limits on what a reply may hold, the helpers that keep text within them, and the
message shapes themselves.

From the Messaging API reference: ≤5 messages, text ≤5,000 UTF-16 code
units, altText ≤1,500, bubble JSON ≤30 KB, ≤13 quick replies with labels
≤20 and displayText ≤300.

Messages are built as the plain JSON objects LINE reads (`Message`), not as
line-bot-sdk's pydantic models: building, then serialising, a model per
component cost more CPU per reply than answering the question, and checked
nothing the tests do not. Every reply the knowledge can produce is checked
against LINE's OpenAPI spec and parsed by the SDK's own request model in
`tests/line/test_limits.py`; the fake API checks every body it is sent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from typing import Any

__all__ = ["MAX_MESSAGES", "TEXT_MAX", "ALT_MAX", "BUBBLE_MAX", "QUICK_MAX", "LABEL_MAX", "DISPLAY_MAX", "PAGE",
           "Message", "QuickItem", "utf16_len", "cut", "text_message", "with_quick", "tel_uri"]

Message = dict[str, Any]  # one message object of the Messaging API, as sent
QuickItem = dict[str, Any]  # one quick-reply button: {"type": "action", "action": {...}}

MAX_MESSAGES = 5
TEXT_MAX = 5_000  # UTF-16 code units
ALT_MAX = 1_500
BUBBLE_MAX = 30_000  # bytes of the container JSON ("30 KB"; the stricter reading)
QUICK_MAX = 13
LABEL_MAX = 20
DISPLAY_MAX = 300
PAGE = QUICK_MAX - 1  # when a list is longer than 13: 12 items and 「もっと見る」

# -- text limits --------------------------------------------------------------
def utf16_len(text: str) -> int:
    """Length as LINE counts it (UTF-16 code units: an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 code units, ending in … when cut; never splits a character."""
    if utf16_len(text) <= limit:
        return text
    out, used = [], 1  # room for the ellipsis
    for ch in text:
        n = 2 if ord(ch) > 0xFFFF else 1
        if used + n > limit:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + "…"


def with_quick(message: Message, quick: Sequence[QuickItem]) -> Message:
    """`message` with `quick` as its quick replies (none when empty)."""
    if quick:
        message["quickReply"] = {"items": list(quick)}
    return message


def text_message(text: str, *, quick: Sequence[QuickItem] = ()) -> Message:
    return with_quick({"type": "text", "text": cut(text, TEXT_MAX)}, quick)


# -- actions ------------------------------------------------------------------
_PHONE = re.compile(r"\+?\d[\d\-()\s]{7,}\d")


def tel_uri(phone: str | None) -> str | None:
    """`tel:0144327111` for the first full phone number in `phone`, else None (never guessed)."""
    if not phone:
        return None
    for m in _PHONE.finditer(unicodedata.normalize("NFKC", phone)):
        digits = re.sub(r"[^\d+]", "", m.group())
        if 10 <= len(digits.lstrip("+")) <= 13:
            return "tel:" + digits
    return None
