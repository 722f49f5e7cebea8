"""Staff commands on Slack: `status`, `reload`, `unanswered [7d|24h|all]`, `help`.

Each returns the lines of its reply (mrkdwn); the caller renders and posts them.
Counts, not lists: 800 missing-phone warnings become one line per kind.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

from bot.knowledge.problems import Problem
from bot.querylog.mask import mask_text

from adapters.slack.blocks import escape
from adapters.slack.state import SlackState

__all__ = ["Command", "parse_command", "status_lines", "reload_lines", "unanswered_lines", "feedback_lines",
           "help_lines", "mask"]

JST = ZoneInfo("Asia/Tokyo")
NAMES = {
    "status": "status", "状態": "status", "ステータス": "status",
    "reload": "reload", "再読み込み": "reload", "リロード": "reload",
    "unanswered": "unanswered", "未回答": "unanswered",
    "help": "help", "ヘルプ": "help", "使い方": "help",
    "feedback": "feedback", "フィードバック": "feedback", "評価": "feedback",
}
STATUS_NAMES = (("paused", "休止"), ("ended", "終了"), ("planned", "準備中"))
MAX_ERRORS = 25  # lines of reload errors shown; the rest are counted
MAX_GROUPS = 30
_PERIOD = re.compile(r"^(\d{1,4})\s*(d|h|w|日|時間|週間?)$")
_UNITS = {"d": 86400, "日": 86400, "h": 3600, "時間": 3600, "w": 7 * 86400, "週": 7 * 86400, "週間": 7 * 86400}

def mask(text: str) -> str:
    """Personal data hidden (phone/account numbers, e-mail) before staff see a question.

    Stores mask on write already; masking again on display costs nothing and
    covers a store that did not."""
    return mask_text(text)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: tuple[str, ...] = ()


def parse_command(text: str) -> Command | None:
    """A staff command when the text is one (`status`, `unanswered 7d` …); otherwise a question."""
    words = text.split()
    if not words or words[0].casefold() not in NAMES:
        return None
    name = NAMES[words[0].casefold()]
    if name in ("status", "reload", "help") and len(words) > 1:
        return None  # `status 確認の仕方` is a question, not a command
    return Command(name, tuple(words[1:]))


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, JST).strftime("%Y-%m-%d %H:%M:%S") if at else "-"


def _council_of(path: str, councils: set[str]) -> str:
    for part in PurePath(path).parts:
        if part in councils:
            return part
    return "_common"


def _warning_kind(p: Problem) -> str:
    if "window '" in p.message and " has no " in p.message:
        return "電話番号か受付時間のない窓口"
    return "その他の警告"


def _problem_lines(problems: list[Problem], *, limit: int = MAX_ERRORS) -> list[str]:
    lines = [f"• `{escape(str(p))}`" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"…ほか {len(problems) - limit} 件")
    return lines


def status_lines(state: SlackState) -> list[str]:
    rt = state.runtime
    live = rt.live
    k = live.assistant.knowledge
    lines = [
        "*Madoguchi の状態*",
        f"知識：{len(k.councils)} 社協・{len(k.services)} サービス（{_when(live.last_good.at)} に読み込み）",
    ]
    for c in sorted(k.councils.values(), key=lambda c: c.id):
        services = k.services_of(c.id)
        staff = sum(s.audience == "staff" for s in services)
        status = Counter(s.status for s in services)
        parts = [f"職員向け {staff}"] if staff else []
        parts += [f"{name} {status[st]}" for st, name in STATUS_NAMES if status[st]]
        drafts = sum(d.council_id == c.id for d in k.drafts.values())
        parts += [f"下書き {drafts}"] if drafts else []
        detail = "・".join(parts)
        lines.append(f"• {escape(c.short_name)} `{c.id}`：{len(services)} 件" + (f"（{detail}）" if detail else ""))
    last = live.last
    if last.ok:
        lines.append(f"最後の再読み込み：成功（{_when(last.at)}）・再読み込み {live.reloads} 回・失敗 {live.failures} 回")
    else:
        lines.append(f"最後の再読み込み：*失敗*（{_when(last.at)}、エラー {len(last.errors)} 件）— 前回の知識で応答中")
        lines += _problem_lines(last.errors, limit=5)
    warnings = live.last_good.warnings
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for p in warnings:
        by_kind[_warning_kind(p)][_council_of(p.file, set(k.councils))] += 1
    lines.append(f"*警告*：{len(warnings)} 件" + ("" if warnings else "（なし）"))
    for kind, per in sorted(by_kind.items(), key=lambda kv: -sum(kv[1].values())):
        detail = "、".join(f"{cid} {n}" for cid, n in sorted(per.items()))
        lines.append(f"• {kind}：{sum(per.values())} 件（{detail}）")
    lines += _settings_lines(state)
    lines.append("クエリログ：" + ("記録中" if rt.querylog is not None else "オフ"))
    return lines


def _settings_lines(state: SlackState) -> list[str]:
    s = state.settings
    known = state.runtime.live.assistant.knowledge.councils
    default = s.default_council or state.runtime.config.default_council
    lines = ["*Slack の設定*", f"既定の社協：{default or '未設定（質問の前に社協名を付けてください）'}"]
    if default and default not in known:
        lines.append(f"⚠ 既定の社協 `{escape(default)}` は知識にありません")
    lines.append(f"チャンネル別：{len(s.channels)} 件・reload できる人：{len(s.admins)} 人")
    for channel, council in sorted(s.channels.items())[:20]:
        mark = "" if council in known else "（⚠ 知識にない社協）"
        lines.append(f"• <#{escape(channel)}> → `{escape(council)}`{mark}")
    if state.settings_problems:
        lines.append("⚠ 設定ファイルにエラーがあり、前の設定で動いています：")
        lines += _problem_lines(list(state.settings_problems), limit=5)
    return lines


async def reload_lines(state: SlackState, *, user: str | None) -> tuple[bool, list[str]]:
    """(allowed, reply). Only admins listed in the settings file may reload."""
    if not state.is_admin(user):
        return False, ["`reload` は設定ファイルの `admins` に載っている人だけが使えます。"]
    live = state.runtime.live
    result = await asyncio.wrap_future(state.runtime.request_reload(via="slack"))  # counted and logged there
    if result is None:  # crashed (logged): report it like a failed reload
        result = live.last
    settings_problems = state.reload_settings()
    k = live.assistant.knowledge
    if result.ok:
        lines = [
            f"再読み込みしました：{len(k.councils)} 社協・{result.services} サービス"
            f"（警告 {len(result.warnings)} 件、{_when(result.at)}）"
        ]
    else:
        lines = [
            f"*再読み込みに失敗しました*（エラー {len(result.errors)} 件）。"
            f"前回の知識（{len(k.services)} サービス、{_when(live.last_good.at)} に読み込み）で応答を続けています。",
            "直してからもう一度 `reload` してください：",
            *_problem_lines(result.errors),
        ]
    if settings_problems:
        lines.append("⚠ Slack の設定ファイルにエラーがあり、前の設定のままです：")
        lines += _problem_lines(list(settings_problems))
    return True, lines


def parse_period(args: tuple[str, ...]) -> tuple[float, str, bool]:
    """(seconds, label, all councils) from `7d`, `24h`, `2w`, `30日`, `all`; default 7 days."""
    seconds, text, everywhere = 7 * 86400.0, "7日", False
    for arg in args:
        if arg.casefold() in ("all", "全部", "すべて", "全社協"):
            everywhere = True
            continue
        m = _PERIOD.match(arg.casefold())
        if m:
            n, unit = int(m.group(1)), m.group(2)
            seconds = min(n * _UNITS[unit], 366 * 86400)
            text = {86400: f"{n}日", 3600: f"{n}時間"}.get(_UNITS[unit], f"{n}週間")
    return seconds, text, everywhere


REPORTS_REFUSED = ("`unanswered` と `feedback` は設定ファイルの `admins` に載っている人か、その社協のチャンネル"
                   "（設定ファイルの `channels`）でだけ使えます。")


def may_see_reports(state: SlackState, *, user: str | None, channel: str | None, council: str | None,
                    everywhere: bool) -> bool:
    """Residents' questions are for admins anywhere, or for anyone in the council's own staff channel
    (a channel the settings file gives to that council), and then only that council's."""
    if state.is_admin(user):
        return True
    return not everywhere and council is not None and state.settings.channels.get(channel or "") == council


