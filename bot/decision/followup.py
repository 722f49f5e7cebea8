"""Short messages that refer to the conversation: 「費用は？」, 「ありがとう」, 「人と話したい」.

A resident asks the way one asks at a counter: after hearing about a
service, 「どこに申し込むの？」 means that service. The words live in
`knowledge/_common/conversation.yaml` (staff edit them like any other
knowledge); the channel keeps only which service was answered last.
Matching is deliberately narrow — a short message holding one of the words —
so a real question is never mistaken for a follow-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from bot.answer import Answer
from bot.decision.decide import service_answer
from bot.knowledge.model import Audience, Council, Knowledge
from bot.knowledge.yamlfile import read_yaml
from bot.language.normalize import fold

__all__ = ["Intent", "Conversation", "conversation_words", "read_intent", "follow_up", "FILE"]

FILE = "_common/conversation.yaml"
IntentKind = Literal["field", "thanks", "person"]


@dataclass(frozen=True, slots=True)
class FieldWords:
    field: str  # a ServiceCard field, or "phone" for the window
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    """The words of `conversation.yaml`, terms already folded."""

    max_chars: int = 20
    fields: tuple[FieldWords, ...] = ()
    field_answer: str = "{title}の{label}：{value}"
    field_unknown: str = "{title}の{label}は分かりません。"
    phone_answer: str = "{title}の問い合わせ先です。"
    thanks: tuple[str, ...] = ()
    thanks_reply: str = ""
    person: tuple[str, ...] = ()
    person_reply: str = ""
    out_of_range: str = "{number}番はありません。1から{count}の番号で選んでください。"
    emergency_lead: str = ""
    emergency_hotlines: tuple[str, ...] = ()  # hotline ids for a channel's 「緊急のとき」 button


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    field: FieldWords | None = None


def _terms(values: object) -> tuple[str, ...]:
    return tuple(fold(str(t)) for t in (values or ()) if str(t).strip())  # type: ignore[union-attr]


def _load(path: str) -> Conversation:
    doc, problems = read_yaml(Path(path), display=path)
    data = doc.data if doc is not None and isinstance(doc.data, dict) else None
    if data is None:
        raise ValueError(f"{path}: unreadable ({'; '.join(str(p) for p in problems)})")
    thanks, person, emergency = data.get("thanks") or {}, data.get("person") or {}, data.get("emergency") or {}
    base = Conversation()
    return Conversation(
        max_chars=int(data.get("max_chars", base.max_chars)),
        fields=tuple(FieldWords(str(f["field"]), str(f["label"]), _terms(f.get("terms")))
                     for f in data.get("fields") or ()),
        field_answer=str(data.get("field_answer") or base.field_answer),
        field_unknown=str(data.get("field_unknown") or base.field_unknown),
        phone_answer=str(data.get("phone_answer") or base.phone_answer),
        thanks=_terms(thanks.get("terms")),
        thanks_reply=str(thanks.get("reply") or ""),
        person=_terms(person.get("terms")),
        person_reply=str(person.get("reply") or ""),
        out_of_range=str(data.get("out_of_range") or base.out_of_range),
        emergency_lead=str(emergency.get("lead") or ""),
        emergency_hotlines=tuple(str(h) for h in emergency.get("hotlines") or ()),
    )


_read: list[tuple[Knowledge, Conversation]] = []  # the last knowledge's words: one reload, one read


def conversation_words(knowledge: Knowledge) -> Conversation:
    """The knowledge's conversation words, read once per loaded knowledge (a reload is a new
    `Knowledge`, as for every other file); none when it has no file. Not a stat of the file per
    message on the matching thread, twice for a follow-up."""
    last = _read[-1] if _read else None
    if last is not None and last[0] is knowledge:
        return last[1]
    path = os.path.join(knowledge.root, FILE) if knowledge.root else ""
    words = _load(path) if path and os.path.exists(path) else Conversation()
    _read[:] = [(knowledge, words)]
    return words


def read_intent(words: Conversation, text: str) -> Intent | None:
    """What a short message asks of the conversation, if anything (fields before person before thanks)."""
    folded = fold(text)
    if not folded or len(folded) > words.max_chars:
        return None
    for f in words.fields:
        if any(t in folded for t in f.terms):
            return Intent("field", f)
    if any(t in folded for t in words.person):
        return Intent("person")
    if any(t in folded for t in words.thanks):
        return Intent("thanks")
    return None


def follow_up(knowledge: Knowledge, council: Council, text: str, *, last_service: str | None,
              audience: Audience = "resident") -> Answer | None:
    """The answer to a follow-up, or None when `text` is a question of its own.

    A field question needs a last service; 「ありがとう」 and 「人と話したい」 do
    not. The reasons `followup`, `thanks` and `person` tell channels what
    happened (LINE offers a person; the query log skips thanks).
    """
    words = conversation_words(knowledge)
    intent = read_intent(words, text)
    if intent is None:
        return None
    if intent.kind != "field":
        message = words.thanks_reply if intent.kind == "thanks" else words.person_reply
        if not message:
            return None
        return Answer("fallback", council.id, council.name, text, message, council.window, intent.kind)
    service = knowledge.services.get(last_service or "")
    if service is None or service.council_id != council.id or (audience == "resident" and service.audience != "resident"):
        return None
    answer = service_answer(knowledge, council, service, query=text, reason="followup", audience=audience)
    card = answer.service
    assert card is not None and intent.field is not None
    f = intent.field
    if f.field == "phone":
        message = words.phone_answer.format(title=card.title, label=f.label)
    else:
        value = getattr(card, f.field, None)
        template = words.field_answer if value else words.field_unknown
        message = template.format(title=card.title, label=f.label, value=value or "")
    return replace(answer, message=message)
