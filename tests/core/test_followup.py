"""Follow-ups in the core: short messages read against the last service, words from the knowledge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.decision.followup import FILE, conversation_words, read_intent
from bot.knowledge.loader import default_root, load_knowledge

KYUSHOKU = "tomakomai/kyushoku-service"


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(load_knowledge(None))


@pytest.mark.parametrize("text,field", [("費用は？", "fee"), ("いくらかかるの", "fee"), ("ひようは", "fee"),
                                        ("どこに申し込むの？", "how_to_apply"), ("申し込み方法は", "how_to_apply"),
                                        ("電話番号は？", "phone"), ("でんわばんごう", "phone"), ("いつやってる？", "schedule"), ("だれが使えるの", "who")])
def test_short_questions_name_a_field(assistant, text, field):
    intent = read_intent(conversation_words(assistant.knowledge), text)
    assert intent is not None and intent.kind == "field" and intent.field.field == field


def test_long_messages_and_plain_questions_are_not_follow_ups(assistant):
    words = conversation_words(assistant.knowledge)
    assert read_intent(words, "車いすを借りたいのですが、費用はどのくらいかかりますか教えてください") is None
    assert read_intent(words, "車いす") is None


def test_a_short_question_naming_a_service_or_about_money_is_a_new_question(assistant):
    assert assistant.follow_up("tomakomai", "お金を借りたい", last_service=KYUSHOKU) is None
    assert assistant.follow_up("tomakomai", "かぎ預かりの費用は？", last_service=KYUSHOKU) is None


def test_a_field_answer_uses_the_last_service_only_from_this_council(assistant):
    service = assistant.knowledge.services[KYUSHOKU]
    answer = assistant.follow_up("tomakomai", "費用は？", last_service=KYUSHOKU)
    assert answer is not None and answer.reason == "followup" and answer.service.id == KYUSHOKU
    assert answer.message == f"{service.title}の費用：{service.fee}"
    assert assistant.follow_up("tomakomai", "費用は？") is None  # nothing answered before: a question
    assert assistant.follow_up("kiyose", "費用は？", last_service=KYUSHOKU) is None  # another council's


def test_thanks_and_asking_for_a_person(assistant):
    thanks = assistant.follow_up("kiyose", "ありがとうございました")
    person = assistant.follow_up("kiyose", "職員さんと話したい")
    assert (thanks.kind, thanks.reason) == ("fallback", "thanks") and thanks.message.startswith("どういたしまして")
    assert person.reason == "person" and person.window == assistant.council("kiyose").window
    assert assistant.follow_up("tomakomai", "いつもありがとう", last_service=KYUSHOKU).reason == "thanks"


def test_a_worry_asking_for_a_person_is_handed_to_one(real_assistant: Assistant):
    """人と話したい reads among the worries (a concern), not as danger: it stays a request for a person."""
    verdict = real_assistant._safety.check(real_assistant.analyze("人と話したい"), real_assistant.encode("人と話したい"))
    assert verdict is not None and verdict.level == "concern"
    assert real_assistant.follow_up("tomakomai", "人と話したい").reason == "person"


def test_danger_wins_over_a_follow_up(assistant):
    assert assistant.follow_up("kiyose", "ありがとう、もう死にたい", last_service=KYUSHOKU) is None


def test_the_words_are_knowledge_data_read_again_with_the_knowledge(tmp_path: Path):
    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    before = Assistant(load_knowledge(root))
    assert before.follow_up("tomakomai", "サンクス") is None
    path = root / FILE
    path.write_text(path.read_text(encoding="utf-8").replace("[ありがとう,", "[サンクス, ありがとう,"), encoding="utf-8")
    after = Assistant(load_knowledge(root))  # what a reload (serve --watch, kb reload) builds
    assert after.follow_up("tomakomai", "サンクス").reason == "thanks"