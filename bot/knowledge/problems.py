"""Problems found while loading knowledge, each pointing at file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Problem", "KnowledgeError", "Problems"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '-'}: {self.message}"


class KnowledgeError(Exception):
    """Raised when a knowledge folder has errors; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"]
        lines = "\n".join(str(p) for p in self.problems[:20])
        more = f"\n… and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} error(s) in the knowledge:\n{lines}{more}")


class Problems:
    """Mixin for results that carry `problems`: split them into errors and warnings."""

    __slots__ = ()
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
