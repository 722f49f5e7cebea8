"""Tap-to-call: hotlines and contact windows as `tel:` buttons, not only text.

A resident in distress should not have to copy a number. Hotline numbers
are short (110, 189) or start with # (#8008, #7119); `#` must be written
%23 in a URI, or the dialler cuts the number there. A window's number is
used only when it is a full phone number (`flex.tel_uri`): never guessed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from urllib.parse import quote

from adapters.line.limits import ALT_MAX, Message, QuickItem, cut, tel_uri, text_message, with_quick
from adapters.line.texts import T
from bot.answer import label
from bot.knowledge.model import Contact, Hotline
from bot.render import hotline_line, window_lines

__all__ = ["hotline_tel", "hotlines_message", "window_message"]

_GRAY = "#888888"
_ALERT = "#C0392B"
_DIALABLE = frozenset("0123456789#*+")


def hotline_tel(number: str) -> str | None:
    """`tel:` URI for a hotline number as printed (`#8008` → `tel:%238008`); None when it has no digits."""
    kept = "".join(ch for ch in unicodedata.normalize("NFKC", number) if ch in _DIALABLE)
    if not any(ch.isdigit() for ch in kept):
        return None
    return "tel:" + quote(kept, safe="+*")


def _call_button(uri: str, text: str, *, primary: bool) -> dict:
    button = {"type": "button", "style": "primary" if primary else "secondary", "height": "sm", "margin": "sm",
              "action": {"type": "uri", "label": label(text), "uri": uri}}
    if primary:
        button["color"] = _ALERT
    return button


def _alt(lines: Sequence[str]) -> str:
    return cut("\n".join(lines), ALT_MAX)


def _bubble(alt: str, body: list[dict], *, spacing: str, quick: Sequence[QuickItem]) -> Message:
    return with_quick({"type": "flex", "altText": alt, "contents": {
        "type": "bubble", "body": {"type": "box", "layout": "vertical", "spacing": spacing, "contents": body}}}, quick)


def hotlines_message(hotlines: Sequence[Hotline], *, lead: str = "", quick: Sequence[QuickItem] = ()) -> Message:
    """One bubble: `lead` (a kind line, optional), then each line with its number and a call button."""
    body: list[dict] = []
    if lead:
        body.append({"type": "text", "text": cut(lead, 600), "size": "sm", "wrap": True})
    for i, h in enumerate(hotlines):
        name = {"type": "text", "text": cut(h.name, 100), "size": "sm", "weight": "bold", "wrap": True}
        if body:
            name["margin"] = "lg"
        body.append(name)
        detail = h.number + (f"（{h.hours}）" if h.hours else "")
        body.append({"type": "text", "text": cut(detail, 200), "size": "xs", "color": _GRAY, "wrap": True})
        uri = hotline_tel(h.number)
        if uri:
            body.append(_call_button(uri, T.call_number.format(number=h.number), primary=i == 0))
    alt = _alt([*(hotline_line(h) for h in hotlines), lead] if lead else [hotline_line(h) for h in hotlines])
    return _bubble(alt or T.call, body, spacing="xs", quick=quick)


def window_message(window: Contact, *, quick: Sequence[QuickItem] = ()) -> Message:
    """The window as text, or as a bubble with a call button once its phone number is known."""
    lines = window_lines(window)
    uri = tel_uri(window.phone)
    if uri is None:
        return text_message("\n".join(lines), quick=quick)
    body = [{"type": "text", "text": cut(line, 300), "size": "sm", "wrap": True} for line in lines]
    body.append(_call_button(uri, T.call, primary=False))
    return _bubble(_alt(lines), body, spacing="sm", quick=quick)
