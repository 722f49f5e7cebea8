"""Tap-to-call and the danger levels as LINE renders them, checked against LINE's own schema."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from adapters.line.calls import hotline_tel
from adapters.line.flex import render
from bot.answer import Answer, Danger, Option
from bot.knowledge.model import Contact, Hotline
from tests.line.fake_api import SPEC
from tests.line.uris import uris

WINDOW = Contact(name="清瀬市社会福祉協議会")
LINES = (Hotline("DV相談ナビ", "#8008"), Hotline("DV相談＋（プラス）", "0120-279-889", hours="24時間・無料"))


def conforming(messages) -> list[dict]:
    dicts = list(messages)
    assert SPEC.errors("POST", "/v2/bot/message/reply", {"replyToken": "t", "messages": dicts}) == []
    return dicts


def test_hotline_numbers_become_dialable_uris():
    assert hotline_tel("110") == "tel:110"
    assert hotline_tel("#8008") == "tel:%238008"  # a bare # would end the URI
    assert hotline_tel("＃７１１９") == "tel:%237119"
    assert hotline_tel("0120-0-78310") == "tel:0120078310"
    assert hotline_tel("なし") is None and hotline_tel("#") is None


@given(st.text(alphabet="0123456789#*-+ （）", min_size=1, max_size=20))
def test_a_hotline_uri_dials_exactly_the_numbers_digits(number):
    uri = hotline_tel(number)
    dialable = "".join(ch for ch in number if ch in "0123456789#*+")
    if not any(ch.isdigit() for ch in number):
        assert uri is None
        return
    assert uri is not None and "#" not in uri and unquote(uri.removeprefix("tel:")) == dialable


def test_concern_answers_as_usual_then_one_kind_line_with_its_numbers():
    note = "つらいときは、ひとりで抱えずに相談してください。"
    plain = Answer("choices", "kiyose", "清瀬", "q", "選んでください", WINDOW, "ambiguous",
                   choices=(Option("kiyose/a", "A", "A"), Option("kiyose/b", "B", "B")))
    messages = render(replace(plain, hotlines=LINES, danger=Danger("concern", ("dv",), note)))
    usual = render(plain)
    dicts = conforming(messages)
    assert len(dicts) == len(usual) + 1
    assert dicts[0]["text"] == usual[0]["text"] and "quickReply" not in dicts[0]  # quick replies move to the last
    last = dicts[-1]
    assert last["altText"].splitlines()[-1] == note
    assert uris(last) == ["tel:%238008", "tel:0120279889"]
    assert [i["action"]["label"] for i in last["quickReply"]["items"]] == ["A", "B"]


def test_emergency_level_keeps_the_lines_first():
    answer = Answer("emergency", "kiyose", "清瀬", "q", "すぐに相談してください。", WINDOW, "crisis", hotlines=LINES,
                    danger=Danger("emergency", ("dv",)))
    first, kind, window = conforming(render(answer))
    assert uris(first) == ["tel:%238008", "tel:0120279889"] and kind["text"] == "すぐに相談してください。"
    assert window["text"].startswith("窓口：")


def test_fallback_guesses_are_offered_as_maybe_quick_replies():
    answer = Answer("fallback", "kiyose", "清瀬", "くるまいし", "見つかりませんでした。", WINDOW, "no_match",
                    choices=(Option("kiyose/kuruma-isu", "車いすの貸し出し", "車いすの貸し出し"),))
    *_, maybe = conforming(render(answer))
    assert maybe["text"].startswith("もしかして") and "・車いすの貸し出し" in maybe["text"]
    actions = [i["action"] for i in maybe["quickReply"]["items"]]
    assert actions[0]["data"] == "a=svc&id=kiyose%2Fkuruma-isu" and actions[-1]["label"] == "メニュー"


def test_a_window_with_a_known_number_gets_a_call_button():
    window = Contact(name="総務課", phone="042-495-5522（代表）")
    answer = Answer("fallback", "kiyose", "清瀬", "x", "見つかりませんでした。", window, "no_match")
    text, bubble = conforming(render(answer))
    assert uris(bubble) == ["tel:0424955522"] and "電話：042-495-5522（代表）" in bubble["altText"]
    assert bubble["quickReply"]["items"][-1]["action"]["label"] == "メニュー"
