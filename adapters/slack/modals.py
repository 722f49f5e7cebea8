"""The modals staff edit the knowledge in: add a wording, start a draft, fill in a window.

Each builder takes the values to show, so the same modal is shown again with
what staff typed and the errors above it when a save is refused. Every input
has `action_id` "value"; `read_values` turns a submitted view back into a dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.knowledge.edit import WINDOW_FIELDS
from bot.knowledge.model import Contact, Knowledge

__all__ = ["TEACH_VIEW", "DRAFT_VIEW", "WINDOW_VIEW", "teach_modal", "draft_modal", "window_modal", "message_modal",
           "read_values"]

TEACH_VIEW = "madoguchi_teach_view"
DRAFT_VIEW = "madoguchi_draft_view"
WINDOW_VIEW = "madoguchi_window_view"
FIELD_LABELS = {"examples": "質問の例として（examples）", "aliases": "言い換え・別名として（aliases）"}
WINDOW_LABELS = {"phone": "電話番号（例：042-495-5510、内線 123）", "hours": "受付時間（例：平日 8:30〜17:15）",
                 "address": "場所", "url": "ウェブページ（https://…）"}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": False}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text[:75]), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": _plain(label), "optional": optional,
            "element": {**element, "action_id": "value"}}


def _text_input(initial: str | None, *, multiline: bool = False, max_length: int = 200) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    return e | ({"initial_value": initial[:max_length]} if initial else {})


def _select(options: Sequence[tuple[str, str]], selected: str | None) -> dict[str, Any]:
    opts = [_option(text, value) for value, text in options][:100]
    e: dict[str, Any] = {"type": "static_select", "options": opts}
    chosen = next((o for o in opts if o["value"] == selected), None)
    return e | ({"initial_option": chosen} if chosen else {})


def _errors(errors: Sequence[str]) -> list[dict[str, Any]]:
    if not errors:
        return []
    text = "*保存しませんでした。* 次を直してからもう一度保存してください：\n" + "\n".join(f"• {e}" for e in errors[:10])
    return [{"type": "section", "block_id": "errors", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def _modal(callback_id: str, title: str, blocks: list[dict[str, Any]], *, metadata: str,
           submit: str | None = "保存") -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": _plain(title[:24]),
                            "close": _plain("閉じる"), "private_metadata": metadata, "blocks": blocks}
    return view | ({"submit": _plain(submit)} if submit else {})


def teach_modal(*, metadata: str, services: Sequence[tuple[str, str]], service: str | None, field: str = "examples",
                text: str = "", errors: Sequence[str] = ()) -> dict[str, Any]:
    """「この言い方を追加」: the wording, the service it belongs to, and as example or alias."""
    radio = {"type": "radio_buttons", "options": [_option(v, k) for k, v in FIELD_LABELS.items()]}
    radio["initial_option"] = _option(FIELD_LABELS.get(field, FIELD_LABELS["examples"]), field
                                      if field in FIELD_LABELS else "examples")
    blocks = [
        *_errors(errors),
        _input("text", "この言い方", _text_input(text)),
        _input("service", "どのサービスの言い方ですか", _select(services, service)),
        _input("field", "追加のしかた", radio),
        {"type": "context", "elements": [{"type": "mrkdwn", "text":
            "保存すると知識全体を確かめてから書き込み、すぐに反映します。問題があれば何も書き込みません。"}]},
    ]
    return _modal(TEACH_VIEW, "この言い方を追加", blocks, metadata=metadata)


def draft_modal(*, metadata: str, knowledge: Knowledge, council: str, values: dict[str, str],
                errors: Sequence[str] = ()) -> dict[str, Any]:
    """「新しいサービスの下書き」: a `status: draft` entry residents never see until it is published."""
    c = knowledge.councils[council]
    categories = [(k.id, k.label) for k in knowledge.categories.values() if k.audience == "resident"]
    departments = [(d.id, d.contact.name) for d in c.departments.values()]
    blocks = [
        *_errors(errors),
        _input("title", "サービスの名前", _text_input(values.get("title"), max_length=60)),
        _input("summary", "説明（利用者に見せる文）", _text_input(values.get("summary"), multiline=True, max_length=600)),
        _input("category", "カテゴリ", _select(categories, values.get("category"))),
        _input("department", "担当の窓口", _select(departments, values.get("department"))),
        _input("example", "質問の例", _text_input(values.get("example")), optional=True),
        {"type": "context", "elements": [{"type": "mrkdwn", "text":
            "下書きは利用者には表示されません。App Home の「公開する」で公開します。"}]},
    ]
    return _modal(DRAFT_VIEW, "新しいサービスの下書き", blocks, metadata=metadata)


def window_modal(*, metadata: str, name: str, contact: Contact | dict[str, str | None],
                 errors: Sequence[str] = ()) -> dict[str, Any]:
    """A window's phone, hours, address and URL (blank clears a field)."""
    values = contact if isinstance(contact, dict) else {f: getattr(contact, f) for f in WINDOW_FIELDS}
    blocks = [*_errors(errors),
              {"type": "section", "text": {"type": "mrkdwn", "text": f"*{name[:200]}*"}}]
    for f in WINDOW_FIELDS:
        blocks.append(_input(f, WINDOW_LABELS[f], _text_input(values.get(f), max_length=300), optional=True))
    return _modal(WINDOW_VIEW, "窓口を編集", blocks, metadata=metadata)


def message_modal(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """A modal that only says something (saving…, saved, not allowed)."""
    text = "\n".join(lines)[:3000] or " "
    return _modal("madoguchi_message", title, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                  metadata="", submit=None)


def read_values(view: dict[str, Any]) -> dict[str, str]:
    """block id → the text typed or the option chosen ('' when left empty)."""
    out: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        element = (actions or {}).get("value") or {}
        chosen = element.get("selected_option") or {}
        out[block_id] = str(element.get("value") or chosen.get("value") or "").strip()
    return out
