"""The pieces the replies are built from: limits, phone buttons, postback data, mentions."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.line.events import _without_mentions
from adapters.line.flex import BUBBLE_MAX, bubble_bytes, cut, render, tel_uri, utf16_len
from adapters.line.inbound import read_event
from adapters.line.postback import DATA_MAX, Postback, decode, encode
from bot.answer import Answer, Option, ServiceCard
from bot.knowledge.model import Contact
from tests.line.uris import uris


@given(st.text(), st.integers(min_value=1, max_value=60))
def test_cut_never_exceeds_the_limit_nor_splits_a_character(text, limit):
    out = cut(text, limit)
    assert utf16_len(out) <= limit
    assert out == text or out.endswith("…")
    out.encode("utf-16-le")  # no lone surrogate


def test_utf16_counts_emoji_outside_the_bmp_as_two():
    assert utf16_len("相談😀") == 4
    assert cut("😀😀😀", 4) == "😀…"


def test_tel_uri_only_for_a_real_number():
    assert tel_uri("0144-32-7111") == "tel:0144327111"
    assert tel_uri("０１２０－２７９－３３８（無料）") == "tel:0120279338"
    assert tel_uri("代表 0570-064-556／FAX 03-1234-5678") == "tel:0570064556"
    assert tel_uri(None) is None and tel_uri("") is None
    assert tel_uri("平日9時から") is None and tel_uri("内線 123") is None


@given(st.sampled_from(["svc", "cat", "menu", "fb"]), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/",
                                                            max_size=200), st.integers(0, 100),
       st.sampled_from(["", "yes", "no"]), st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", max_size=26))
def test_postback_data_round_trips_within_300(action, id_, page, value, origin):
    pb = Postback(action, id_, page, value, origin)
    data = encode(pb)
    assert len(data) <= DATA_MAX
    assert decode(data) == pb


@given(st.sampled_from(["svc", "cat", "menu", "fb", "ho"]), st.text(max_size=60), st.integers(0, 100),
       st.text(max_size=5), st.text(max_size=30))
def test_postback_data_is_what_urlencode_writes(action, id_, page, value, origin):
    fields = {"a": action, "id": id_, "p": str(page) if page else "", "v": value, "e": origin}
    full = urlencode({k: v for k, v in fields.items() if v})
    short = urlencode({k: v for k, v in fields.items() if v and k != "e"})
    expected = full if len(full) <= DATA_MAX else short if len(short) <= DATA_MAX else None
    if expected is None:
        with pytest.raises(ValueError):
            encode(Postback(action, id_, page, value, origin))
    else:
        assert encode(Postback(action, id_, page, value, origin)) == expected


def test_postback_drops_the_origin_rather_than_exceed_the_limit():
    pb = Postback("svc", "kiyose/" + "x" * 260, origin="01J" + "0" * 23)
    assert decode(encode(pb)) == Postback("svc", pb.id)
    with pytest.raises(ValueError):
        encode(Postback("svc", "あ" * 120))


def test_an_option_whose_id_cannot_fit_is_left_out_not_fatal():
    window = Contact(name="窓口")
    ok, huge = Option("kiyose/a", "A", "A"), Option("kiyose/" + "x" * 400, "B", "B")
    answer = Answer("choices", "kiyose", "清瀬", "q", "選んでください", window, "ambiguous", choices=(ok, huge))
    [m] = render(answer)
    assert [i["action"]["label"] for i in m["quickReply"]["items"]] == ["A"]


def test_foreign_postback_data_is_not_ours():
    for data in ["", "action=buy&itemid=1", "a=svc&p=x", "a=delete", "%%%", "a=menu&p=-1"]:
        assert decode(data) is None, data


def test_mentions_are_cut_by_utf16_index():
    text = "😀@まどぐち 配食サービス"
    content = read_event({"message": {"type": "text", "text": text,
                                      "mention": {"mentionees": [{"index": 2, "length": 5}]}}}).message
    assert _without_mentions(text, content) == "😀 配食サービス".strip()


def test_a_card_with_every_field_at_its_longest_still_fits():
    long = "長い説明の文章です。" * 300
    window = Contact(name=long, phone="0144-32-7111 " + long, hours=long, address=long, url="https://example.jp/" + "a" * 900)
    card = ServiceCard(id="tomakomai/" + "x" * 100, title=long, summary=long, window=window, category="soudan",
                       status="paused", status_note=long, who=long, how_to_apply=long, fee=long, schedule=long)
    related = tuple(Option(f"tomakomai/r{i}", long, "関連サービスの名前がとても長い") for i in range(20))
    answer = Answer("answer", "tomakomai", long, long, long, window, "matched", service=card, related=related)
    [m] = render(answer, origin="01J" + "0" * 23)
    assert m["type"] == "flex"
    assert bubble_bytes(m["contents"]) <= BUBBLE_MAX and utf16_len(m["altText"]) <= 1500
    assert len(m["quickReply"]["items"]) == 13 and m["quickReply"]["items"][-1]["action"]["label"] == "メニュー"




@given(st.one_of(st.none(), st.text(max_size=40), st.builds(lambda s: "https://" + s, st.text(max_size=40)),
                 st.sampled_from(["javascript:alert(1)", "https://example.jp/窓口", "http://example.jp/",
                                  "https://example.jp/ok"])),
       st.one_of(st.none(), st.sampled_from(["https://shakyo.example.jp/", "javascript:void(0)"])))
def test_a_card_never_carries_an_invalid_uri_action(url, council_url):
    """Only `tel:` and https addresses that pass the knowledge's own URL check become URI actions."""
    from bot.knowledge.contacts import url_problem

    card = ServiceCard(id="minato/x", title="t", summary="s", window=Contact(name="係", url=url), category="c")
    answer = Answer("answer", "minato", "みなと", "q", "m", Contact(name="窓口", url=council_url), "matched",
                    service=card)
    [m] = render(answer, origin="01J" + "0" * 23)
    found = uris(m["contents"])
    assert all(u.startswith("tel:") or url_problem(u) is None for u in found)
    expected = [u for u in (url, council_url) if u and url_problem(u) is None][:1]
    assert [u for u in found if not u.startswith("tel:")] == expected
