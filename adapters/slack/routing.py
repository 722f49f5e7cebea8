"""Which council a Slack question is about.

In order: a council named at the start of the question (`清瀬 車いす`,
`kiyose 車いす`, `清瀬市社協の車いす`), the channel's council from the settings
file, the settings' default, MADOGUCHI_COUNCIL, and finally the only council
when the knowledge holds just one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.knowledge.model import Knowledge

from adapters.runtime import safe_text
from adapters.slack.settings import SlackSettings

__all__ = ["Route", "choose", "council_prefix", "clean_text"]

Via = Literal["prefix", "channel", "default", "only", "none"]
SEPARATORS = " \t\u3000、,:：/"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>|<([^<>|]+)>")


@dataclass(frozen=True, slots=True)
class Route:
    council: str | None
    text: str
    via: Via


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def clean_text(text: str) -> str:
    """Slack's wire text as typed: mentions dropped, links to their label, entities decoded."""
    text = _MENTION.sub(" ", safe_text(text))
    text = _LINK.sub(lambda m: m.group(2) or m.group(1) or m.group(3), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def council_prefix(text: str, knowledge: Knowledge) -> tuple[str | None, str]:
    """(council id, rest) when `text` starts with a council's id, name, short name or alias."""
    folded = _fold(text.strip())
    names: list[tuple[str, str]] = []
    for c in knowledge.councils.values():
        for name in {c.id, c.name, c.short_name, *c.aliases}:
            if name:
                names.append((_fold(name), c.id))
    for name, council_id in sorted(names, key=lambda n: -len(n[0])):
        if not folded.startswith(name):
            continue
        rest = folded[len(name):]
        if name.isascii() and rest[:1].isascii() and rest[:1].isalnum():
            continue  # `kiyoseshi…` is not `kiyose` + question
        return council_id, rest.lstrip(SEPARATORS)
    return None, text.strip()


def choose(
    text: str,
    *,
    channel: str | None,
    knowledge: Knowledge,
    settings: SlackSettings,
    default: str | None,
) -> Route:
    """The council for `text` asked in `channel`, and the question without its prefix."""
    council, rest = council_prefix(text, knowledge)
    if council is not None:
        return Route(council, rest, "prefix")
    known = knowledge.councils
    by_channel = settings.channels.get(channel or "")
    if by_channel in known:
        return Route(by_channel, rest, "channel")
    for candidate in (settings.default_council, default):
        if candidate in known:
            return Route(candidate, rest, "default")
    if len(known) == 1:
        return Route(next(iter(known)), rest, "only")
    return Route(None, rest, "none")
