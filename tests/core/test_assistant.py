"""The matcher and the decision on a small fixture knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.assistant import Assistant, UnknownCouncil
from bot.knowledge.loader import load_knowledge
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import open_vectors


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("車いすを借りたい", "minato/kuruma-isu"),
        ("くるまいす かりたい", "minato/kuruma-isu"),  # kana only
        ("ｸﾙﾏｲｽ", "minato/kuruma-isu"),  # half-width
        ("給食サビース", "minato/kyushoku"),  # typo
        ("ｷｭｳｼｮｸｻｰﾋﾞｽ", "minato/kyushoku"),
        ("お弁当を届けてほしい", "minato/kyushoku"),  # synonym, no name
        ("せいねんこうけん", "minato/seinen-kouken"),
        ("成年高見", "minato/seinen-kouken"),  # conversion error
        ("生活福祉四季ん", "minato/seikatsu-shikin"),
    ],
)
def test_answers_the_right_service(fixture_assistant: Assistant, question: str, expected: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert a.kind == "answer", (a.kind, a.results)
    assert a.service is not None and a.service.id == expected
    assert a.results[0].id == expected


def test_long_question_ranks_the_right_service_first(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask(
        "minato",
        "母が一人暮らしをしていて、最近は食事の用意がつらいと言っています。家まで食事を届けてくれるサービスはありますか。",
    )
    assert a.kind in ("answer", "choices") and a.results[0].id == "minato/kyushoku"


def test_answer_carries_contact_window_and_related(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "給食サービス")
    assert a.service is not None
    assert a.service.window.name == "みなと市社協 地域福祉係" and a.service.fee == "1食400円"
    assert [o.id for o in a.related] == ["minato/kuruma-isu"]
    assert a.staff is not None and a.staff.figures == "R5: 利用者 20名"


def test_not_offered_is_an_honest_fallback(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "かぎを預けたい")
    assert (a.kind, a.reason) == ("fallback", "not_offered")
    assert "かぎ預かり" in a.message and a.window.phone == "0000-00-0000"
    assert all(not o.id.startswith("yama/") for o in a.results)


def test_offered_only_elsewhere_is_not_answered_with_the_other_council(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "フードバンクはありますか")
    assert (a.kind, a.reason) == ("fallback", "not_offered")
    assert all(o.id.startswith("minato/") for o in a.results)


@pytest.mark.parametrize("question", ["ごみの出し方", "明日の天気は？", "住民票を取りたい"])
def test_out_of_scope_falls_back_to_the_general_window(fixture_assistant: Assistant, question: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert a.kind == "fallback"
    assert a.window.name == "みなと市社会福祉協議会 総合相談窓口"


@pytest.mark.parametrize("question", ["住民票を取りたい", "パスポートの申請はどこ？", "燃えるごみの日を知りたい", "犬の登録をしたい"])
def test_another_offices_topic_names_that_office(fixture_assistant: Assistant, question: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert (a.kind, a.reason) == ("fallback", "not_offered")
    assert "市役所" in a.message or "都道府県" in a.message


def test_another_offices_topic_gives_way_to_a_councils_own_window(fixture_assistant: Assistant) -> None:
    """みなと's knowledge lists the city's 生活保護 window as its own: it answers with it.
    やま lists none: the common topic says it is the 福祉事務所's."""
    own = fixture_assistant.ask("minato", "生活保護の申請をしたい")
    assert own.kind == "answer" and own.service is not None and own.service.id == "minato/seikatsu-hogo"
    elsewhere = fixture_assistant.ask("yama", "生活保護の申請をしたい")
    assert (elsewhere.kind, elsewhere.reason) == ("fallback", "not_offered")
    assert "福祉事務所" in elsewhere.message


def test_staff_entries_are_for_staff_only(fixture_assistant: Assistant) -> None:
    assert fixture_assistant.ask("minato", "理事会").kind == "fallback"
    staff = fixture_assistant.ask("minato", "理事会", audience="staff")
    assert staff.kind == "answer" and staff.service is not None and staff.service.id == "minato/rijikai"
    assert fixture_assistant.pick("minato", "minato/rijikai").kind == "fallback"


def test_ambiguous_question_offers_short_choices(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "お金")
    assert a.kind == "choices"
    assert 2 <= len(a.choices) <= 4 and all(len(o.label) <= 20 for o in a.choices)


