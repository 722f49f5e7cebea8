"""`python -m bot eval`: the figures are computed as defined, and baselines run beside ours."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli import main
from bot.evaluation.questions import Question
from bot.evaluation.scoring import Outcome, score

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge"


def _q(expect: tuple[str, ...], style: str = "name") -> Question:
    return Question("minato", "q", frozenset(expect), style)


def test_figures_follow_their_definitions() -> None:
    pairs = [
        (_q(("a",)), Outcome("answer", ("a", "b"), 0.001)),  # right answer
        (_q(("b",)), Outcome("answer", ("a", "b"), 0.001)),  # wrong answer, right at rank 2
        (_q(("c",)), Outcome("choices", ("x", "y", "z", "c"), 0.001)),  # rank 4: not in top 3
        (_q((), "out_of_scope"), Outcome("fallback", (), 0.001)),
        (_q((), "not_offered"), Outcome("answer", ("a",), 0.001)),  # a wrong confident answer
        (_q((), "crisis"), Outcome("emergency", (), 0.001)),
    ]
    f = score(pairs)
    assert (f.top1, f.top3) == (1 / 3, 2 / 3)
    assert abs(f.mrr - (1 + 1 / 2 + 1 / 4) / 3) < 1e-9
    assert f.answer_rate == 2 / 3
    assert f.precision == 1 / 3  # 3 answers given, 1 right
    assert (f.declined, f.crisis) == (0.5, 1.0)


def test_kind_shown_counts_the_emergencies_that_show_their_own_kinds_lines() -> None:
    pairs = [
        (_q((), "crisis:dv"), Outcome("emergency", (), 0.001, ("dv", "stalking"))),  # shown, second
        (_q((), "crisis:child-abuse"), Outcome("emergency", (), 0.001, ("no-food",))),  # the wrong lines
        (_q((), "crisis:fraud"), Outcome("answer", ("a",), 0.001)),  # missed: a recall matter, not counted here
        (_q((), "crisis"), Outcome("emergency", (), 0.001, ("suicide",))),  # no kind labelled
    ]
    f = score(pairs)
    assert f.kind_shown == 0.5
    assert f.crisis == 3 / 4


def test_eval_command_prints_madoguchi_and_both_baselines(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- {council: minato, q: くるまいす かりたい, expect: [minato/kuruma-isu], style: kana}\n"
        "- {council: minato, q: 給食サビース, expect: [minato/kyushoku], style: typo}\n"
        "- {council: minato, q: 明日の天気は, expect: [], style: out_of_scope}\n"
        "- {council: minato, q: 死にたい, expect: [], style: crisis}\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert main(["--knowledge", str(FIXTURE), "eval", str(questions), "--failures", "5"], out=out) == 0
    text = out.getvalue()
    assert "4 questions, 1 councils" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith(("madoguchi", "wratio", "bm25"))}
    assert set(rows) == {"madoguchi", "wratio", "bm25"}
    top1, top3, mrr, answer_rate, precision, declined, crisis = map(float, rows["madoguchi"][:7])
    assert (top1, declined, crisis) == (1.0, 1.0, 1.0)
    assert float(rows["bm25"][6]) == 0.0  # baselines have no safety check


def test_real_question_sets_are_read_as_they_are(tmp_path: Path) -> None:
    """shared/eval's format: `kind` instead of `style`, with source and topic beside."""
    from bot.evaluation.questions import load_questions

    f = tmp_path / "real.yaml"
    f.write_text("- {council: minato, q: 'お弁当は？', expect: [minato/kyushoku], kind: in_scope, topic: meals,"
                 " source: 'https://example.org/faq'}\n"
                 "- {council: minato, q: '住民票', expect: [], kind: out_of_scope, topic: x, source: s}\n"
                 "- {council: minato, q: '費用は？', expect: [minato/kyushoku], kind: in_scope, standalone: false}\n",
                 encoding="utf-8")
    a, b, c = load_questions(f)
    assert (a.style, a.group, b.style, b.group) == ("real", "in_scope", "out_of_scope", "out_of_scope")
    assert (c.style, c.group) == ("real:context", "in_scope")  # a page's heading, reported apart


def test_a_danger_corpus_counts_recall_and_false_alarms(tmp_path: Path) -> None:
    from bot.evaluation.questions import load_questions

    f = tmp_path / "danger.yaml"
    f.write_text("danger:\n  - {text: 'たすけて', kind: dv}\nlookalike:\n  - {text: '研修', topic: training}\n"
                 "concern:\n  - {text: '疲れた', kind: carer-breaking}\n", encoding="utf-8")
    qs = load_questions(f)
    assert [q.group for q in qs] == ["crisis", "calm", "calm"]
    f2 = score([(qs[0], Outcome("emergency", (), 0.0)), (qs[1], Outcome("emergency", (), 0.0)),
                (qs[2], Outcome("answer", (), 0.0))])
    assert f2.crisis == 1.0 and f2.alarms == 0.5


def test_a_folder_is_one_set_of_its_files(tmp_path: Path) -> None:
    """A danger corpus is kept as a folder (its danger file and its look-alikes): eval reads it whole."""
    from bot.evaluation.questions import load_questions

    (tmp_path / "danger.yaml").write_text("danger:\n  - {text: 'たすけて', kind: dv}\n", encoding="utf-8")
    (tmp_path / "lookalike.yaml").write_text("lookalike:\n  - {text: '研修', topic: training}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a set", encoding="utf-8")
    assert [(q.text, q.group) for q in load_questions(tmp_path)] == [("たすけて", "crisis"), ("研修", "calm")]


def test_eval_names_a_missing_set_instead_of_a_traceback(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert main(["--knowledge", str(FIXTURE), "eval", str(missing)], out=io.StringIO()) == 2
    assert f"no such question set: {missing}" in capsys.readouterr().err
