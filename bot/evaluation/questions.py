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


def _style(d: dict) -> str:
    """The project's sets say `style`; sets of real questions say `kind`
    (in_scope, not_offered, out_of_scope), read as the style "real" when in scope."""
    if "style" in d:
        return str(d["style"])
    kind = str(d.get("kind") or "in_scope")
    return "real" if kind == "in_scope" else kind


def load_questions(path: Path | None = None) -> list[Question]:
    data = yaml.safe_load((path or default_questions()).read_text(encoding="utf-8"))
    return [Question(d["council"], str(d["q"]), frozenset(d.get("expect") or ()), _style(d)) for d in data]
