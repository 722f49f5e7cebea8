"""An `Answer` as Block Kit: the resident's answer as they see it, then the staff view.

The resident part is `bot.render.to_text`, so staff read the very wording
residents get. Built with slack_sdk's block models, which refuse anything over
Slack's limits; `fit` packs long text into several sections and caps the
message at 50 blocks so no knowledge entry can produce an invalid message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.answer import Answer, Option, label
from bot.render import to_text

__all__ = [
    "MAX_BLOCKS",
    "SECTION_MAX",
    "BUTTON_MAX",
    "PICK_ACTION",
    "escape",
    "sections",
    "fit",
    "answer_blocks",
    "answer_text",
    "note_blocks",
    "council_of_block",
]

MAX_BLOCKS = 50
SECTION_MAX = 3000
BUTTON_MAX = 75
ACTIONS_MAX = 25  # elements in one actions block
TEXT_MAX = 3000  # the notification text beside the blocks
PICK_ACTION = "madoguchi_pick"  # action_id prefix of every answer button
_BLOCK_PREFIX = "madoguchi"
_MORE = "（長いため一部を省略しました）"
KIND_LABEL = {"answer": "回答", "choices": "候補の提示", "fallback": "該当なし", "emergency": "緊急"}


def escape(text: str) -> str:
    """Text made literal for mrkdwn (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sections(lines: Iterable[str], *, markdown: bool) -> list[Block]:
    """Lines packed into as few sections as fit in 3,000 characters each."""
    out: list[Block] = []
    buf = ""

    def flush() -> None:
        nonlocal buf
        if buf:
            obj = MarkdownTextObject(text=buf) if markdown else PlainTextObject(text=buf, emoji=False)
            out.append(SectionBlock(text=obj))
            buf = ""

    for line in lines:
        line = _cut(line, SECTION_MAX)
        if buf and len(buf) + 1 + len(line) > SECTION_MAX:
            flush()
        buf = f"{buf}\n{line}" if buf else line
    flush()
    return out


def fit(blocks: Sequence[Block]) -> list[dict]:
    """At most 50 blocks, as dicts (validated by the SDK models)."""
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], ContextBlock(elements=[MarkdownTextObject(text=_MORE)])]
    return [b.to_dict() for b in blocks]


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_cut(text, SECTION_MAX))])


def _buttons(council: str, options: Sequence[Option], *, tag: str) -> list[Block]:
    """Options as buttons; the action value is the option id (a service id, or category:<id>)."""
    out: list[Block] = []
    for n, start in enumerate(range(0, len(options), ACTIONS_MAX)):
        chunk = options[start : start + ACTIONS_MAX]
        elements = [
            ButtonElement(
                text=PlainTextObject(text=label(o.title, limit=BUTTON_MAX), emoji=False),
                action_id=f"{PICK_ACTION}:{start + i}",
                value=o.id,
            )
            for i, o in enumerate(chunk)
        ]
        out.append(ActionsBlock(block_id=f"{_BLOCK_PREFIX}:{council}:{tag}{n}", elements=elements))
    return out


def council_of_block(block_id: str | None) -> str | None:
    """The council a button's block belongs to (see `_buttons`)."""
    parts = (block_id or "").split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == _BLOCK_PREFIX else None


def _score(x: float) -> str:
    return f"{x:.2f}"


def _staff_lines(answer: Answer) -> list[str]:
    lines = ["*職員向けの情報*（利用者には表示されません）"]
    s = answer.staff
    runners = [o for o in answer.results if s is None or o.id != s.id]
    if s is not None:
        lines.append(f"一致：`{escape(s.id)}`（スコア {_score(s.score)}）")
        if s.audience == "staff":
            lines.append("対象：職員向け（LINE では答えません）")
    else:
        lines.append(f"判定：{KIND_LABEL.get(answer.kind, answer.kind)}（{escape(answer.reason or '-')}）")
    if runners:
        title = "次点" if s is not None else "候補"
        lines.append(f"{title}：" + "、".join(f"`{escape(o.id)}` {escape(o.title)}（{_score(o.score)}）" for o in runners[:5]))
    if s is not None:
        for name, value in (
            ("メモ", s.notes),
            ("数値", s.figures),
            ("担当", s.department),
            ("ファイル", s.file),
            ("更新日", s.updated or "記載なし"),
            ("提供", s.provider),
            ("出典", s.source),
        ):
            if value:
                lines.append(f"{name}：`{escape(value)}`" if name == "ファイル" else f"{name}：{escape(value)}")
    return lines


def answer_blocks(answer: Answer) -> list[dict]:
    """The full Slack message for one answer."""
    head = f"*{escape(answer.council_name)}* ｜ {KIND_LABEL.get(answer.kind, answer.kind)}"
    if answer.query:
        head += f" ｜ 質問：{escape(_cut(answer.query, 200))}"
    blocks: list[Block] = [_context(head), _context("利用者への回答（LINE と同じ文面）")]
    blocks += sections(to_text(answer).splitlines(), markdown=False)
    if answer.choices:
        blocks += _buttons(answer.council_id, answer.choices, tag="c")
    if answer.related:
        blocks += [_context("関連するサービス")] + _buttons(answer.council_id, answer.related, tag="r")
    blocks.append(DividerBlock())
    blocks += sections(_staff_lines(answer), markdown=True)
    return fit(blocks)


def answer_text(answer: Answer) -> str:
    """The notification / fallback text sent beside the blocks."""
    return _cut(to_text(answer), TEXT_MAX)


def note_blocks(lines: Sequence[str], *, markdown: bool = True) -> list[dict]:
    """A command's reply (status, reload, unanswered) as sections."""
    return fit(sections(lines, markdown=markdown))
