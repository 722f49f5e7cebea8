"""The tokeniser's word cache gives exactly the tokens of working each morpheme out afresh."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language.normalize import normalize
from bot.language.tokens import Tokenizer, default_tokenizer

_PIECES = ["かぎ", "鍵", "カギ", "預かって", "ほしい", "傾調", "ボランティア", "ｸﾙﾏｲｽ", "を", "借りたい", " ", "。",
           "死にたい", "成年後見", "せいねんこうけん", "ワンコ", "なんぼ", "abc", "１２３", "〜", "ー"]


def _reference(tok: Tokenizer, text: str) -> tuple:
    """No caches: every morpheme turned into a Token by the same one function."""
    out = []
    for m in tok._sudachi().tokenize(normalize(text)):
        if m.surface().strip():
            out.append(tok._token(m, m.surface()))
    return tuple(out)


@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_cached_tokens_equal_fresh_ones(pieces: list[str]) -> None:
    tok = default_tokenizer()
    text = "".join(pieces)
    assert tok._tokenize(text) == _reference(tok, text)  # the word cache, warm or cold
    assert tok.tokenize(text) == _reference(tok, text)  # and the per-text cache above it