async def unanswered_lines(state: SlackState, *, council: str | None, args: tuple[str, ...]) -> list[str]:
    """Resident questions that got `fallback` or `choices`, grouped and counted, masked."""
    rt = state.runtime
    if rt.querylog is None:
        return ["クエリログがオフのため、未回答の質問は記録されていません（`MADOGUCHI_DATA_DIR` か `DATABASE_URL` を設定してください）。"]
    seconds, period, everywhere = parse_period(args)
    target = None if everywhere else council
    groups = await rt.in_thread(rt.querylog.unanswered, council=target, since=time.time() - seconds)
    where = "全社協" if target is None else escape(rt.live.assistant.knowledge.councils[target].short_name)
    total = sum(g.count for g in groups)
    lines = [f"*答えられなかった質問*（{where}・過去{period}）：{total} 件・{len(groups)} 種類"]
    if not groups:
        lines.append("この期間にはありません。")
    for g in sorted(groups, key=lambda g: (-g.count, g.example))[:MAX_GROUPS]:
        kinds = "・".join(f"{k} {n}" for k, n in sorted(g.kinds.items()))
        prefix = f"`{g.council}` " if target is None else ""
        lines.append(f"• {g.count} 件 {prefix}「{escape(mask(g.example))}」" + (f"（{kinds}）" if kinds else ""))
    if len(groups) > MAX_GROUPS:
        lines.append(f"…ほか {len(groups) - MAX_GROUPS} 種類")
    return lines


