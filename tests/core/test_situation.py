"""A message's situation: its sentences that tell, without those that ask."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bot.knowledge.loader import default_root, load_knowledge
from bot.safety.situation import Asking

ASKING = Asking.of(ends=("か", "?", "ください"), words=("ますか", "でしょうか"))

# Sentences whose kind is known by construction: each ends with its own mark.
TELLS = ["もう疲れました。", "犬をよろしく。", "夜になっても戻らない\n", "ﾓｳﾑﾘ。", "通帳は机の上です\n", "行きますから。"]
ASKS = ["手続きはどうすればいいですか。", "来てもらえますか?", "教えてください。", "ﾃﾂﾂﾞｷﾊﾄﾞｳｽﾚﾊﾞｲｲﾃﾞｽｶ?",
        "車いすの返し方を教えてください!", "どうしたらいいでしょうか\n"]


def test_a_message_that_tells_and_asks_is_read_without_the_asking():
    told = ASKING.situation("猫を引き取ってくれる所を探しています。もう戻りません。手続きはどうすればいいですか")
    assert told == "猫を引き取ってくれる所を探しています。もう戻りません。"


def test_asking_is_compared_folded_half_width_and_katakana_alike():
    assert ASKING.situation("ﾓｳﾑﾘ｡ﾀｽｹﾃｸﾀﾞｻｲ") == "ﾓｳﾑﾘ｡"
    assert ASKING.situation("もうむり\nたすけてください") == "もうむり"


def test_because_is_not_a_question():
    """ですから and ますから end in か… only as written: "because" does not ask."""
    assert not ASKING.asks("もう行きますから")
    assert ASKING.asks("もう行きますかね")


def test_a_message_that_only_tells_or_only_asks_has_no_situation_of_its_own():
    assert ASKING.situation("夫に殴られています。逃げられない。") is None
    assert ASKING.situation("火災見舞金の申請のしかたを教えてください") is None
    assert Asking().situation("もう疲れました。来てもらえますか") is None  # no asking words: nothing to take out


def test_the_bundled_knowledge_says_what_asks():
    ends, words = load_knowledge(default_root()).asking
    assert "か" in ends and "でしょうか" in words


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, len(TELLS) - 1)), min_size=1, max_size=6))
def test_the_situation_is_the_telling_sentences_in_order(parts: list[tuple[bool, int]]):
    """Against sentences whose kind is known: the asking ones out, the others kept in order."""
    sentences = [(ASKS if asks else TELLS)[i] for asks, i in parts]
    told = [s for (asks, _), s in zip(parts, sentences) if not asks]
    got = ASKING.situation("".join(sentences))
    assert got == (None if not told or len(told) == len(sentences) else "".join(told).strip())
