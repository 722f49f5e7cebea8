"""The App Home: what one council's staff should look at this week, with the buttons to act.

Published on `app_home_opened` (and again after every edit): the unanswered
questions grouped by similarity, the いいえ feedback with the answer given,
emergencies raised and who took them, windows without a phone number or hours,
and the knowledge's state (last reload, errors, drafts). Questions are masked.
Admins get the buttons that write; everyone else sees the same facts.
"""

from __future__ import annotations

import json
import time
from typing import Any

from adapters.slack.alerts import when
from adapters.slack.blocks import escape
from adapters.slack.state import SlackState
from bot.knowledge.model import Knowledge
from bot.knowledge.wording import say
from bot.querylog.feedback import feedback_report
from bot.querylog.mask import mask_text

__all__ = ["home_view", "HOME_COUNCIL", "TEACH", "DRAFT", "WINDOW_PICK", "PUBLISH", "pack", "unpack"]

HOME_COUNCIL = "madoguchi_home_council"
TEACH = "madoguchi_teach"  # + ":<n>": one button per likely service
DRAFT = "madoguchi_draft"
WINDOW_PICK = "madoguchi_window"
PUBLISH = "madoguchi_publish"
WEEK = 7 * 86400.0
SHOWN = 8  # groups and いいえ items shown; each is a few blocks, and a view holds 100
LIKELY = 3
VALUE_MAX = 2000  # Slack's limit for a button value
MAX_BLOCKS = 100


