"""Block Kit limits hold for every answer the knowledge can produce, and for the worst cases."""

from __future__ import annotations

from dataclasses import replace

from adapters.slack.blocks import answer_blocks, note_blocks
from bot.answer import Answer, Option
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.model import Contact
from bot.render import to_text
from tests.slack.conftest import resident_text

# Slack's documented limits
MAX_BLOCKS, SECTION, BUTTON, VALUE, IDS, ACTION_ELEMENTS, CONTEXT_ELEMENTS = 50, 3000, 75, 2000, 255, 25, 10


def check(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for b in blocks:
        assert len(b.get("block_id", "")) <= IDS
        if b["type"] == "section":
            assert 0 < len(b["text"]["text"]) <= SECTION
        elif b["type"] == "actions":
            assert 0 < len(b["elements"]) <= ACTION_ELEMENTS
            action_ids = [e["action_id"] for e in b["elements"]]
            assert len(action_ids) == len(set(action_ids))
            for e in b["elements"]:
                assert 0 < len(e["text"]["text"]) <= BUTTON
                assert 0 < len(e["value"]) <= VALUE and len(e["action_id"]) <= IDS
        elif b["type"] == "context":
            assert 0 < len(b["elements"]) <= CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= SECTION for e in b["elements"])
        else:
            assert b["type"] == "divider"


def test_every_service_of_every_council_renders_within_limits(live: LiveKnowledge) -> None:
    a = live.assistant
    k = a.knowledge
    rendered = 0
    for council in k.councils:
        answers = [a.menu(council, audience="staff")]
        answers += [a.menu(council, category=c, audience="staff") for c in k.categories]
        for s in k.services_of(council):
            answers.append(a.pick(council, s.id, audience="staff"))
            answers.append(a.ask(council, s.title, audience="staff"))
        for answer in answers:
            blocks = answer_blocks(answer)
            check(blocks)
            if len(to_text(answer)) <= SECTION:  # the resident text is carried unchanged
                assert resident_text(blocks) == to_text(answer)
            rendered += 1
    assert rendered >= 2 * len(k.services)


def test_emergency_hotlines_come_first(live: LiveKnowledge) -> None:
    a = live.assistant
    k = a.knowledge
    rule = k.safety[0]
    answer = a.ask("kiyose", rule.terms[0], audience="staff")
    assert answer.kind == "emergency" and answer.hotlines
    blocks = answer_blocks(answer)
    check(blocks)
    first = resident_text(blocks).splitlines()[0]
    assert first.startswith("☎") and answer.hotlines[0].number in first


def test_extreme_answers_are_cut_to_fit(live: LiveKnowledge) -> None:
    base = live.assistant.pick("kiyose", "kiyose/kurumaisu-kashidashi", audience="staff")
    assert base.service is not None and base.staff is not None
    huge = "とても長い説明。" * 2000
    many = tuple(Option(f"kiyose/s{i}-" + "x" * 60, "名前" * 60, "名前", 0.5) for i in range(2000))
    answer = replace(
        base,
        service=replace(base.service, summary=huge, who=huge),
        staff=replace(base.staff, notes=huge, figures="<&>" * 3000),
        choices=many,
        related=many,
        results=many,
    )
    blocks = answer_blocks(answer)
    check(blocks)
    assert len(blocks) == MAX_BLOCKS and "省略" in blocks[-1]["elements"][0]["text"]
    fallback = Answer("fallback", "kiyose", "清瀬市社会福祉協議会", "x" * 5000, huge, Contact("窓口"))
    check(answer_blocks(fallback))


def test_command_replies_fit_too() -> None:
    lines = [f"• `knowledge/x/services/s{i}.yaml:{i}: field: " + "長いエラー" * 200 + "`" for i in range(500)]
    blocks = note_blocks(lines)
    check(blocks)
    assert blocks[0]["text"]["text"].startswith("• `knowledge/x/services/s0.yaml:0")