def test_ended_service_says_so(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "いきいきサロン")
    assert a.service is not None and a.service.status == "ended"


def test_empty_and_unknown_council(fixture_assistant: Assistant) -> None:
    assert fixture_assistant.ask("minato", "   ").reason == "empty"
    with pytest.raises(UnknownCouncil):
        fixture_assistant.ask("nowhere", "車いす")


def test_menu_lists_resident_categories_then_services(fixture_assistant: Assistant) -> None:
    menu = fixture_assistant.menu("minato")
    ids = [o.id for o in menu.choices]
    assert "category:shokuji" in ids and "category:unei" not in ids
    cat = fixture_assistant.menu("minato", category="shokuji")
    assert [o.id for o in cat.choices] == ["minato/kyushoku"]


def test_answer_is_frozen(fixture_assistant: Assistant) -> None:
    a = fixture_assistant.ask("minato", "車いす")
    with pytest.raises(AttributeError):
        a.kind = "fallback"  # type: ignore[misc]


def test_a_bare_name_is_answered_even_when_another_entry_mentions_it(real_assistant: Assistant) -> None:
    # 子どもの居場所（美作お助け隊） covers every word of お助け隊, but only one service is named so.
    a = real_assistant.ask("mimasaka", "お助け隊")
    assert (a.kind, a.service.id if a.service else None) == ("answer", "mimasaka/otasuketai")


@pytest.mark.parametrize("question", ["元気？", "よろしくお願いします", "こんにちは"])
def test_small_talk_gets_the_welcome_prompt(fixture_assistant: Assistant, question: str) -> None:
    a = fixture_assistant.ask("minato", question)
    assert (a.kind, a.reason) == ("fallback", "empty")


_OUT_OF_SCOPE = yaml.safe_load((Path(__file__).parent / "out_of_scope_probes.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("question", _OUT_OF_SCOPE["decline"])
def test_probe_out_of_scope_is_declined_in_every_council(real_assistant: Assistant, question: str) -> None:
    for council in real_assistant.knowledge.councils:
        assert real_assistant.ask(council, question).kind == "fallback", council


_NOT_OFFERED = yaml.safe_load((Path(__file__).parent / "not_offered_probes.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("council", "question"), [(c, q) for c, qs in _NOT_OFFERED.items() for q in qs])
def test_probe_not_offered_is_said_plainly(real_assistant: Assistant, council: str, question: str) -> None:
    a = real_assistant.ask(council, question)
    assert (a.kind, a.reason) == ("fallback", "not_offered")


def test_a_reload_keeps_the_detector_while_nothing_it_reads_changes(kb_copy: Path) -> None:
    """A new summary (or phone number, or hours) leaves the danger corpus and the examples as
    they were: the detector is kept. A new example is an ordinary message it reads: it is built
    again, and answers as one built from nothing."""
    encoder = load_encoder()
    assert encoder.on, encoder.reason
    vectors = open_vectors(kb_copy, encoder.encoder, read_only=True)  # never write the fixture's cache
    assert vectors is not None
    path = kb_copy / "minato" / "services" / "kuruma-isu.yaml"
    before = Assistant(load_knowledge(kb_copy), vectors=vectors)
    path.write_text(path.read_text(encoding="utf-8").replace("summary: ", "summary: 土日もお貸しします。", 1),
                    encoding="utf-8")
    summary = Assistant(load_knowledge(kb_copy), vectors=vectors, previous=before)
    assert summary._safety.detector is not None and summary._safety.detector is before._safety.detector
    path.write_text(path.read_text(encoding="utf-8").replace("examples:\n", "examples:\n  - 車いすを三日だけ借りたい\n", 1),
                    encoding="utf-8")
    knowledge = load_knowledge(kb_copy)
    example = Assistant(knowledge, vectors=vectors, previous=summary)
    assert example._safety.detector is not summary._safety.detector
    fresh = Assistant(knowledge, vectors=vectors)
    for message in ("橋の上にいます。みんな今までありがとう", "三日なにも食べてない。お金もない", "車いすを借りたい",
                    "ゲートキーパー養成研修の日程を知りたい"):
        assert example.ask("minato", message) == fresh.ask("minato", message), message
        assert summary.ask("minato", message).kind == before.ask("minato", message).kind, message
