"""The bundled knowledge keeps meeting the answer-quality targets on every labelled set.

A staff edit that breaks matching (a lost alias, a too-greedy synonym, a safety
term that no longer fires) fails here before it reaches residents.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.evaluation.questions import load_questions
from bot.evaluation.report import evaluate, madoguchi_system
from bot.evaluation.scoring import score

EVAL = Path(__file__).resolve().parents[1] / "eval"


@pytest.mark.parametrize("name", ["questions.yaml", "holdout.yaml", "fresh.yaml", "unseen.yaml", "final.yaml"])
def test_targets_hold_on_each_question_set(real_assistant: Assistant, name: str) -> None:
    questions = load_questions(EVAL / name)
    known = real_assistant.knowledge.services
    for q in questions:
        assert all(sid in known and known[sid].audience == "resident" for sid in q.expect), q.text
    f = score(evaluate(madoguchi_system(real_assistant), questions))
    assert f.top1 >= 0.92 and f.top3 >= 0.98, (f.top1, f.top3)
    assert f.precision >= 0.97, f.precision
    assert f.declined >= 0.90, f.declined
    assert f.crisis == 1.0
