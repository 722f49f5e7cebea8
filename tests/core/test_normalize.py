from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language.normalize import fold, normalize, to_hiragana


@given(st.text())
@settings(max_examples=400)
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


def test_half_width_katakana_and_full_width_digits() -> None:
    assert normalize("ｷｭｳｼｮｸｻｰﾋﾞｽ") == "キュウショクサービス"
    assert normalize("０１２３ＡＢＣ") == "0123abc"


def test_long_vowel_variants_after_kana_become_choonpu() -> None:
    assert normalize("サ-ビス") == normalize("サ〜ビス") == normalize("サービス")
    assert normalize("a-b") == "a-b"  # a hyphen between latin letters stays


def test_hiragana_folding_and_spaces() -> None:
    assert to_hiragana("カギ") == "かぎ"
    assert fold(" カギ  預かり ") == "かぎ預かり"


def test_control_characters_are_dropped() -> None:
    assert normalize("かぎ\x00\u200bを") == "かぎを"


# -- the fast paths agree with the plain definitions ----------------------------
import re  # noqa: E402

from bot.language import normalize as n  # noqa: E402

JAPANESE = st.text(st.sampled_from(list("かぎカギｶｷﾞがー-〜~ 　漢字々ゔヴヵａAz09０!？\t\n\u200bｰ─")), max_size=12)


def _plain_normalize(text: str) -> str:
    for _ in range(n._MAX_ROUNDS):
        new = n._once(text)
        if new == text:
            break
        text = new
    return text


def _plain_fold(text: str) -> str:
    hira = lambda t: re.sub(r"[ァ-ヶ]", lambda m: chr(ord(m.group()) - 0x60), t)  # noqa: E731
    for _ in range(n._MAX_ROUNDS):
        new = _plain_normalize(hira(_plain_normalize(text)).replace(" ", ""))
        if new == text:
            break
        text = new
    return text


@given(st.one_of(JAPANESE, st.text(max_size=12)))
@settings(max_examples=600)
def test_fast_paths_match_the_plain_definitions(text: str) -> None:
    assert normalize(text) == _plain_normalize(text)
    assert fold(text) == _plain_fold(text)
