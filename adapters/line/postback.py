"""What a LINE button carries back: a small, versionless query string.

Postback data is echoed to us by LINE (≤300 characters) and can be forged by
nobody but the signed webhook, yet it is still parsed defensively: unknown or
malformed data simply shows the menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote_plus

__all__ = ["Action", "Postback", "encode", "decode", "DATA_MAX"]

DATA_MAX = 300  # LINE: postback data ≤300 characters

Action = Literal["svc", "cat", "menu", "fb", "ho", "call", "sos"]
_ACTIONS: frozenset[str] = frozenset(("svc", "cat", "menu", "fb", "ho", "call", "sos"))
_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*")  # what quote_plus leaves as it is, and "/" (service ids)


@dataclass(frozen=True, slots=True)
class Postback:
    """`svc` a service id, `cat` a category id (+page), `menu` (+page), `fb` yes/no,
    `ho` ask for a person (value yes/no: the answer to the consent question),
    `call` the council's window, `sos` the emergency lines (rich-menu buttons).

    `origin` is the webhookEventId of the question that led here, so feedback
    is kept with that question in the query log.
    """

    action: Action
    id: str = ""
    page: int = 0
    value: str = ""
    origin: str = ""


def _quote(value: str) -> str:
    return value.replace("/", "%2F") if _PLAIN.fullmatch(value) else quote_plus(value, safe="")


def encode(p: Postback) -> str:
    """`a=svc&id=…&e=…` (as `urlencode` writes it, a dozen times per reply, so without its
    general machinery); drops the origin rather than exceed LINE's limit."""
    fields = (("a", p.action), ("id", p.id), ("p", str(p.page) if p.page else ""), ("v", p.value), ("e", p.origin))
    data = "&".join(f"{k}={_quote(v)}" for k, v in fields if v)
    if len(data) > DATA_MAX and p.origin:
        data = encode(Postback(p.action, p.id, p.page, p.value))
    if len(data) > DATA_MAX:
        raise ValueError(f"postback data over {DATA_MAX} characters: {data[:40]}…")
    return data


def decode(data: str) -> Postback | None:
    """The postback, or None when the data is not ours (old buttons, other tools)."""
    try:
        fields = dict(parse_qsl(data[:DATA_MAX * 2], strict_parsing=True))
        action = fields.get("a", "")
        page = int(fields.get("p", "0"))
    except ValueError:
        return None
    if action not in _ACTIONS or page < 0 or page > 100:
        return None
    return Postback(action, fields.get("id", ""), page, fields.get("v", ""), fields.get("e", ""))  # type: ignore[arg-type]
