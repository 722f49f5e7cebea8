"""What a resident sees for every LINE event kind, end to end over real HTTP."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from adapters.line.calls import hotline_tel
from tests.line import webhook as wh
from tests.line.conftest import CHANNELS, LineServer
from tests.line.fake_api import FakeLineAPI, Recorded


def exchange(line: LineServer, fake: FakeLineAPI, council: str, event: dict) -> Recorded:
    """Send one event and return the one reply it caused (asserting it was accepted and is alone)."""
    line.send(council, event)
    fake.wait_for(1)
    line.settle()
    replies = fake.replies()
    assert len(replies) == 1, [r.body for r in replies]
    rec = replies[0]
    assert rec.body["replyToken"] == event["replyToken"]
    assert rec.authorization == f"Bearer {CHANNELS[council][1]}"
    assert rec.errors == []
    return rec


def nothing_sent(line: LineServer, fake: FakeLineAPI, council: str, event: dict) -> None:
    line.send(council, event)
    line.settle()
    assert fake.requests == []


def quick(message: dict) -> list[dict]:
    return [i["action"] for i in (message.get("quickReply") or {}).get("items", [])]


def data(action: dict) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(action["data"]).items()}


def _nodes(message: dict, kind: str) -> list[dict]:
    """Every node of a Flex message's contents with `"type": kind`, in document order."""
    out: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == kind:
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(message["contents"])
    return out


def flex_texts(message: dict) -> list[str]:
    return [n["text"] for n in _nodes(message, "text") if "text" in n]


# -- text → answer ----------------------------------------------------------
def test_typo_question_gets_a_flex_card_with_feedback_and_related(line, fake_line):
    event = wh.text("給食サビース")
    rec = exchange(line, fake_line, "tomakomai", event)
    [m] = rec.messages
    assert m["type"] == "flex" and m["contents"]["type"] == "bubble"
    texts = flex_texts(m)
    assert "給食サービス（食事の配達）" in texts
    assert any(t.startswith("費用：") or t == "費用" for t in texts) and "1食400円（利用者の負担）" in texts
    assert "窓口：苫小牧市社協 総務課" in texts and "お問い合わせは社協の窓口へ。" in texts  # no phone known: none invented
    assert "準備中" not in texts  # and no dead line
    assert "tel:" not in json.dumps(m)
    assert m["altText"].startswith("【給食サービス（食事の配達）】") and "窓口：苫小牧市社協 総務課" in m["altText"]
    # feedback carries the question's event id; related services are quick replies carrying their ids
    fb = [a for a in _buttons(m) if a["type"] == "postback"]
    assert [a["label"] for a in fb] == ["はい", "いいえ"]
    assert {data(a)["e"] for a in fb} == {event["webhookEventId"]}
    qr = quick(m)
    assert data(qr[-1]) == {"a": "menu"}
    assert {data(a)["id"] for a in qr[:-1]} >= {"tomakomai/kagi-azukari"}
    entry = line.querylog.entries[-1]
    assert (entry.event_id, entry.kind, entry.top_ids[0], entry.channel) == (
        event["webhookEventId"], "answer", "tomakomai/kyushoku-service", "line")


def _buttons(message: dict) -> list[dict]:
    return [n["action"] for n in _nodes(message, "button")]


def test_kana_question_offers_choices_as_quick_replies_carrying_service_ids(line, fake_line):
    rec = exchange(line, fake_line, "tomakomai", wh.text("おかねを かしてほしい"))
    [m] = rec.messages
    assert m["type"] == "text" and m["text"].startswith("いくつか当てはまりそうなサービスがあります")
    ids = [data(a)["id"] for a in quick(m)]
    assert {"tomakomai/seikatsu-fukushi-shikin", "tomakomai/seikatsu-okyu-shikin"} <= set(ids)
    assert all(i.startswith("tomakomai/") for i in ids)
    assert all(data(a)["a"] == "svc" for a in quick(m))


