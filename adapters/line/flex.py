"""An `Answer` as LINE messages: a Flex bubble, quick replies or plain text.

Every limit LINE enforces is applied here, so a reply is never rejected for
its shape: ≤5 messages, text ≤5,000 UTF-16 code units, altText ≤1,500,
bubble JSON ≤30 KB, ≤13 quick replies with labels ≤20 and data ≤300.
Text parts reuse `bot.render`, so the wording matches every other channel.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from adapters.line.calls import hotlines_message, window_message
from adapters.line.limits import (
    ALT_MAX,
    BUBBLE_MAX,
    DISPLAY_MAX,
    LABEL_MAX,
    MAX_MESSAGES,
    PAGE,
    QUICK_MAX,
    TEXT_MAX,
    Message,
    QuickItem,
    cut,
    tel_uri,
    text_message,
    utf16_len,
    with_quick,
)
from adapters.line.postback import Postback, encode
from adapters.line.texts import T
from bot.answer import Answer, Option, ServiceCard, label
from bot.messages import M
from bot.knowledge.contacts import safe_url
from bot.render import to_text, window_lines

__all__ = [
    "render",
    "choices_messages",
    "text_message",
    "menu_item",
    "quick_item",
    "bubble_bytes",
    "utf16_len",
    "cut",
    "tel_uri",
    "MAX_MESSAGES",
    "TEXT_MAX",
    "ALT_MAX",
    "BUBBLE_MAX",
    "QUICK_MAX",
    "LABEL_MAX",
    "DISPLAY_MAX",
]

_GRAY = "#888888"
_ALERT = "#C0392B"


def _postback(text: str, pb: Postback, *, display: str | None = None) -> dict:
    return {"type": "postback", "label": label(text, limit=LABEL_MAX), "data": encode(pb),
            "displayText": cut(display or text, DISPLAY_MAX)}


def quick_item(action: dict) -> QuickItem:
    return {"type": "action", "action": action}


def _option_postback(o: Option, *, origin: str) -> Postback:
    if o.id.startswith("category:"):
        return Postback("cat", id=o.id.removeprefix("category:"))
    return Postback("svc", id=o.id, origin=origin)


def menu_item() -> QuickItem:
    return quick_item(_postback(T.menu, Postback("menu")))


def _items(options: Sequence[Option], *, origin: str) -> list[QuickItem]:
    items = []
    for o in options:
        try:
            action = _postback(o.label, _option_postback(o, origin=origin), display=o.title)
        except ValueError:  # an id too long for LINE's postback data: leave that button out
            continue
        items.append(quick_item(action))
    return items


# -- the four kinds -----------------------------------------------------------
def render(answer: Answer, *, origin: str = "") -> list[Message]:
    """The reply for one answer. `origin` is the question's webhookEventId (for feedback).

    Quick replies ride on the last message only: LINE shows no others.
    """
    danger = answer.danger
    if answer.kind == "emergency":  # the lines first, then a few kind words, then the window
        return [hotlines_message(answer.hotlines), text_message(answer.message),
                window_message(answer.window, quick=[menu_item()])]
    if answer.kind == "answer" and answer.service is not None:
        messages: list[Message] = [_answer_message(answer, origin=origin)]
    elif answer.kind == "choices":
        messages = choices_messages(answer, origin=origin)
    elif answer.choices:  # a fallback with "もしかして" guesses
        messages = [text_message(answer.message), window_message(answer.window), _maybe_message(answer, origin)]
    else:
        messages = [text_message(answer.message), window_message(answer.window, quick=[menu_item()])]
    if danger is not None and danger.level == "concern" and (danger.note or answer.hotlines):
        quick = messages[-1].pop("quickReply", None)
        messages.append(hotlines_message(answer.hotlines, lead=danger.note, quick=quick["items"] if quick else ()))
    return messages[:MAX_MESSAGES]


def _maybe_message(answer: Answer, origin: str) -> Message:
    shown = answer.choices[:QUICK_MAX - 1]
    text = "\n".join([T.maybe, *(f"・{o.title}" for o in shown)])
    return text_message(text, quick=[*_items(shown, origin=origin), menu_item()])


def choices_messages(
    answer: Answer, *, lead: str | None = None, page: int = 0, more: Postback | None = None, origin: str = ""
) -> list[Message]:
    """A short text and the choices as quick replies; pages of 12 with 「もっと見る」 when `more` is given."""
    options = list(answer.choices)
    if len(options) > QUICK_MAX:
        start = min(page * PAGE, (len(options) - 1) // PAGE * PAGE)
        shown = options[start:start + PAGE]
        items = _items(shown, origin=origin)
        if more is not None and start + PAGE < len(options):
            items.append(quick_item(_postback(T.more, replace(more, page=start // PAGE + 1))))
    else:
        shown = options
        items = _items(shown, origin=origin)
    text = lead or answer.message
    if answer.reason != "menu" and lead is None:  # a ranking: name the candidates for clients without buttons
        text = "\n".join([text, *(f"・{o.title}" for o in shown)])
    return [text_message(text, quick=items[:QUICK_MAX])]


def _answer_message(answer: Answer, *, origin: str) -> Message:
    card = answer.service
    assert card is not None
    quick = [*_items(answer.related[: QUICK_MAX - 1], origin=origin), menu_item()]
    alt = cut(to_text(answer), ALT_MAX)
    bubble = _bubble(card, council=answer.council_name, council_url=answer.window.url, origin=origin)
    if _may_exceed(answer) and bubble_bytes(bubble) > BUBBLE_MAX:  # text is always accepted
        return text_message(to_text(answer), quick=quick)
    return with_quick({"type": "flex", "altText": alt, "contents": bubble}, quick)


def _may_exceed(answer: Answer) -> bool:
    """Cheap bound: ≤6 bytes per character escaped plus the fixed structure, before measuring for real."""
    return utf16_len(to_text(answer)) * 6 + 6 * 1024 > BUBBLE_MAX


def bubble_bytes(bubble: dict) -> int:
    """The size LINE checks: the container's JSON as sent (ASCII-escaped, the larger form)."""
    return len(json.dumps(bubble, ensure_ascii=True, separators=(",", ":")).encode())


