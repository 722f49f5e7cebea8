"""Every reply the five councils' knowledge can produce fits LINE's limits.

Rendered without HTTP (thousands of replies), then checked three times: by
the limits as LINE documents them (`limit_errors`, the same check the fake
API applies), by line-bot-sdk's own request model (which must read each body
back unchanged) and by LINE's OpenAPI schema.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest
from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

from adapters.line.events import Context, _menu
from adapters.line.flex import ALT_MAX, BUBBLE_MAX, bubble_bytes, render, utf16_len
from adapters.line.texts import KIND_NAMES, T
from adapters.runtime import Runtime
from adapters.config import Config
from bot.knowledge.model import Contact
from tests.line.fake_api import SPEC, limit_errors

ORIGIN = "01JZZZZZZZZZZZZZZZZZZZZZZZ"  # a webhookEventId is a 26-character ULID
SAMPLES = ["死にたい", "もう限界、消えたい", "虐待されている", "こんにちは", "ｘｙｚ", "", "?", "宇宙旅行の補助金",
           "ピアノ教室", "a" * 5000, "相談したい"]


def _replies(live):
    """(label, messages) for every distinct answer, menu and sample the knowledge can produce."""
    a = live.assistant
    k = a.knowledge
    ctx = Context(Runtime(live=live, config=Config()), "")
    seen: set = set()

    def once(label, answer):
        key = replace(answer, query="", results=(), staff=None)  # what the reply is made of
        if key not in seen:
            seen.add(key)
            yield label, render(answer, origin=ORIGIN)

    for cid, council in sorted(k.councils.items()):
        ctx = replace(ctx, council=cid)
        for s in k.services_of(cid):
            yield f"pick {s.id}", render(a.pick(cid, s.id), origin=ORIGIN)
            for q in (*s.examples, s.title):
                yield from once(f"ask {cid} {q}", a.ask(cid, q))
        for n in council.not_offered:
            for q in (n.topic, *n.terms):
                yield from once(f"not offered {cid} {q}", a.ask(cid, q))
        for q in SAMPLES:
            yield from once(f"sample {cid} {q[:10]}", a.ask(cid, q))
        top = a.menu(cid)
        pages = (len(top.choices) + 11) // 12
        for p in range(pages + 1):
            yield f"menu {cid} p{p}", _menu(ctx, page=p)
        yield f"greeting {cid}", _menu(ctx, lead=T.greeting.format(council=council.name))
        for kind in KIND_NAMES.values():
            yield f"kind {cid} {kind}", _menu(ctx, lead=T.kind.format(kind=kind))
        for o in top.choices:
            cat = o.id.removeprefix("category:")
            members = a.menu(cid, category=cat).choices
            for p in range((len(members) + 11) // 12 + 1):
                yield f"category {cid} {cat} p{p}", _menu(ctx, category=cat, page=p)


@pytest.fixture(scope="module")
def everything(live):
    return [(label, messages) for label, messages in _replies(live)]


def test_every_reply_fits_lines_limits(everything):
    kinds, biggest, longest = Counter(), 0, 0
    for label, messages in everything:
        body = {"replyToken": "t", "messages": messages}
        assert limit_errors(body) == [], label
        # the SDK's own validation (≤5 messages, each model's fields), which reads every field back unchanged
        assert ReplyMessageRequest.from_dict(body).to_dict()["messages"] == messages, label
        assert SPEC.errors("POST", "/v2/bot/message/reply", body) == [], label
        for m in messages:
            kinds[m["type"]] += 1
            if m["type"] == "flex":
                biggest = max(biggest, bubble_bytes(m["contents"]))
                longest = max(longest, utf16_len(m["altText"]))
    assert biggest <= BUBBLE_MAX and longest <= ALT_MAX
    assert len(everything) > 1000
    assert kinds["flex"] > 390 and kinds["text"] > 500  # every resident service was rendered as a card
    print(f"\n{len(everything)} distinct replies ({dict(kinds)}); largest bubble {biggest} B of {BUBBLE_MAX}; "
          f"longest altText {longest} of {ALT_MAX}")


def test_every_service_card_shows_the_facts_and_a_window(everything, live):
    k = live.assistant.knowledge
    cards = {label.removeprefix("pick "): dicts for label, dicts in everything if label.startswith("pick ")}
    for sid, dicts in cards.items():
        s = k.services[sid]
        dumped = json.dumps(dicts, ensure_ascii=False)
        if s.audience == "staff":
            assert dicts[0]["type"] == "text" and s.title not in dumped  # staff entries never on LINE
            continue
        assert dicts[0]["type"] == "flex", sid
        assert s.title in dumped and "問い合わせ先" in dumped and "役に立ちましたか？" in dumped
        if s.fee:
            assert "費用" in dumped
        assert ("tel:" in dumped) == bool(s.contact.phone)  # bundled knowledge has no phones: no call button


def test_a_known_phone_becomes_a_tap_to_call_button(live):
    a = live.assistant
    answer = a.pick("tomakomai", "tomakomai/kyushoku-service")
    card = replace(answer.service, window=Contact(name="総務課", phone="０１４４－３２－７１１１（代表）", hours="平日 8:45〜17:15"))
    [m] = render(replace(answer, service=card), origin=ORIGIN)
    buttons = [b for b in m["contents"]["footer"]["contents"] if b["type"] == "button"]
    assert buttons[0]["action"]["uri"] == "tel:0144327111" and buttons[0]["action"]["label"] == "電話する"
    assert "電話：０１４４－３２－７１１１（代表）" in m["altText"] and "受付：平日 8:45〜17:15" in m["altText"]



def test_staff_messages_and_the_dialogues_buttons_conform():
    from adapters.line.dialogue import person_item
    from adapters.line.flex import menu_item, text_message

    staff = text_message("職員より", quick=[person_item(), menu_item()])
    staff["sender"] = {"name": "社協の職員"}
    body = {"to": "U" + "0" * 32, "messages": [staff]}
    assert SPEC.errors("POST", "/v2/bot/message/push", body) == []
    assert PushMessageRequest.from_dict(body).to_dict()["messages"] == [staff]