def test_not_offered_says_so_then_the_window(line, fake_line):
    rec = exchange(line, fake_line, "kiyose", wh.text("かぎ預かり"))
    first, second = rec.messages
    assert first["text"].startswith("かぎ預かりは清瀬市社協では行っていません。")
    assert second["text"].splitlines()[0] == "窓口：清瀬市社会福祉協議会"


def test_crisis_puts_hotlines_first_each_a_tap_to_call_button(line, fake_line, live):
    rec = exchange(line, fake_line, "kiyose", wh.text("もう死にたい"))
    first, kind, window = rec.messages
    expected = live.assistant.ask("kiyose", "もう死にたい")
    assert first["type"] == "flex" and len(expected.hotlines) >= 2
    calls = [a for a in _buttons(first) if a["type"] == "uri"]
    assert [a["uri"] for a in calls] == [hotline_tel(h.number) for h in expected.hotlines]
    assert all(a["uri"].startswith("tel:") and a["label"].endswith("に電話する") for a in calls)
    alt = first["altText"].splitlines()
    assert alt == [f"☎ {h.name} {h.number}" + (f"（{h.hours}）" if h.hours else "") for h in expected.hotlines]
    assert "ひとりで抱えこまないでください" in kind["text"]
    assert window["text"].startswith("窓口：清瀬市社会福祉協議会") and quick(window)  # the menu, on the last
    assert line.querylog.entries[-1].kind == "emergency"


# -- follow / unfollow / others -----------------------------------------------
def test_follow_greets_with_category_quick_replies_paged(line, fake_line, live):
    rec = exchange(line, fake_line, "tomakomai", wh.event("follow", follow={"isUnblocked": False}))
    [m] = rec.messages
    assert m["text"].startswith("友だち追加ありがとうございます。苫小牧市社会福祉協議会")
    items = quick(m)
    menu = live.assistant.menu("tomakomai")
    assert len(menu.choices) == 14 and len(items) == 13  # 12 categories + もっと見る
    assert [a["label"] for a in items[:12]] == [o.label for o in menu.choices[:12]]
    assert items[12]["label"] == "もっと見る" and data(items[12]) == {"a": "menu", "p": "1"}

    fake_line.clear()
    rec = exchange(line, fake_line, "tomakomai", wh.postback(items[12]["data"]))
    rest = quick(rec.messages[0])
    assert [a["label"] for a in rest] == [o.label for o in menu.choices[12:]]


@pytest.mark.parametrize("kind", ["unfollow", "join", "leave", "memberJoined", "beacon"])
def test_events_that_need_no_answer_send_nothing(line, fake_line, kind):
    extra = {"unfollow": {}, "join": {}, "leave": {},
             "memberJoined": {"joined": {"members": [{"type": "user", "userId": wh.USER_ID}]}},
             "beacon": {"beacon": {"hwid": "d41d8cd98f", "type": "enter"}}}[kind]
    source = wh.group() if kind in ("join", "leave", "memberJoined") else None
    nothing_sent(line, fake_line, "tomakomai", wh.event(kind, source=source, reply=kind != "unfollow", **extra))


def test_standby_mode_events_are_left_to_the_active_channel(line, fake_line):
    nothing_sent(line, fake_line, "tomakomai", wh.text("給食サビース") | {"mode": "standby"})


def test_an_unknown_future_event_type_sends_nothing(line, fake_line):
    nothing_sent(line, fake_line, "tomakomai", wh.event("somethingNew", something={"x": 1}))