# -- the bubble ---------------------------------------------------------------
def _text(text: str, *, size: str = "sm", limit: int = 600, **style: object) -> dict:
    return {"type": "text", "text": cut(text, limit), "size": size, "wrap": True, **style}


def _box(layout: str, contents: list[dict], **style: object) -> dict:
    return {"type": "box", "layout": layout, "spacing": "sm", "contents": contents, **style}


def _button(style: str, action: dict) -> dict:
    return {"type": "button", "style": style, "height": "sm", "action": action}


def _row(name: str, value: str) -> dict:
    return _box("baseline", [{"type": "text", "text": name, "size": "xs", "color": _GRAY, "flex": 2},
                             _text(value, limit=400, flex=5)])


def _bubble(card: ServiceCard, *, council: str, council_url: str | None, origin: str) -> dict:
    body: list[dict] = [
        {"type": "text", "text": cut(council, 60), "size": "xxs", "color": _GRAY},  # whose 「総務課」 this is
        _text(card.title, size="lg", limit=100, weight="bold"),
    ]
    if card.status != "active":
        body.append(_text(card.status_note or M.status[card.status], color=_ALERT, margin="sm"))
    body.append(_text(card.summary, margin="md"))
    rows = [_row(n, v) for n, v in (("対象", card.who), ("申し込み", card.how_to_apply),
                                    ("費用", card.fee), ("日時", card.schedule)) if v]
    if rows:
        body.append(_box("vertical", rows, margin="lg"))
    body.append({"type": "separator", "margin": "lg"})
    body.append({"type": "text", "text": T.window_heading, "size": "xs", "color": _GRAY, "margin": "lg"})
    body += [_text(line, limit=300) for line in window_lines(card.window, council_url=council_url)]

    footer: list[dict] = []
    tel = tel_uri(card.window.phone)
    if tel:
        footer.append(_button("primary", {"type": "uri", "label": T.call, "uri": tel}))
    url = safe_url(card.window.url) or safe_url(council_url)  # https, encoded, ≤1000: LINE accepts it
    if url:
        footer.append(_button("link", {"type": "uri", "label": T.website, "uri": url}))
    footer.append({"type": "text", "text": T.feedback_question, "size": "xs", "color": _GRAY, "align": "center",
                   "margin": "md"})
    footer.append(_box("horizontal", [
        _button("secondary", _postback(T.feedback_yes, Postback("fb", value="yes", origin=origin))),
        _button("secondary", _postback(T.feedback_no, Postback("fb", value="no", origin=origin))),
    ]))
    return {"type": "bubble", "body": _box("vertical", body), "footer": _box("vertical", footer)}
