"""The reply and push bodies as sent: `encode_messages` against `json.dumps`, the obvious reference."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.line.client import encode_messages
from adapters.line.limits import MAX_MESSAGES

_messages = st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": st.text()}), max_size=7)  # no surrogates


@given(_messages)
def test_encoded_messages_read_back_as_the_first_five(messages) -> None:
    """Any text (emoji, combining marks, controls) gives valid UTF-8 JSON of the messages LINE may take."""
    raw = encode_messages(messages)
    assert json.loads(raw.decode("utf-8")) == messages[:MAX_MESSAGES]


def test_japanese_is_sent_as_utf8_not_escapes() -> None:
    raw = encode_messages([{"type": "text", "text": "配食サービス"}])
    assert raw == '[{"type":"text","text":"配食サービス"}]'.encode()
    assert len(raw) < len(json.dumps([{"type": "text", "text": "配食サービス"}]).encode())


def test_a_lone_surrogate_falls_back_to_escapes() -> None:
    """No valid UTF-8 holds "\\ud800": the body is then ASCII JSON, which still reads back."""
    messages = [{"type": "text", "text": "あ\ud800い"}]
    raw = encode_messages(messages)
    assert raw.isascii() and json.loads(raw) == messages
