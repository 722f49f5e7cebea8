from bot.language.analysis import Language
from bot.knowledge.model import SynonymGroup


def test_kana_and_kanji_share_readings() -> None:
    lang = Language()
    kanji = lang.analyze("成年後見").keys
    kana = lang.analyze("せいねんこうけん").keys
    assert {"r:せいねん", "r:こうけん"} <= kanji & kana


def test_verbs_share_their_kanji_stem() -> None:
    lang = Language()
    assert "t:預" in lang.analyze("預けたい").keys & lang.analyze("預かり").keys


def test_synonym_groups_match_multi_token_variants_on_both_sides() -> None:
    lang = Language(synonyms=(SynonymGroup("配食", ("配食", "お弁当", "給食")),))
    assert "s:配食" in lang.analyze("お弁当を届けて").keys
    assert "s:配食" in lang.analyze("給食サービス").keys
    assert "s:配食" not in lang.analyze("車いす").keys


def test_ignored_words_do_not_become_units() -> None:
    lang = Language(ignore=frozenset({"知る", "する"}))
    surfaces = [u.surface for u in lang.analyze("車いすについて知りたい").units]
    assert "知り" not in surfaces and any("車" in s for s in surfaces)
