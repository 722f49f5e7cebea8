"""Property-based fuzzing of the core: whatever a resident sends, `Assistant.ask` answers, quickly."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answer import Answer
from bot.assistant import Assistant
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.problems import KnowledgeError
from bot.querylog.mask import mask_text
from bot.render import to_text
from tests.ops.support import knowledge_copy

KINDS = {"answer", "choices", "fallback", "emergency"}
LIMIT_S = 2.0  # per message, on a loaded 2-core machine; typical is a few milliseconds

EMOJI = "😀🙏🏻👨‍👩‍👧‍👦🇯🇵❤️🔑🏠🐱✨"
CONTROL = "".join(chr(c) for c in (*range(0, 32), 0x7F, *range(0x80, 0xA0))) + "\u200b\u200e\u202e\u2066\ufeff\ufffe"
SCRIPTS = ("かぎ鍵カギｶｷﾞ預かり配食ボランティア社協", "한국어", "中文简体", "العربية", "עברית", "Ελληνικά",
           "русский", "हिन्दी", "ไทย", "𠮷野家", "Ａｌｐｈａ１２３", "e\u0301\u0302\u0303")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    try:
        return LiveKnowledge().assistant
    except KnowledgeError:
        return LiveKnowledge(knowledge_copy(tmp_path_factory.mktemp("kb"), ("tomakomai", "kiyose"))).assistant


def _check(assistant: Assistant, council: str, text: str, audience: str = "resident") -> Answer:
    started = time.perf_counter()
    answer = assistant.ask(council, text, audience=audience)
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT_S, (elapsed, text[:80])
    assert answer.kind in KINDS and answer.council_id == council
    assert answer.message and answer.window is not None
    assert to_text(answer)  # renders
    return answer


mixed = st.lists(
    st.one_of(st.sampled_from(SCRIPTS), st.sampled_from(list(EMOJI)), st.sampled_from(list(CONTROL)),
              st.text(max_size=20)),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(text=st.one_of(st.text(), mixed, st.text(alphabet=CONTROL + EMOJI)),
       audience=st.sampled_from(["resident", "staff"]))
def test_any_text_gets_an_answer(assistant: Assistant, text: str, audience: str) -> None:
    council = sorted(assistant.knowledge.councils)[0]
    _check(assistant, council, text, audience)
    mask_text(text)  # the masking of the query log never fails either


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.large_base_example,
                                                                 HealthCheck.data_too_large])
@given(unit=st.one_of(st.sampled_from(SCRIPTS), st.sampled_from(list(EMOJI)), st.just("0９0-1234-"),
                      st.sampled_from(["a", "a.b@", "x@y.", "1@"]),  # e-mail masking was once quadratic
                      st.text(min_size=1, max_size=5)))
def test_100kb_messages_are_answered_in_bounded_time(assistant: Assistant, unit: str) -> None:
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    _check(assistant, "tomakomai" if "tomakomai" in assistant.knowledge.councils else
           sorted(assistant.knowledge.councils)[0], text)
    started = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - started < LIMIT_S


@pytest.mark.parametrize("text", [
    "", " ", "\u3000\u3000", "\x00", "\n\n\n", "？？？", "!!!" * 1000, "鍵" * 5000, "🔑" * 30_000,
    "死にたい" + "\x00" * 10, "かぎ\u202eをあずけたい", "ｶｷﾞｦｱｽﾞｹﾀｲ", "e\u0301" * 20_000,
    "<script>alert(1)</script>", "'; DROP TABLE queries; --", "{{7*7}} ${jndi:ldap://x}",
])
def test_edge_cases(assistant: Assistant, text: str) -> None:
    for council in sorted(assistant.knowledge.councils):
        _check(assistant, council, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(service_id=st.text(max_size=60), category=st.one_of(st.none(), st.text(max_size=30)))
def test_picks_and_menus_with_arbitrary_ids(assistant: Assistant, service_id: str, category: str | None) -> None:
    council = sorted(assistant.knowledge.councils)[-1]
    assert assistant.pick(council, service_id).kind in KINDS
    assert assistant.menu(council, category=category).kind in KINDS
