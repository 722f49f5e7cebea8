"""The SQLite query log: masking, salted user hashes, retention, grouping and the report command."""

from __future__ import annotations

import io
import re
import sqlite3
import stat
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main as cli
from bot.querylog import LogEntry, clean_question, entry_for, hash_user
from bot.querylog.mask import mask_text
from bot.querylog.report import format_groups, parse_since, run
from bot.querylog.sqlite import DB_NAME, SqliteQueryLog
from bot.querylog.writer import BatchWriter

DAY = 86_400.0


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("電話は090-1234-5678です", "電話は***-****-****です"),
        ("電話は０９０ー１２３４ー５６７８です", "電話は***ー****ー****です"),  # 全角 digits, IME long-vowel mark
        ("０９０－１２３４－５６７８", "***－****－****"),
        ("口座番号1234567に振り込み", "口座番号*******に振り込み"),
        ("カード 4111 1111 1111 1111", "カード **** **** **** ****"),
        ("カード４１１１　１１１１　１１１１　１１１１", "カード****　****　****　****"),
        ("(0144)32-1234まで", "(****)**-****まで"),
        ("〇九〇の一二三四の五六七八", "***の****の****"),
        ("TEL09012345678", "TEL***********"),
        ("mail: taro.y@example.co.jp まで", "mail: ***@*** まで"),
        ("電話は090.1234.5678です", "電話は***.****.****です"),
        ("090の1234の5678", "***の****の****"),
        ("マイナンバー 1234・5678・9012", "マイナンバー ****・****・****"),
        ("〒060-0001 札幌市", "〒***-**** 札幌市"),
        ("〒0600001", "〒*******"),
        ("北1条西2丁目3-4 ハイツ101号室", "北*条西*丁目*-*〈建物〉***号室"),
        ("緑町3丁目5番地12号", "緑町*丁目*番地**号"),
        ("コーポさくら 2号室です", "〈建物〉さくら *号室です"),
        ("昭和60年4月12日生まれ", "昭和**年*月**日生まれ"),
        ("1985年4月12日", "****年*月**日"),
        ("S60.4.12", "S**.*.**"),
        ("誕生日は4月12日です", "誕生日は*月**日です"),
        ("山田太郎です", "〈氏名〉です"),
        ("ヤマダタロウです", "〈氏名〉です"),
        ("民生委員の佐藤さんに聞いた", "民生委員の〈氏名〉さんに聞いた"),
    ],
)
def test_mask_hides_phone_account_and_card_numbers(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["80歳の母", "令和5年度", "20万円借りたい", "3人家族", "2024年12月31日", "127.0.0.1",
                                  "令和6年4月1日から", "3.5キロ", "住宅改修の補助", "車いすを借りたい", "成年後見"])
def test_mask_keeps_short_numbers(text: str) -> None:
    assert mask_text(text) == text


SEPARATORS = "-ー－ 　()"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789０１２３４５６７８９" + SEPARATORS + "あ鍵a"), max_size=60))
def test_mask_leaves_no_long_digit_run_and_is_idempotent(text: str) -> None:
    masked = mask_text(text)
    assert mask_text(masked) == masked
    assert len(masked) == len(text)
    # Cut at everything that is not a digit or separator, and at 4+ separators in a row:
    # no piece may still hold 6 digits.
    for piece in re.split(rf"[^0-9０-９{SEPARATORS}]|[{SEPARATORS}]{{4,}}", masked):
        assert sum(c.isdigit() for c in piece) < 6, (text, masked)


def test_clean_question_masks_a_number_cut_at_the_limit() -> None:
    text = "あ" * 997 + "09012345678"
    cleaned = clean_question(text)
    assert len(cleaned) == 1000
    assert cleaned.endswith("***") and "090" not in cleaned


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789０-〒@.a山田太郎さん電話は北1条西2丁目です生まれ"), max_size=1100))
def test_cleaning_a_cleaned_question_changes_nothing(text: str) -> None:
    cleaned = clean_question(text)
    assert clean_question(cleaned) == cleaned and len(cleaned) <= 1000


@pytest.fixture()
def store(tmp_path):
    s = SqliteQueryLog.in_dir(tmp_path / "data", retention_days=90)
    yield s
    s.close()


