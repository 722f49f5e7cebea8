"""`python -m bot report feedback`: what residents said to 役に立った？, and what they said no to.

Each いいえ is shown with the question (masked) and the answer it got, so staff
see which entry misled or fell short; the same lines are shown in Slack
(`feedback` and the App Home). Counts are per council, with the share of はい.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.knowledge.model import Knowledge
from bot.querylog import LogEntry

__all__ = ["Rated", "FeedbackReport", "feedback_report", "format_feedback", "run"]

JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True, slots=True)
class Rated:
    """One いいえ: the question and the answer it got (service id and title, or the answer's kind)."""

    at: float
    council: str
    question: str
    answer_id: str | None
    answer_title: str


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    yes: Mapping[str, int]
    no: Mapping[str, int]
    said_no: tuple[Rated, ...]  # newest first


def _title(entry: LogEntry, knowledge: Knowledge | None) -> tuple[str | None, str]:
    if entry.kind != "answer" or not entry.top_ids:
        return None, {"choices": "候補の提示", "fallback": "該当なし", "emergency": "緊急"}.get(entry.kind, entry.kind)
    sid = entry.top_ids[0]
    service = knowledge.services.get(sid) if knowledge is not None else None
    return sid, service.title if service is not None else sid


def feedback_report(entries: Sequence[LogEntry], *, knowledge: Knowledge | None = None) -> FeedbackReport:
    """Count はい／いいえ per council and list every いいえ with the answer given."""
    yes: Counter[str] = Counter()
    no: Counter[str] = Counter()
    said_no = []
    for e in sorted(entries, key=lambda e: -e.at):
        if e.feedback == "yes":
            yes[e.council] += 1
        elif e.feedback == "no":
            no[e.council] += 1
            sid, title = _title(e, knowledge)
            said_no.append(Rated(e.at, e.council, e.question, sid, title))
    return FeedbackReport(dict(yes), dict(no), tuple(said_no))


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_feedback(report: FeedbackReport, *, limit: int = 50) -> list[str]:
    """A count line per council, then one line per いいえ: when, question → answer given."""
    lines = []
    for council in sorted(set(report.yes) | set(report.no)):
        y, n = report.yes.get(council, 0), report.no.get(council, 0)
        lines.append(f"{council:<12} はい {y}件・いいえ {n}件（役に立った {100 * y / (y + n):.0f}%）")
    if report.said_no:
        lines.append("いいえ と答えた質問と、そのときの回答：")
    for r in report.said_no[:limit]:
        when = datetime.fromtimestamp(r.at, JST).strftime("%m-%d %H:%M")
        answer = f"{r.answer_title}（{r.answer_id}）" if r.answer_id else r.answer_title
        lines.append(f"  {when} {r.council:<12} 「{_one_line(r.question)}」 → {answer}")
    if len(report.said_no) > limit:
        lines.append(f"  … ほか {len(report.said_no) - limit} 件")
    return lines


def run(*, council: str | None, since: str | float | None, data_dir: Path | None, out: TextIO,
        knowledge: Path | None = None, env: Mapping[str, str] | None = None, limit: int = 50) -> int:
    """Print the report; 0 on success, 1 without a log, 2 for a bad --since."""
    from bot.knowledge.loader import check_knowledge
    from bot.querylog.report import NoLog, log_source, opened_log, parse_since

    try:
        start = parse_since(since)
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 2
    try:
        with opened_log(data_dir=data_dir, env=env) as store:
            entries = store.feedback_entries(council=council, since=start, limit=100_000)
    except NoLog as exc:
        out.write(f"{exc.args[0]}\n")
        return 1
    report = feedback_report(entries, knowledge=check_knowledge(knowledge).knowledge)
    span = f"{datetime.fromtimestamp(start):%Y-%m-%d %H:%M} 以降" + (f"、{council}" if council else "")
    total_no = sum(report.no.values())
    out.write(f"役に立った？への回答 {span}: はい {sum(report.yes.values())}件、いいえ {total_no}件\n")
    for line in format_feedback(report, limit=limit):
        out.write(line + "\n")
    out.write(f"クエリログ: {log_source(data_dir=data_dir, env=env)}\n")
    return 0