def pack(**values: str) -> str:
    """A button value: small JSON, the wording cut so it always fits."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    while len(text) > VALUE_MAX and values.get("q"):
        values["q"] = values["q"][: len(values["q"]) // 2]
        text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return text


def unpack(value: str | None) -> dict[str, str]:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _md(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    b = {"type": "button", "text": {"type": "plain_text", "text": text[:75], "emoji": False},
         "action_id": action_id, "value": value}
    return b | ({"style": style} if style else {})


def _one_line(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def likely_services(state: SlackState, council: str, question: str) -> list[tuple[str, str]]:
    """(id, title) of the services the ranking puts first for `question` (not "not offered" topics)."""
    assistant = state.runtime.live.assistant
    answer = assistant.ask(council, question, audience="staff")
    services = assistant.knowledge.services
    return [(o.id, o.title) for o in answer.results if o.id in services][:LIKELY]


def _teach_row(state: SlackState, council: str, question: str, n: int) -> dict[str, Any]:
    buttons = [_button(f"「{title}」に追加", f"{TEACH}:{i}", pack(c=council, s=sid, q=question[:500]))
               for i, (sid, title) in enumerate(likely_services(state, council, question))]
    buttons.append(_button("新しいサービスの下書き", DRAFT, pack(c=council, q=question[:500])))
    return {"type": "actions", "block_id": f"madoguchi_teach_row:{n}", "elements": buttons}


def _council_picker(knowledge: Knowledge, council: str) -> list[dict[str, Any]]:
    if len(knowledge.councils) < 2:
        return []
    options = [{"text": {"type": "plain_text", "text": c.short_name[:75]}, "value": c.id}
               for c in sorted(knowledge.councils.values(), key=lambda c: c.id)][:100]
    chosen = next(o for o in options if o["value"] == council)
    return [{"type": "actions", "elements": [{"type": "static_select", "action_id": HOME_COUNCIL,
                                              "options": options, "initial_option": chosen}]}]


def _status(state: SlackState, council: str, *, admin: bool) -> list[dict[str, Any]]:
    live = state.runtime.live
    k = live.assistant.knowledge
    last = live.last
    lines = [f"読み込み：{when(live.last_good.at)}（{len(k.services_of(council))} サービス）"]
    if last.ok:
        lines.append(f"最後の再読み込み：成功（{when(last.at)}）・警告 {len(last.warnings)} 件")
    else:
        lines.append(f"最後の再読み込み：*失敗*（{when(last.at)}）・エラー {len(last.errors)} 件 — 前回の知識で応答中")
        lines += [f"• `{escape(p.file)}:{p.line}` {escape(say(p))}" for p in last.errors[:5]]
    drafts = sorted((s for s in k.drafts.values() if s.council_id == council), key=lambda s: s.id)
    lines.append(f"下書き：{len(drafts)} 件" + ("（利用者には表示されません）" if drafts else ""))
    blocks = [_header("知識の状態"), _md("\n".join(lines))]
    for s in drafts[:10]:
        block = _md(f"• {escape(s.title)} `{escape(s.id)}`")
        if admin:
            block["accessory"] = _button("公開する", PUBLISH, pack(c=council, s=s.id), style="primary")
        blocks.append(block)
    if state.edits:
        blocks.append(_context("最近の変更：" + " ／ ".join(escape(e) for e in list(state.edits)[-3:])))
    return blocks


def _unanswered(state: SlackState, council: str, groups: list, *, admin: bool) -> list[dict[str, Any]]:
    total = sum(g.count for g in groups)
    blocks = [_header("今週答えられなかった質問"), _context(f"過去7日：{total} 件・{len(groups)} 種類（似た言い方をまとめています）")]
    if not groups:
        blocks.append(_md("ありません。"))
    for n, g in enumerate(groups[:SHOWN]):
        others = [q for q in g.questions if q != g.example][:2]
        text = f"*{g.count} 件*「{escape(_one_line(mask_text(g.example)))}」"
        if others:
            text += "\nほかの言い方：" + " ／ ".join(escape(_one_line(mask_text(q), 40)) for q in others)
        blocks.append(_md(text))
        if admin:
            blocks.append(_teach_row(state, council, mask_text(g.example), n))
    return blocks


def _feedback(state: SlackState, council: str, entries: list, *, admin: bool) -> list[dict[str, Any]]:
    report = feedback_report(entries, knowledge=state.runtime.live.assistant.knowledge)
    yes, no = report.yes.get(council, 0), report.no.get(council, 0)
    blocks = [_header("「いいえ」の声"), _context(f"過去7日の「役に立った？」：はい {yes} 件・いいえ {no} 件")]
    for n, r in enumerate(report.said_no[:SHOWN]):
        answer = f"{escape(r.answer_title)}" + (f" `{escape(r.answer_id)}`" if r.answer_id else "")
        blocks.append(_md(f"{when(r.at)}「{escape(_one_line(mask_text(r.question)))}」\n→ 回答：{answer}"))
        if admin:
            blocks.append(_teach_row(state, council, mask_text(r.question), SHOWN + n))
    return blocks


def _alerts(state: SlackState, council: str) -> list[dict[str, Any]]:
    raised = state.alerts.of(council)
    lines = []
    for r in raised[:10]:
        who = f"✅ <@{escape(r.acked_by)}> が対応（{when(r.acked_at or r.alert.at)}）" if r.acked_by else "⚠ *未対応*"
        lines.append(f"• {when(r.alert.at)} {escape('、'.join(r.alert.kinds) or '種類不明')}「{escape(_one_line(r.alert.text, 60))}」 {who}")
    channel = state.settings.alerts.get(council)
    note = f"通知先：<#{escape(channel)}>" if channel else "通知先が未設定です（設定ファイルの `alerts:`）"
    return [_header("緊急の相談"), _context(note), _md("\n".join(lines) if lines else "ありません。")]


def _windows(state: SlackState, council: str, *, admin: bool) -> list[dict[str, Any]]:
    c = state.runtime.live.assistant.knowledge.councils[council]
    words = {"phone": "電話番号", "hours": "受付時間"}
    rows = [("window", f"総合窓口（{c.window.name}）", c.window.missing)]
    rows += [(d.id, d.contact.name, d.contact.missing) for d in c.departments.values()]
    missing = [(i, n, m) for i, n, m in rows if m]
    lines = [f"• {escape(n)}：{'・'.join(words[f] for f in m)}がありません" for _, n, m in missing[:25]]
    if len(missing) > 25:
        lines.append(f"…ほか {len(missing) - 25} 件")
    blocks = [_header("電話番号・受付時間のない窓口"), _md("\n".join(lines) if lines else "すべて入っています。")]
    if admin:
        options = [{"text": {"type": "plain_text", "text": _one_line(n, 70)}, "value": pack(c=council, d=i)}
                   for i, n, _ in rows][:100]
        blocks.append({"type": "actions", "elements": [{
            "type": "static_select", "action_id": WINDOW_PICK, "options": options,
            "placeholder": {"type": "plain_text", "text": "窓口を編集…"}}]})
    return blocks


async def home_view(state: SlackState, *, user: str | None) -> dict[str, Any]:
    """The App Home view for `user` (the council they picked, else the default)."""
    rt = state.runtime
    knowledge = rt.live.assistant.knowledge
    council = state.council_for(user)
    if council is None:
        return {"type": "home", "blocks": [_md("知識に社協がありません。")]}
    admin = state.is_admin(user)
    c = knowledge.councils[council]
    blocks: list[dict[str, Any]] = [_header(f"Madoguchi ｜ {c.short_name}"), *_council_picker(knowledge, council)]
    if not admin:
        blocks.append(_context("知識を直せるのは、設定ファイルの `admins` に載っている人です。"))
    blocks += _status(state, council, admin=admin)
    if rt.querylog is None:
        blocks.append(_md("クエリログがオフのため、未回答の質問と「いいえ」の声は記録されていません。"))
    else:
        since = time.time() - WEEK
        groups = await rt.in_thread(rt.querylog.unanswered, council=council, since=since)
        entries = await rt.in_thread(rt.querylog.feedback_entries, council=council, since=since)
        blocks += await rt.in_thread(_unanswered, state, council, groups, admin=admin)
        blocks += await rt.in_thread(_feedback, state, council, entries, admin=admin)
    blocks += _alerts(state, council)
    blocks += _windows(state, council, admin=admin)
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], _context("（長いため一部を省略しました）")]
    return {"type": "home", "blocks": blocks}
