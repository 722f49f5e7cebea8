"""The safety check: danger words in any spelling, and no alarm on look-alikes."""

from __future__ import annotations

import pytest

from bot.assistant import Assistant
from bot.language import Language
from bot.model import Hotline, Knowledge, SafetyRule
from bot.safety import SafetyCheck


@pytest.mark.parametrize(
    "question",
    [
        "死にたい", "もう消えたい…", "しにたい", "もうしにたい", "夫に殴られる", "家が火事です",
        "死んだ方がましだ",  # 方 for ほう: compared word by word in dictionary form
        "夫になぐられた",  # kana, another inflection
        "生きとってもしょうがないだに",  # dialect
        "ばあちゃんが息しとらん",
        "餅をのどに詰まらせた",
        "子どもがベランダに出されてる",
        "こどもが ぎゃくたい されてる",
    ],
)
def test_crisis_shows_hotlines_first(fixture_assistant: Assistant, question: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert a.kind == "emergency"
    assert a.hotlines and all(h.number for h in a.hotlines)


@pytest.mark.parametrize(
    "question",
    [
        "医師に対して相談したい",  # いしにたいして contains しにたい
        "予防接種はどこで受けられますか",  # 受けられ contains けられ (蹴られ)
        "ﾊｲｼｮｸｻｰﾋﾞｽ 申込み方法",  # はいしょく contains いしょ (遺書)
        "小さなグループで活動したい",  # さなぐるーぷ contains なぐる
        "高齢者虐待の相談先",  # 虐待 without a child: the council's window, not 189
        "先月火事で家が焼けてしまった。見舞金は出ますか",  # the danger is past
        "いなくなった猫を探しています",  # no person named
        "自分が死んだ後の手続きを頼みたい",
        "父が死んでから一人暮らしです",
    ],
)
def test_look_alikes_are_not_alarms(fixture_assistant: Assistant, question: str) -> None:
    assert fixture_assistant.ask("minato", question).kind != "emergency"


@pytest.mark.parametrize(
    ("question", "number"),
    [("認知症の父が家からいなくなりました", "110"), ("じいちゃんが昼から帰ってこん", "110"),
     ("娘が虐待されているかもしれない", "189")],
)
def test_each_danger_names_its_own_hotline_first(fixture_assistant: Assistant, question: str, number: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert a.kind == "emergency" and a.hotlines[0].number == number


def _check(rule: SafetyRule) -> SafetyCheck:
    knowledge = Knowledge(councils={}, services={}, categories={},
                          hotlines={"h": Hotline("test", "000", source="test")}, safety=(rule,))
    return SafetyCheck(knowledge, Language())


def test_context_and_unless_gate_a_rule() -> None:
    language = Language()
    check = _check(SafetyRule("r", ("危ない",), ("h",), "msg", context=("子ども",), unless=("昔",)))
    assert check.check(language.analyze("子どもが危ない")) is not None
    assert check.check(language.analyze("危ない")) is None  # no context word
    assert check.check(language.analyze("昔、子どもが危ない目にあった")) is None  # past
