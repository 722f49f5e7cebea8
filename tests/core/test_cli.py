"""The `python -m bot` contract other tools rely on, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge"


def _bot(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("MADOGUCHI_COUNCIL", "MADOGUCHI_KNOWLEDGE")}
    # The command line's contract, not retrieval: answered lexically. With the encoder on, each
    # run would encode the fixture knowledge (it has no vector cache), about a minute of CPU.
    base["MADOGUCHI_ENCODER"] = "none"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, timeout=120,
        env={**base, **(env or {})},
    )


def test_ask_prints_the_answer_as_a_resident_reads_it() -> None:
    p = _bot("--knowledge", str(FIXTURE), "ask", "--council", "minato", "車いすを借りたい")
    assert p.returncode == 0, p.stderr
    assert "【車いすの貸し出し】" in p.stdout and "窓口：みなと市社協 総合相談係" in p.stdout


def test_ask_json_contract() -> None:
    p = _bot("--knowledge", str(FIXTURE), "ask", "--council", "minato", "--json", "給食サビース")
    assert p.returncode == 0, p.stderr
    [line] = p.stdout.splitlines()
    data = json.loads(line)
    assert set(data) == {"council", "query", "kind", "results", "text"}
    assert data["council"] == "minato" and data["query"] == "給食サビース" and data["kind"] == "answer"
    assert data["results"][0]["id"] == "minato/kyushoku"
    assert set(data["results"][0]) == {"id", "title", "score"}
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_json_reads_stdin_one_question_per_line() -> None:
    p = _bot("--knowledge", str(FIXTURE), "ask", "--council", "minato", "--json", "-",
             stdin="車いす\n死にたい\nごみの出し方\n")
    assert p.returncode == 0, p.stderr
    kinds = [json.loads(line)["kind"] for line in p.stdout.splitlines()]
    assert kinds == ["answer", "emergency", "fallback"]


def test_ask_reads_each_question_as_a_first_message_thanks_closing_as_on_line() -> None:
    p = _bot("--knowledge", str(FIXTURE), "ask", "--council", "minato", "--json", "-",
             stdin="ありがとう\n費用は？\n車いす\n")
    assert p.returncode == 0, p.stderr
    thanks, field, wheelchair = (json.loads(line) for line in p.stdout.splitlines())
    assert thanks["kind"] == "fallback" and thanks["text"].startswith("どういたしまして")
    assert not field["text"].startswith("どういたしまして")  # a field question needs a service before it
    assert wheelchair["kind"] == "answer"


def test_chat_session_picks_a_numbered_choice() -> None:
    p = _bot("--knowledge", str(FIXTURE), "chat", "--council", "minato", stdin="相談したい\n1\n\n")
    assert p.returncode == 0, p.stderr
    assert "1. " in p.stdout and "【" in p.stdout


def test_chat_keeps_the_choices_on_a_number_out_of_range_and_closes_on_thanks() -> None:
    p = _bot("chat", "--council", "tomakomai", stdin="おかねを かしてほしい\n99\n1\n費用は？\nありがとう\n\n")
    assert p.returncode == 0, p.stderr
    listed = [ln for ln in p.stdout.splitlines() if ln[:1].isdigit() and ". " in ln]
    assert "99番はありません。1から" in p.stdout
    n = len(listed) // 2
    assert n >= 2 and listed[:n] == listed[n:]  # the same choices, shown again
    assert "の費用" in p.stdout and "どういたしまして。" in p.stdout
    assert p.stdout.count("の窓口です。") == 1  # thanks is not greeted again


def test_unknown_council_is_a_clear_error() -> None:
    p = _bot("--knowledge", str(FIXTURE), "ask", "--council", "nowhere", "車いす")
    assert p.returncode == 2 and "unknown council 'nowhere'" in p.stderr


def test_kb_check_exit_codes(tmp_path: Path) -> None:
    ok = _bot("kb", "check", str(FIXTURE))
    assert ok.returncode == 0 and "エラー 0 件" in ok.stdout
    broken = tmp_path / "knowledge"
    import shutil

    shutil.copytree(FIXTURE, broken)
    f = broken / "minato/services/salon.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("audience: resident", "audience: [oops"), encoding="utf-8")
    bad = _bot("kb", "check", "--lang", "en", str(broken))
    assert bad.returncode == 1
    assert "error: knowledge/minato/services/salon.yaml:6: -: YAML syntax error" in bad.stdout
    ja = _bot("kb", "check", str(broken))
    assert ja.returncode == 1 and "エラー: knowledge/minato/services/salon.yaml:6: YAML の書き方の誤り" in ja.stdout


def test_kb_schema_is_json_schema() -> None:
    p = _bot("kb", "schema")
    schema = json.loads(p.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    service = schema["$defs"]["service"]
    assert {"id", "title", "summary", "contact"} <= set(service["required"])
    assert service["additionalProperties"] is False


# -- the command line as people type it -----------------------------------------------------------------

def test_global_options_work_before_or_after_the_command() -> None:
    from bot.cli import parse_args

    forms = [
        ["--knowledge", "k", "--audience", "staff", "ask", "--council", "kiyose", "車いす"],
        ["ask", "--knowledge", "k", "--council", "kiyose", "--audience", "staff", "車いす"],
        ["--council", "kiyose", "ask", "車いす", "--knowledge", "k", "--audience", "staff"],
    ]
    for argv in forms:
        args = parse_args(argv, env={})
        assert (args.knowledge, args.council, args.audience, args.question) == (Path("k"), "kiyose", "staff",
                                                                                ["車いす"]), argv
    assert parse_args(["serve", "--knowledge", "k"], env={}).knowledge == Path("k")
    assert parse_args(["kb", "check", "--knowledge", "k"], env={}).knowledge == Path("k")
    assert parse_args(["report", "unanswered", "--knowledge", "k"], env={}).council is None
    # defaults: the environment's knowledge folder, no council chosen yet, residents
    args = parse_args(["ask", "x"], env={"MADOGUCHI_KNOWLEDGE": "/srv/k"})
    assert (args.knowledge, args.council, args.audience) == (Path("/srv/k"), None, "resident")
    assert parse_args(["ask", "x"], env={}).knowledge is None


@pytest.mark.parametrize(("argv", "core"), [
    (["ask", "x"], True),
    (["--knowledge", "k", "--council=kiyose", "--audience", "staff", "kb", "check"], True),
    (["--council", "serve", "ask", "x"], True),  # a value is not the command
    (["serve"], False),
    (["--knowledge=k", "line", "richmenu"], False),
    (["--help"], False),  # help lists every command
    (["--knowlege", "k", "ask", "x"], False),  # not understood: the full parser says what is wrong
    ([], False),
])
def test_core_commands_are_parsed_without_loading_the_plug_ins(argv: list[str], core: bool) -> None:
    from bot.cli import _core_command, build_parser

    assert _core_command(build_parser(plugins=False), argv) is core


def test_ask_imports_no_plug_in() -> None:
    """`ask` does not pay for the web stack's imports, nor for importlib.metadata's."""
    code = ("import sys; from bot.cli import parse_args; parse_args(['ask', 'x'], env={}); "
            "print(sorted(m for m in sys.modules if m.startswith('adapters') or m == 'importlib.metadata'))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == "[]"


def test_errors_name_the_option_that_is_wrong() -> None:
    misspelt = _bot("ask", "--knowlege", str(FIXTURE), "--council", "minato", "車いす")
    assert misspelt.returncode == 2
    assert "unknown option --knowlege (did you mean --knowledge?)" in misspelt.stderr
    assert "車いす" not in misspelt.stderr  # the question is not blamed for the option
    misplaced = _bot("--council", "minato", "kb", "check")
    assert misplaced.returncode == 2 and "--council does not apply to 'madoguchi kb check'" in misplaced.stderr
    split = _bot("--knowledge", str(FIXTURE), "ask", "車いす", "--council", "minato", "成年後見")
    assert split.returncode == 2 and "unexpected argument '成年後見'" in split.stderr


def test_ask_and_chat_need_a_council_when_the_knowledge_has_several() -> None:
    for command in ("ask", "chat"):
        p = _bot("--knowledge", str(FIXTURE), command, *(["車いす"] if command == "ask" else []), stdin="")
        assert p.returncode == 2, p.stdout
        assert f"{command} needs --council (or MADOGUCHI_COUNCIL)" in p.stderr
        assert "minato" in p.stderr and "yama" in p.stderr and "みなと市社会福祉協議会" in p.stderr
        assert p.stdout == ""
    chosen = _bot("--knowledge", str(FIXTURE), "ask", "--json", "車いす", env={"MADOGUCHI_COUNCIL": "minato"})
    assert chosen.returncode == 0 and json.loads(chosen.stdout)["council"] == "minato"


def test_one_council_needs_no_flag(tmp_path: Path) -> None:
    import shutil

    one = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, one)
    shutil.rmtree(one / "yama")
    p = _bot("ask", "--knowledge", str(one), "--json", "車いす")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["council"] == "minato"


def test_every_report_names_the_log_it_read(tmp_path: Path, monkeypatch) -> None:
    import io
    import time

    from bot.cli import main
    from bot.querylog import LogEntry
    from bot.querylog.report import log_source
    from bot.querylog.sqlite import SqliteQueryLog

    monkeypatch.delenv("DATABASE_URL", raising=False)
    log = SqliteQueryLog.in_dir(tmp_path, salt="s")
    log.record(LogEntry(time.time() - 10, "minato", "line", "ペットを預かって", "fallback", event_id="e1"))
    log.close()
    for report in ("unanswered", "feedback"):
        out = io.StringIO()
        assert main(["--knowledge", str(FIXTURE), "report", report, "--data-dir", str(tmp_path)], out=out) == 0
        assert out.getvalue().splitlines()[-1] == f"クエリログ: {tmp_path / 'querylog.sqlite3'} (--data-dir)", report
    assert log_source(data_dir=None, env={"MADOGUCHI_DATA_DIR": "/var/lib/madoguchi"}) == \
        "/var/lib/madoguchi/querylog.sqlite3 (MADOGUCHI_DATA_DIR)"
    assert "set MADOGUCHI_DATA_DIR" in log_source(data_dir=None, env={})
    postgres = log_source(data_dir=None, env={"DATABASE_URL": "postgresql://madoguchi:s3@cret@db.internal:5433/mado"})
    assert postgres == "PostgreSQL db.internal:5433/mado (DATABASE_URL)"


def test_python_without_the_packages_says_how_to_run_it() -> None:
    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-S", "-m", "bot", "kb", "check"], cwd=root, capture_output=True,
                       text=True, timeout=60)  # -S: no site-packages, as with a system python3
    assert p.returncode == 1
    assert "No module named" in p.stderr and "scripts/run" in p.stderr and "Traceback" not in p.stderr
