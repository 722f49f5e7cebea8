"""Reading webhook events without the SDK's models: the same fields as line-bot-sdk reads, never an error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linebot.v3.webhook import WebhookParser

from adapters.line.inbound import NotAWebhook, read_event, webhook_events
from tests.line import webhook as wh

SECRET = "inbound-test-secret"
_ids = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=33)
_text = st.text(max_size=80)
_source = st.one_of(
    st.builds(lambda u: {"type": "user", "userId": "U" + u}, _ids),
    st.builds(lambda g, u: {"type": "group", "groupId": "C" + g, "userId": "U" + u}, _ids, _ids),
    st.builds(lambda r: {"type": "room", "roomId": "R" + r}, _ids),
)
_mention = st.lists(st.fixed_dictionaries(
    {"index": st.integers(0, 50), "length": st.integers(1, 20), "type": st.just("user")},
    optional={"isSelf": st.booleans(), "userId": _ids.map(lambda u: "U" + u)}), min_size=1, max_size=3)


def _message(text: str, mentionees: list | None) -> dict:
    m = {"id": "1", "type": "text", "text": text, "quoteToken": "q"}
    if mentionees:
        m["mention"] = {"mentionees": mentionees}
    return m


_events = st.one_of(
    st.builds(lambda t, ms, src, mode: wh.event("message", source=src, message=_message(t, ms), mode=mode),
              _text, st.none() | _mention, _source, st.sampled_from(["active", "standby"])),
    st.builds(lambda kind, src: wh.media(kind, source=src), st.sampled_from(sorted(wh.MEDIA)), _source),
    st.builds(lambda d, src: wh.postback(d, source=src), st.text(max_size=300), _source),
    st.builds(lambda src: wh.event("follow", source=src, follow={"isUnblocked": False}), _source),
    st.builds(lambda src: wh.event("unfollow", source=src, reply=False), _source),
)


@settings(max_examples=150, deadline=None)
@given(_events)
def test_events_read_as_line_bot_sdk_reads_them(raw: dict) -> None:
    """The SDK's parser is the reference: every field the handlers use agrees with its model."""
    body = json.dumps({"destination": wh.BOT_ID, "events": [raw]})
    [sdk] = WebhookParser(SECRET).parse(body, wh.sign(SECRET, body.encode()))
    destination, [again] = webhook_events(json.loads(body))
    ours = read_event(again)
    assert destination == wh.BOT_ID
    assert ours.type == sdk.type and ours.mode == sdk.mode.value
    assert ours.reply_token == getattr(sdk, "reply_token", None)
    assert ours.webhook_event_id == sdk.webhook_event_id
    assert ours.source.type == sdk.source.type
    for field in ("user_id", "group_id", "room_id"):
        assert getattr(ours.source, field) == getattr(sdk.source, field, None)
    if sdk.type == "message":
        assert ours.message is not None and ours.message.type == sdk.message.type
        assert ours.message.text == getattr(sdk.message, "text", None)
        theirs = getattr(getattr(sdk.message, "mention", None), "mentionees", None) or []
        assert [(m.index, m.length, m.is_self, m.user_id) for m in ours.message.mentionees] == \
               [(m.index, m.length, bool(getattr(m, "is_self", False)), getattr(m, "user_id", None)) for m in theirs]
    if sdk.type == "postback":
        assert ours.postback_data == sdk.postback.data


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=5),
                     max_leaves=25)
_keys = st.sampled_from(["type", "mode", "source", "replyToken", "webhookEventId", "message", "postback", "text",
                         "mention", "mentionees", "index", "length", "isSelf", "userId", "groupId", "data"])
_shaped = st.recursive(_json, lambda kids: st.dictionaries(_keys, kids, max_size=6), max_leaves=30)


@given(_shaped)
def test_any_json_reads_without_an_error(raw) -> None:
    event = read_event(raw)
    assert isinstance(event.type, str) and isinstance(event.mode, str)
    for text in (event.reply_token, event.webhook_event_id, event.postback_data, event.source.user_id):
        assert text is None or isinstance(text, str)
    if event.message is not None:
        assert event.message.text is None or isinstance(event.message.text, str)
        assert all(m.index >= 0 and m.length >= 0 for m in event.message.mentionees)


@pytest.mark.parametrize("body", [[1, 2], {"destination": "U1"}, {"events": "x"}, {"events": [1]},
                                  {"events": [{"type": "follow"}, None]}, "events", None])
def test_what_is_not_a_webhook_is_refused(body) -> None:
    with pytest.raises(NotAWebhook):
        webhook_events(body)


def test_a_verification_request_has_no_events() -> None:
    assert webhook_events({"destination": "U1", "events": []}) == ("U1", [])
