"""`report feedback`: はい／いいえ per council and every いいえ with the answer given, from the real SQLite log."""

from __future__ import annotations

import io
import time
from pathlib import Path

from bot.cli import main
from bot.querylog import LogEntry
from bot.querylog.sqlite import SqliteQueryLog

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"


def test_feedback_report_from_the_sqlite_log(tmp_path: Path) -> None:
    log = SqliteQueryLog.in_dir(tmp_path, salt="s")
    now = time.time()
    rows = [("minato", "車いすを借りたい", "answer", ("minato/kuruma-isu",), "yes"),
            ("minato", "車いすの修理 電話090-1234-5678", "answer", ("minato/kuruma-isu",), "no"),
            ("minato", "なにか", "fallback", (), "no"),
            ("yama", "鍵", "answer", ("yama/kagi-azukari",), "yes"),
            ("minato", "評価なし", "answer", ("minato/salon",), None)]
    for i, (council, question, kind, top, _) in enumerate(rows):
        log.record(LogEntry(now - 100 + i, council, "line", question, kind, top_ids=top, event_id=f"e{i}"))
    for i, (council, *_, value) in enumerate(rows):
        if value:
            log.feedback(council=council, event_id=f"e{i}", value=value)
    assert len(log.feedback_entries(council=None, since=now - 3600)) == 4
    log.close()
    out = io.StringIO()
    code = main(["--knowledge", str(FIXTURE), "report", "feedback", "--data-dir", str(tmp_path)], out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "はい 2件、いいえ 2件" in text.splitlines()[0]
    assert "minato       はい 1件・いいえ 2件（役に立った 33%）" in text
    assert "yama         はい 1件・いいえ 0件（役に立った 100%）" in text
    assert "「車いすの修理 電話***-****-****」 → 車いすの貸し出し（minato/kuruma-isu）" in text
    assert "「なにか」 → 該当なし" in text and "評価なし" not in text and "090-1234" not in text
    out = io.StringIO()
    assert main(["report", "feedback", "--data-dir", str(tmp_path / "none")], out=out) == 1
    assert "no query log" in out.getvalue()
