"""The labelled question set: council, question, expected ids, style."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["Question", "load_questions", "default_questions"]

SPECIAL = ("out_of_scope", "not_offered", "crisis")


@dataclass(frozen=True, slots=True)
class Question:
    council: str
    text: str
    expect: frozenset[str]
    style: str

    @property
    def group(self) -> str:
        """in_scope, out_of_scope, not_offered or crisis."""
        return self.style if self.style in SPECIAL else "in_scope"


def default_questions() -> Path:
    return Path(__file__).resolve().parents[2] / "tests" / "eval" / "questions.yaml"


def load_questions(path: Path | None = None) -> list[Question]:
    data = yaml.safe_load((path or default_questions()).read_text(encoding="utf-8"))
    return [Question(d["council"], str(d["q"]), frozenset(d.get("expect") or ()), d["style"]) for d in data]