def entry(q: str, *, at: float | None = None, kind: str = "fallback", council: str = "tomakomai",
          channel: str = "line", **kw) -> LogEntry:
    return LogEntry(at=time.time() if at is None else at, council=council, channel=channel, question=q, kind=kind, **kw)


def test_sqlite_masks_again_and_never_stores_the_user_id(store: SqliteQueryLog, tmp_path) -> None:
    user = "U4af4980629d1e3f2b0c9a8e7d6c5b4a3"
    store.record(entry("電話090-1234-5678に折り返して", user_hash=user, event_id="ev1",
                       top_ids=("tomakomai/kagi",), scores=(0.5,)))
    assert store.flush(5)
    [row] = store.recent(limit=5)
    assert row.question == "電話***-****-****に折り返して"
    assert row.user_hash == hash_user(user, salt=(tmp_path / "data" / "salt").read_text().strip())
    assert row.user_hash != user and len(row.user_hash) == 32
    assert row.top_ids == ("tomakomai/kagi",) and row.scores == (0.5,)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.name.startswith(DB_NAME))
    assert user.encode() not in raw and b"1234-5678" not in raw
    mode = stat.S_IMODE((tmp_path / "data" / "salt").stat().st_mode)
    assert mode == 0o600 and stat.S_IMODE((tmp_path / "data" / DB_NAME).stat().st_mode) == 0o600


def test_same_user_same_hash_across_restarts_but_not_across_installations(tmp_path) -> None:
    hashes = []
    for folder in ("a", "a", "b"):
        s = SqliteQueryLog.in_dir(tmp_path / folder)
        s.record(entry("質問", user_hash="Uuser"))
        s.flush(5)
        hashes.append(s.recent(limit=1)[0].user_hash)
        s.close()
    assert hashes[0] == hashes[1] != hashes[2]


def test_entry_for_builds_an_entry_from_an_answer_that_the_store_masks(tmp_path, store) -> None:
    from bot.knowledge.live import LiveKnowledge
    from tests.ops.support import knowledge_copy

    assistant = LiveKnowledge(knowledge_copy(tmp_path)).assistant
    answer = assistant.ask("tomakomai", "山田です。家のかぎを預かってほしい 090-1234-5678")
    e = entry_for(answer, channel="line", user="Uabc", event_id="ev")
    assert e.question == answer.query  # as asked: no Sudachi on the matching thread, where it costs the GIL
    assert e.user_hash and "Uabc" not in e.user_hash  # the user id is hashed at once
    assert e.kind == answer.kind and e.top_ids and e.top_ids[0].startswith("tomakomai/")
    assert e.reason == answer.reason
    store.record(e)
    assert store.flush(5)
    assert store.recent(limit=1)[0].question == "〈氏名〉です。家のかぎを預かってほしい ***-****-****"


def test_feedback_is_written_after_its_question(store: SqliteQueryLog) -> None:
    store.record(entry("かぎ", event_id="ev-7"))
    store.feedback(council="tomakomai", event_id="ev-7", value="no")
    store.flush(5)
    assert store.recent(limit=1)[0].feedback == "no"


def test_retention_purge_on_open_and_explicit(tmp_path) -> None:
    now = time.time()
    s = SqliteQueryLog.in_dir(tmp_path, retention_days=0)  # 0: no automatic purge
    s.record(entry("old", at=now - 120 * DAY))
    s.record(entry("recent", at=now - 10 * DAY))
    s.flush(5)
    s.close()
    s = SqliteQueryLog.in_dir(tmp_path, retention_days=90)  # purges on open
    s.flush(5)
    assert [e.question for e in s.recent()] == ["recent"]
    assert s.purge(older_than=now - 5 * DAY) == 1
    assert s.recent() == []
    s.close()


