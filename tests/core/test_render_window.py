"""No line that leads nowhere: without a phone number, the web page; without either, the council's window."""

from __future__ import annotations

from pathlib import Path

from bot.assistant import Assistant
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Contact
from bot.messages import M
from bot.render import to_text, window_lines

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"


def test_window_lines_never_say_the_number_is_being_prepared() -> None:
    assert window_lines(Contact("係")) == ["窓口：係", M.no_phone]
    assert window_lines(Contact("係"), council_url="https://shakyo.example.jp/") == \
        ["窓口：係", "詳しくは：https://shakyo.example.jp/"]
    assert window_lines(Contact("係", url="https://example.jp/kakari")) == ["窓口：係", "https://example.jp/kakari"]
    assert window_lines(Contact("係", phone="0123-45-6789", hours="平日")) == ["窓口：係", "電話：0123-45-6789", "受付：平日"]
    for bad in ("javascript:alert(1)", "https://example.jp/窓 口"):
        lines = window_lines(Contact("係", url=bad), council_url=bad)
        assert lines == ["窓口：係", M.no_phone]


def test_answers_without_a_phone_point_somewhere_real() -> None:
    assistant = Assistant(load_knowledge(FIXTURE))
    answer = assistant.ask("minato", "ふれあいサロン")
    assert answer.service is not None and answer.service.window.phone is None
    text = to_text(answer)
    assert "準備中です" not in text.replace(M.status["planned"], "") and M.no_phone in text