async def feedback_lines(state: SlackState, *, council: str | None, args: tuple[str, ...]) -> list[str]:
    """はい／いいえ counts and each いいえ with the answer given: `python -m bot report feedback` in Slack."""
    from bot.querylog.feedback import feedback_report, format_feedback

    rt = state.runtime
    if rt.querylog is None:
        return ["クエリログがオフのため、「役に立った？」の回答は記録されていません。"]
    seconds, period, everywhere = parse_period(args)
    target = None if everywhere else council
    entries = await rt.in_thread(rt.querylog.feedback_entries, council=target, since=time.time() - seconds)
    report = feedback_report(entries, knowledge=rt.live.assistant.knowledge)
    where = "全社協" if target is None else escape(rt.live.assistant.knowledge.councils[target].short_name)
    lines = [f"*「役に立った？」への回答*（{where}・過去{period}）："
             f"はい {sum(report.yes.values())} 件・いいえ {sum(report.no.values())} 件"]
    body = format_feedback(report, limit=MAX_GROUPS)
    lines += [escape(mask(line)) for line in body] or ["この期間にはありません。"]
    return lines


def help_lines() -> list[str]:
    return [
        "*使い方*",
        "• 質問：`/madoguchi 車いす` ・ `@madoguchi 車いす` ・ DM。社協を選ぶときは先頭に名前：`/madoguchi 清瀬 車いす`",
        "• `status`：読み込んでいる社協・サービス数・最後の再読み込み・警告の件数",
        "• `reload`：knowledge/ を読み直す（設定ファイルの admins のみ）",
        "• `unanswered 7d`：答えられなかった質問（`24h`・`30d`・`all` も可）",
        "• `feedback 7d`：「役に立った？」の はい／いいえ と、いいえ だった質問と回答",
        "• App Home：今週の未回答・いいえ・緊急の相談・窓口の空欄と、その場で直すボタン（admins のみ）",
    ]