# -- postbacks ----------------------------------------------------------------
def test_postback_service_category_and_feedback(line, fake_line):
    question = wh.text("せいねんこうけん")
    choice = quick(exchange(line, fake_line, "tomakomai", question).messages[0])[0]

    fake_line.clear()
    picked = exchange(line, fake_line, "tomakomai", wh.postback(choice["data"]))
    [m] = picked.messages
    assert m["type"] == "flex" and flex_texts(m)[1] == choice["displayText"]  # the chosen service's title
    yes, no = [a for a in _buttons(m) if a["type"] == "postback"]
    assert data(yes)["e"] == question["webhookEventId"]  # the pick keeps the question's id for feedback

    fake_line.clear()
    thanks = exchange(line, fake_line, "tomakomai", wh.postback(no["data"]))
    assert thanks.messages[0]["text"].startswith("お役に立てず、ごめんなさい。")
    assert thanks.messages[1]["text"].startswith("窓口：苫小牧市社会福祉協議会")
    assert [a["label"] for a in quick(thanks.messages[1])] == ["職員に相談する", "メニュー"]  # いいえ → a person
    assert line.querylog.feedbacks == [
        {"council": "tomakomai", "event_id": question["webhookEventId"], "value": "no"}]

    fake_line.clear()
    cat = exchange(line, fake_line, "tomakomai", wh.postback("a=cat&id=kenri"))
    [m] = cat.messages
    assert m["text"] == "「お金の管理・成年後見」のサービスです。近いものを選んでください。"
    assert "tomakomai/seinen-koken-shien-center" in [data(a)["id"] for a in quick(m)]


def test_postback_we_did_not_make_shows_the_menu(line, fake_line):
    rec = exchange(line, fake_line, "kiyose", wh.postback("action=buy&itemid=111"))
    items = quick(rec.messages[0])
    assert [data(a)["a"] for a in items] == ["cat"] * 12 + ["menu"]


def test_staff_only_service_is_never_shown_on_line(line, fake_line, live):
    staff = next(s for s in live.assistant.knowledge.services_of("kiyose") if s.audience == "staff")
    rec = exchange(line, fake_line, "kiyose", wh.postback(f"a=svc&id={staff.id}"))
    assert staff.title not in json.dumps(rec.body, ensure_ascii=False)
    assert rec.messages[0]["text"].startswith("そのサービスは見つかりませんでした。")


# -- non-text messages --------------------------------------------------------
@pytest.mark.parametrize("kind,name", [("sticker", "スタンプ"), ("image", "画像"), ("audio", "音声"),
                                       ("video", "動画"), ("file", "ファイル"), ("location", "位置情報")])
def test_non_text_messages_get_a_kind_message_with_the_menu(line, fake_line, kind, name):
    rec = exchange(line, fake_line, "kiyose", wh.media(kind))
    [m] = rec.messages
    assert m["text"].startswith(f"{name}を受け取りました。") and "文字のメッセージだけ" in m["text"]
    assert quick(m) and all(data(a)["a"] in ("cat", "menu") for a in quick(m))


# -- groups and rooms ---------------------------------------------------------
def test_group_chatter_without_a_mention_is_ignored(line, fake_line):
    nothing_sent(line, fake_line, "tomakomai", wh.text("給食サービスってどう？", source=wh.group()))
    nothing_sent(line, fake_line, "tomakomai", wh.media("sticker", source=wh.group()))
    other = "@たなか 給食サービスってどう？"
    nothing_sent(line, fake_line, "tomakomai", wh.text(
        other, source=wh.group(), mention_=wh.mention(other, "@たなか", is_self=False, user_id="Uother")))


def test_group_mention_of_the_bot_is_answered_without_the_mention(line, fake_line):
    msg = "@まどぐち 給食サビース"
    event = wh.text(msg, source=wh.group(), mention_=wh.mention(msg, "@まどぐち"))
    rec = exchange(line, fake_line, "tomakomai", event)
    assert "給食サービス（食事の配達）" in flex_texts(rec.messages[0])
    assert line.querylog.entries[-1].question == "給食サビース"


def test_room_mention_by_bot_user_id_is_answered(line, fake_line):
    msg = "かぎ預かり @まどぐち"
    event = wh.text(msg, source=wh.room(), mention_=wh.mention(msg, "@まどぐち", is_self=None, user_id=wh.BOT_ID))
    rec = exchange(line, fake_line, "kiyose", event)
    assert rec.messages[0]["text"].startswith("かぎ預かりは清瀬市社協では行っていません。")


def test_mention_alone_shows_the_menu(line, fake_line):
    msg = "@まどぐち"
    rec = exchange(line, fake_line, "kiyose", wh.text(msg, source=wh.group(), mention_=wh.mention(msg, msg)))
    assert rec.messages[0]["text"].startswith("こんにちは。清瀬市社協")
    assert quick(rec.messages[0])
