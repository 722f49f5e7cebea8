"""One staff edit, end to end: check it whole, write it, reload, commit, log who did what.

`write` is the only way Slack changes `knowledge/`. The caller has already
checked that the user is an admin. The edit is checked together with the
whole knowledge before a byte is written (`bot.knowledge.edit.apply`); then
the server reloads, the change is committed with the staff member as author
when the folder is a git repository, and one audit line records who, what,
when and the outcome (refused edits too).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.slack.alerts import when
from adapters.slack.blocks import escape
from adapters.slack.state import SlackState
from bot.knowledge.commit import commit_edit
from bot.knowledge.edit import Edit, EditRejected, apply
from bot.knowledge.loader import default_root
from bot.knowledge.wording import say

__all__ = ["Outcome", "write", "knowledge_root", "audit_line"]

audit = logging.getLogger("madoguchi.audit")
log = logging.getLogger("madoguchi.slack")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    lines: list[str] = field(default_factory=list)  # for the modal: what happened, or what to fix


def knowledge_root(state: SlackState) -> Path:
    root = state.runtime.live.root
    return Path(root) if root else default_root()


def audit_line(state: SlackState, *, user: str, name: str, what: str, outcome: str, commit: str | None = None) -> None:
    """One line per write attempt: who, what, when, the outcome and the commit."""
    audit.info("knowledge edit %s by %s (%s): %s", outcome, name, user, what,
               extra={"user": user, "user_name": name, "edit": what, "outcome": outcome, "commit": commit,
                      "at": time.time()})
    state.runtime.metrics.inc("madoguchi_knowledge_edits_total", result=outcome)


async def write(state: SlackState, *, user: str, name: str, build: Callable[[Path], list[Edit]]) -> Outcome:
    """Build the edits from the current files, apply them if the knowledge stays valid, then reload and commit."""
    async with state.edit_lock:  # built from the files as they are after the previous save, committed in order
        return await _write(state, user=user, name=name, build=build)


async def _write(state: SlackState, *, user: str, name: str, build: Callable[[Path], list[Edit]]) -> Outcome:
    rt = state.runtime
    root = knowledge_root(state)
    edits: list[Edit] = []
    try:
        edits = await rt.in_thread(build, root)
        await rt.in_thread(apply, root, edits)
    except EditRejected as exc:
        what = "; ".join(e.summary for e in edits) or "(refused before writing)"
        audit_line(state, user=user, name=name, what=what, outcome="rejected")
        return Outcome(False, [f"`{escape(p.file)}:{p.line}` {escape(say(p))}" for p in exc.problems[:10]])
    what = "; ".join(e.summary for e in edits)
    result = await rt.in_thread(rt.reload, via="slack-edit")
    commit = None
    try:
        commit = await rt.in_thread(commit_edit, root, [e.path for e in edits], author=name, author_id=user,
                                    message=f"{what}\n\nSlack: {name} ({user})")
    except Exception:
        log.exception("knowledge edit written but not committed")
    audit_line(state, user=user, name=name, what=what, outcome="written", commit=commit)
    state.edits.append(f"{when(result.at)} {name}：{what}")
    lines = [f"保存しました：{escape(what)}"]
    lines.append("反映しました。" if result.ok else "⚠ 再読み込みに失敗したため、前の知識で応答しています。")
    if commit:
        lines.append(f"記録：git `{commit[:10]}`（{escape(name)}）")
    return Outcome(True, lines)
