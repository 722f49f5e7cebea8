"""`kb check` in the staff's language: one line per window, Japanese by default, JSON for tools."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

from bot.cli import main
from bot.knowledge.loader import check_knowledge
from bot.knowledge.problems import Problem
from bot.knowledge.wording import say

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["kb", "check", *args], out=out)
    return code, out.getvalue()


def test_one_line_per_window_in_japanese_naming_council_yaml() -> None:
    code, out = run()
    assert code == 0
    # one line per problem and the summary (the encoder's line and examples read as danger aside)
    lines = [x for x in out.splitlines() if "examples:" not in x and not x.startswith("意味での検索")]
    result = check_knowledge()
    assert len(lines) == len(result.problems) + 1 < 120  # was 802 lines, one per service
    windows = [line for line in lines if "の窓口：" in line]
    assert windows and all(re.match(r"^警告: knowledge/\w+/council\.yaml:\d+: .+の窓口：(電話番号|受付時間).*が未設定です"
                                    r"（\d+件のサービスが参照）$", line) for line in windows)
    assert "清瀬市社会福祉協議会の窓口：電話番号と受付時間が未設定です（" in out
    assert lines[-1].startswith("エラー 0 件・警告 ")


def test_every_problem_the_bundled_knowledge_and_a_broken_copy_raise_is_said_in_japanese(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, kb)
    (kb / "minato/services/salon.yaml").write_text(
        (kb / "minato/services/salon.yaml").read_text("utf-8").replace("category:", "colour: red\ncategory:"), "utf-8")
    (kb / "yama/council.yaml").write_text((kb / "yama/council.yaml").read_text("utf-8").replace(
        "departments:", "departments:\n  - id: x\n    name: x\n    url: javascript:void(0)"), "utf-8")
    problems = [*check_knowledge().problems, *check_knowledge(kb).problems]
    synthetic = [Problem("f", 1, "phone", m) for m in (
        "phone '12' is not a Japanese phone number (write e.g. …)", "phone '042-1' has 5 digits; a landline number has 10",
        "url 'https://a b' has characters that must be percent-encoded (…)")]
    for p in problems + synthetic:
        ja = say(p)
        assert ja != p.message and not re.search(r"\b(must|unknown|has no|missing)\b", ja), p


def test_english_and_json_for_tools(tmp_path: Path) -> None:
    code, out = run("--lang", "en", str(FIXTURE))
    assert code == 0 and re.search(r"^0 error\(s\), \d+ warning\(s\); 2 councils", out.splitlines()[-1])
    assert "window 'みなと市社協 地域福祉係' has no phone and hours (2 services refer to it)" in out
    code, out = run("--format", "json", str(FIXTURE))
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["councils"] == 2 and data["errors"] == 0
    [w] = [p for p in data["problems"] if p["field"] == "departments[1]"]
    assert w == {"severity": "warning", "file": "knowledge/minato/council.yaml", "line": w["line"],
                 "field": "departments[1]", "message": "みなと市社協 地域福祉係の窓口：電話番号と受付時間が未設定です（2件のサービスが参照）",
                 "message_en": "window 'みなと市社協 地域福祉係' has no phone and hours (2 services refer to it)"}
