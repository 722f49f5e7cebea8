"""The labelled question set: council, question, expected ids, style."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["Question", "load_questions", "default_questions"]

SPECIAL = ("out_of_scope", "not_offered", "crisis")
ASKED_OF = "tomakomai"  # a danger message is asked once: the safety check does not depend on the council


@dataclass(frozen=True, slots=True)
class Question:
    council: str
    text: str
    expect: frozenset[str]
    style: str

    @property
    def group(self) -> str:
        """in_scope, out_of_scope, not_offered, crisis, or calm (a look-alike or a worry)."""
        if self.style in SPECIAL or self.style.startswith("crisis:"):
            return self.style.partition(":")[0]
        return "calm" if self.style.startswith(("lookalike", "concern")) else "in_scope"


def default_questions() -> Path:
    return Path(__file__).resolve().parents[2] / "tests" / "eval" / "questions.yaml"


def _style(d: dict) -> str:
    """The project's sets say `style`; sets of real questions say `kind`
    (in_scope, not_offered, out_of_scope), read as the style "real" when in scope,
    and "real:context" for one marked `standalone: false` (a page's heading such as
    「どんな人が利用できるの?」, whose topic only its page tells)."""
    if "style" in d:
        return str(d["style"])
    kind = str(d.get("kind") or "in_scope")
    if kind != "in_scope":
        return kind
    return "real:context" if d.get("standalone") is False else "real"


def _danger_set(data: dict) -> list[Question]:
    """A held-out danger corpus (danger / concern / lookalike), asked of every council."""
    out = []
    for section, prefix in (("danger", "crisis"), ("concern", "concern"), ("lookalike", "lookalike")):
        for d in data.get(section) or ():
            label = d.get("kind") or d.get("topic") or ""
            out.append(Question(ASKED_OF, str(d["text"]), frozenset(), f"{prefix}:{label}"))
    return out


def load_questions(path: Path | None = None) -> list[Question]:
    """One set: a YAML file, or a folder whose YAML files make one set together
    (a danger corpus kept as its danger and look-alike files)."""
    path = path or default_questions()
    if path.is_dir():
        return [q for f in sorted(path.glob("*.yaml")) for q in load_questions(f)]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        return _danger_set(data)
    return [Question(d["council"], str(d["q"]), frozenset(d.get("expect") or ()), _style(d)) for d in data]
