"""A conversation that remembers: follow-ups, numbers, thanks and the loading animation, over real HTTP."""

from __future__ import annotations

import itertools
from dataclasses import replace

from tests.line import webhook as wh
from tests.line.test_conversation import data, exchange, flex_texts, quick

_users = itertools.count(1)
LOADING = "/v2/bot/chat/loading/start"


def resident() -> dict:
    """A fresh one-to-one chat (each test its own user: state is per user)."""
    return {"type": "user", "userId": f"U{next(_users):032x}"}


def test_fee_apply_and_phone_refer_to_the_service_just_answered(line, fake_line, live):
    who = resident()
    card = exchange(line, fake_line, "tomakomai", wh.text("給食サビース", source=who)).messages[0]
    assert "給食サービス（食事の配達）" in flex_texts(card)
    service = live.assistant.knowledge.services["tomakomai/kyushoku-service"]

    fake_line.clear()
    fee, window = exchange(line, fake_line, "tomakomai", wh.text("費用は？", source=who)).messages
    assert fee["text"] == f"給食サービス（食事の配達）の費用：{service.fee}"
    assert window["text"].startswith("窓口：苫小牧市社協") and data(quick(window)[-1]) == {"a": "menu"}
    assert line.querylog.entries[-1].top_ids[0] == "tomakomai/kyushoku-service"

    fake_line.clear()
    apply, _ = exchange(line, fake_line, "tomakomai", wh.text("どこに申し込むの？", source=who)).messages
    expected = service.how_to_apply or "ここには載っていません"
    assert apply["text"].startswith("給食サービス（食事の配達）の申し込み") and expected in apply["text"]

    fake_line.clear()
    phone, window = exchange(line, fake_line, "tomakomai", wh.text("電話番号は？", source=who)).messages
    assert phone["text"] == "給食サービス（食事の配達）の問い合わせ先です。"
    assert window["text"].startswith("窓口：苫小牧市社協")

    fake_line.clear()  # someone else asking the same is asking a new question
    other = exchange(line, fake_line, "tomakomai", wh.text("費用は？", source=resident())).messages
    assert "給食サービス" not in str(other)


def test_a_number_picks_from_the_last_choices_and_one_out_of_range_shows_them_again(line, fake_line, live):
    who = resident()
    [choices] = exchange(line, fake_line, "tomakomai", wh.text("おかねを かしてほしい", source=who)).messages
    ids = [data(a)["id"] for a in quick(choices)]
    assert len(ids) >= 2

    fake_line.clear()
    [again] = exchange(line, fake_line, "tomakomai", wh.text("９", source=who)).messages  # 全角 too
    assert again["text"].startswith(f"9番はありません。1から{len(ids)}の番号で選んでください。")
    assert [data(a)["id"] for a in quick(again)] == ids

    fake_line.clear()
    [picked] = exchange(line, fake_line, "tomakomai", wh.text("2番", source=who)).messages
    assert live.assistant.knowledge.services[ids[1]].title in flex_texts(picked)


def test_thanks_gets_a_closing_not_the_greeting(line, fake_line):
    closing, window = exchange(line, fake_line, "kiyose", wh.text("ありがとうございました！", source=resident())).messages
    assert closing["text"].startswith("どういたしまして。") and "友だち追加" not in closing["text"]
    assert window["text"].startswith("窓口：")
    assert line.querylog.entries == []  # a thank-you is not a question for the unanswered report


def test_a_danger_message_is_never_taken_for_a_follow_up(line, fake_line):
    who = resident()
    exchange(line, fake_line, "kiyose", wh.text("車いすを借りたい", source=who))
    fake_line.clear()
    first, *_ = exchange(line, fake_line, "kiyose", wh.text("ありがとう、もう死にたい", source=who)).messages
    assert first["type"] == "flex" and "tel:" in str(first)  # the lines first


def test_the_loading_animation_shows_when_an_answer_is_slow(line, fake_line):
    config = line.runtime.config
    who = resident()
    exchange(line, fake_line, "tomakomai", wh.text("給食サービス", source=who))
    assert fake_line.on(LOADING) == []  # a fast answer needs none

    line.runtime.config = replace(config, loading_after=0.0)  # every answer is "slow"
    try:
        fake_line.clear()
        exchange(line, fake_line, "tomakomai", wh.text("かぎを預けたい", source=who))
        [loading] = fake_line.on(LOADING)
        assert loading.body == {"chatId": who["userId"], "loadingSeconds": 20} and loading.spec_errors == []
        assert fake_line.requests.index(loading) < fake_line.requests.index(fake_line.replies()[0])

        fake_line.clear()  # a group cannot show it
        mention = wh.mention("@まどぐち 給食サービス", "@まどぐち")
        exchange(line, fake_line, "tomakomai", wh.text("@まどぐち 給食サービス", mention_=mention, source=wh.group()))
        assert fake_line.on(LOADING) == []
    finally:
        line.runtime.config = config
