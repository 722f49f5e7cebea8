"""What a window's phone number and web address may look like.

One set of rules for every place a contact detail passes: `kb check` and the
loader (with file and line), the Slack windows modal (before anything is
written), and the renderers (a value that fails is never printed as a link or
sent as a URI action, so LINE never refuses a reply for its shape).

Phone numbers are the forms Japanese offices print: 0X-XXXX-XXXX and the other
splits of a 10-digit landline, 11-digit mobiles and IP phones (090/080/070/050),
0120 / 0800 free dial and 0570 navi dial, and short #xxxx numbers, each with an
optional 内線 and an optional note in brackets (（代表）). Web addresses are
https only, with a host and nothing unencoded (RFC 3986 characters, %XX escapes).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["phone_problem", "url_problem", "safe_url", "URL_MAX"]

URL_MAX = 1000  # LINE's limit for a URI action; longer is no address anyone types
_SPLIT = r"\d{2,5}[-(]\d{1,4}[-)]\d{3,4}"  # 042-495-5510, 0144(32)7111, 0120-123-456
_EXTENSION = r"(?:\s*[（(]?\s*内線\s*[:：]?\s*\d{1,6}\s*[）)]?)?"
_NOTE = r"(?:\s*[（(][^（()）]{1,20}[）)])?"
_PHONE = re.compile(rf"^(?:(?P<number>{_SPLIT}|\d{{10,11}})|(?P<short>#\d{{4}})|(?P<ext>内線\s*[:：]?\s*\d{{1,6}})){_EXTENSION}{_NOTE}$")
_FREE = ("0120", "0800", "0570")
_MOBILE = ("090", "080", "070", "050")
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_AUTHORITY = re.compile(r"^https://([^/?#]*)", re.IGNORECASE)  # the core imports no urllib (a network library)
_HOST = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{1,62}$")


def phone_problem(value: str) -> str | None:
    """Why `value` is not a phone number residents can dial, or None when it is one."""
    text = unicodedata.normalize("NFKC", value).strip().replace("‐", "-").replace("−", "-").replace("ー", "-")
    m = _PHONE.match(text)
    if m is None:
        return (f"phone {value!r} is not a Japanese phone number "
                "(write e.g. 042-495-5510, 090-1234-5678, 0120-123-456, #7119 or 内線 123)")
    if m.group("number"):
        digits = re.sub(r"\D", "", m.group("number"))
        if not digits.startswith("0"):
            return f"phone {value!r} must start with 0 (area code), # or 内線"
        wanted = 11 if digits.startswith(_MOBILE) or digits.startswith("0800") else 10
        if len(digits) != wanted:
            kind = "free dial / navi dial" if digits.startswith(_FREE) else "mobile" if wanted == 11 else "landline"
            return f"phone {value!r} has {len(digits)} digits; a {kind} number has {wanted}"
    return None


def url_problem(value: str) -> str | None:
    """Why `value` is not a safe https address, or None when it is one."""
    text = value.strip()
    if len(text) > URL_MAX:
        return f"url is too long ({len(text)} > {URL_MAX} characters)"
    scheme = text.split(":", 1)[0].casefold() if ":" in text else ""
    if scheme != "https":
        shown = text if len(text) <= 40 else text[:39] + "…"
        return f"url {shown!r} must start with https:// (no javascript:, http: or other schemes)"
    if not _URL_CHARS.match(text) or _BAD_ESCAPE.search(text):
        return f"url {text!r} has characters that must be percent-encoded (spaces, Japanese, %, <, >, \")"
    m = _AUTHORITY.match(text)
    authority = m.group(1) if m else ""
    if "@" in authority:
        return f"url {text!r} must not carry a user name or password"
    host, _, port = authority.partition(":")
    if not _HOST.match(host) or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        return f"url {text!r} has no valid host name"
    return None


def safe_url(value: str | None) -> str | None:
    """`value` when it is a safe https address; otherwise None (never shown, never a link)."""
    if not value or url_problem(value) is not None:
        return None
    return value.strip()
