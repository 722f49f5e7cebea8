"""The safety check: danger words in any spelling, and no alarm on look-alikes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.assistant import Assistant
from bot.language.analysis import Language
from bot.knowledge.model import Hotline, Knowledge, SafetyRule
from bot.safety.terms import SafetyCheck


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
        "娘が家を出たきり戻りません",
        "部屋に死ぬと書いたメモがありました",
        "睡眠薬をまとめて飲んだ",
        "手首を切ってしまった",
        "知らない人にずっとつけられている",
        "ママにごはんもらえない",
        "おばあちゃんが餅をつまらせた",
        "台所から火が出た",
        "ばあちゃんがおらんようになった",
        "赤ちゃんを揺さぶってしまった",
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
        "息子さんの怒鳴り声が聞こえる。高齢者への虐待の相談先は？",  # an adult son: the council's window
        "溺れないための水泳教室",  # a class, not a danger now
        "行方不明者の捜索ボランティア",
        "父の通帳が見当たらない",
        "トイレを詰まらせた",
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


def _reference_fired(assistant: Assistant, text: str) -> set[str]:
    """The safety rules, checked the slow, obvious way: every term, every occurrence."""
    from bot.language.analysis import lemmas
    from bot.language.normalize import fold, is_kanji

    language = assistant.language
    q = language.analyze(text)
    typed, words = q.folded + "。", q.lemmas + "。|"
    fired = set()
    for rule in assistant.knowledge.safety:
        if rule.context and not any(c in q.folded for t in rule.context for c in (fold(t), language.reading(t)) if c):
            continue
        if any(fold(t) in q.folded for t in rule.unless):
            continue
        for term in rule.terms:
            forms = {fold(term)} if len(fold(term)) >= 2 else set()
            reading = language.reading(term)
            if reading not in forms and len(reading) >= 3:
                forms.add(reading)
            ends = q.starts | {len(typed) - 1} if q.starts is not None else None
            at = [i for f in forms for i in range(len(typed)) if typed.startswith(f, i)
                  and (is_kanji(f[0])
                       or (ends is None and (i == 0 or not is_kanji(typed[i - 1])))
                       or (ends is not None and i in ends and (len(f) > 3 or i + len(f) in ends)))]
            tokens = language.tokenizer.tokenize(term)
            lemma = lemmas(tokens)
            cut_after_te = bool(tokens) and tokens[-1].word in ("て", "で")
            if at or (not cut_after_te and lemma.count("|") >= 3 and lemma in words):
                fired.add(rule.id)
    return fired


_PIECES = ["死にたい", "しにたい", "死にてぇ", "死んで", "いしょ", "いしょく", "受けられ", "医師に対して", "殴られた", "なぐる", "小さなグループ", "虐待", "高齢者",
           "子どもが", "火事", "見舞金", "帰ってこん", "父が", "いなくなった", "猫が", "。", "、", "もう", "はいしょく"]


@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6))
@settings(max_examples=150, deadline=None)
def test_safety_patterns_match_the_plain_reference(fixture_assistant: Assistant, pieces: list[str]) -> None:
    text = "".join(pieces)
    alert = fixture_assistant._safety.terms.check(fixture_assistant.analyze(text))
    fast = {r.id for r in alert.rules} if alert else set()
    assert fast == _reference_fired(fixture_assistant, text)


_PROBES = yaml.safe_load((Path(__file__).parent / "safety_probes.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("message", _PROBES["danger"])
def test_probe_danger_is_caught(real_assistant: Assistant, message: str) -> None:
    assert real_assistant.ask("komoro", message).kind == "emergency"


# Look-alikes written against the term rules that the detector still reads as danger:
# their nearest danger messages share the very words (トイレで水をかけられた, つけられてる).
# Known false alarms, kept visible: strict, so a fix shows up here.
# 一人でいない方がいい holds the very characters of 自分なんかいない方がいい: the wording reads it so.
# 帰ってこれるか心配, read as a missing person since stop 29, was a plain question from stop 34 (the
# thirty-fourth and thirty-fifth writers' worries and look-alikes in question form) to stop 43, when
# the line went from 0.0035 to 0.0025 and it reads at 0.0034 (across writers, equal recall for a
# tenth to a fifth fewer look-alike alarms; held out, 2 fewer danger messages for 8 fewer alarms).
# 寝る場所がない (a messy room) read at a margin of 0.0044, under the line until stop 39 lowered it to
# 0.0035 (every figure across writers better at that line, held-out look-alike alarms 155 → 149).
_DETECTOR_FALSE_ALARMS = {"トイレを詰まらせた", "名前をつけられている", "一人でいない方がいいと言われた",
                          "部屋が散らかって寝る場所がないから片付けます", "帰ってこれるか心配"}


@pytest.mark.parametrize("message", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason="known detector false alarm"))
    if m in _DETECTOR_FALSE_ALARMS else m for m in _PROBES["calm"]])
def test_probe_look_alike_is_not_an_alarm(real_assistant: Assistant, message: str) -> None:
    assert real_assistant.ask("komoro", message).kind != "emergency"