def test_unanswered_groups_similar_questions_and_skips_navigation(store: SqliteQueryLog) -> None:
    now = time.time()
    for q in ("鍵を預かってほしい", "かぎを預かってほしいです", "カギを預かってほしい"):
        store.record(entry(q))
    store.record(entry("ペットの預かり", kind="choices"))
    store.record(entry("ペットを預かってもらえますか"))
    store.record(entry("草むしりを手伝って"))
    store.record(entry("ゴミ出しを手伝って"))
    store.record(entry("メニュー", kind="choices", reason="menu"))  # a menu tap is not a question
    store.record(entry("給食サービス", kind="answer"))  # answered
    store.record(entry("鍵を預けたい", council="kiyose"))
    store.record(entry("古い質問", at=now - 40 * DAY))
    store.record(entry("職員が試した言い回し", channel="slack"))  # staff trying wordings
    groups = store.unanswered(council=None, since=now - 30 * DAY)
    by_example = {(g.council, g.example): g for g in groups}
    keys = [g for g in groups if g.council == "tomakomai" and g.count == 3]
    assert len(keys) == 1 and set(keys[0].questions) == {"鍵を預かってほしい", "かぎを預かってほしいです",
                                                          "カギを預かってほしい"}
    pets = [g for g in groups if "ペット" in g.example]
    assert len(pets) == 1 and pets[0].count == 2 and pets[0].kinds == {"choices": 1, "fallback": 1}
    helping = [g for g in groups if "手伝って" in g.example]
    assert len(helping) == 2  # 草むしり and ゴミ出し are different requests
    assert ("kiyose", "鍵を預けたい") in by_example
    assert not any(g.example in ("メニュー", "給食サービス", "古い質問", "職員が試した言い回し") for g in groups)
    assert groups[0].count == 3  # biggest first
    only = store.unanswered(council="kiyose", since=now - DAY)
    assert [g.example for g in only] == ["鍵を預けたい"]


def test_parse_since() -> None:
    now = 1_000_000_000.0
    assert parse_since("30d", now=now) == now - 30 * DAY
    assert parse_since("12h", now=now) == now - 12 * 3600
    assert parse_since("2w", now=now) == now - 14 * DAY
    assert parse_since("2026-10-01") > 0
    with pytest.raises(ValueError):
        parse_since("yesterday")


def test_report_command_prints_grouped_counts(tmp_path) -> None:
    s = SqliteQueryLog.in_dir(tmp_path)
    for q in ("ペットを預かってほしい", "ペットを預かってほしいです", "ペットの預かりをお願いしたい", "庭の草むしり"):
        s.record(entry(q))
    s.record(entry("電話は090-1234-5678", council="kiyose"))
    s.close()
    out = io.StringIO()
    assert cli(["report", "unanswered", "--since", "7d", "--data-dir", str(tmp_path)], out=out) == 0
    text = out.getvalue()
    assert "5件、3グループ" in text
    first = text.splitlines()[1]
    assert "tomakomai" in first and "3件" in first and "ペット" in first
    assert "***-****-****" in text and "1234" not in text
    out = io.StringIO()
    assert run(council="kiyose", since="7d", data_dir=tmp_path, out=out) == 0
    assert "1件、1グループ" in out.getvalue() and "tomakomai" not in out.getvalue()


def test_report_without_a_log_says_so(tmp_path) -> None:
    out = io.StringIO()
    assert run(council=None, since="30d", data_dir=tmp_path / "none", out=out) == 1
    assert "no query log" in out.getvalue()
    assert not (tmp_path / "none").exists()


def test_format_groups_limits_lines() -> None:
    from bot.querylog import UnansweredGroup

    groups = [UnansweredGroup("kiyose", f"質問{i}", 10 - i, {"fallback": 10 - i}, (f"質問{i}",)) for i in range(5)]
    lines = format_groups(groups, limit=3)
    assert len(lines) == 4 and lines[-1] == "… ほか 2 グループ"


def test_writer_writes_a_burst_in_one_batch_and_a_flush_does_not_wait_for_the_linger() -> None:
    batches: list[list] = []
    w = BatchWriter(batches.append, name="test-writer", linger=30.0)
    for i in range(50):
        w.put(i)
    started = time.perf_counter()
    assert w.flush(10)
    assert time.perf_counter() - started < 5  # not the 30 s linger
    assert [i for b in batches for i in b] == list(range(50)) and len(batches) <= 2
    w.close()


def test_writer_never_blocks_and_counts_drops(tmp_path) -> None:
    s = SqliteQueryLog.in_dir(tmp_path)
    started = time.perf_counter()
    for i in range(5000):
        s.record(entry(f"質問 {i}"))
    assert time.perf_counter() - started < 2.0  # queueing only
    assert s.flush(20)
    st_ = s.stats()
    assert st_["written"] + st_["dropped"] == 5000 and st_["failed"] == 0
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM queries").fetchone()[0] == st_["written"]
    s.close()
