"""Staff edits to the knowledge files: written as a round trip, checked before they land.

An edit is computed as the file's new text with ruamel.yaml's round-trip mode,
which keeps comments, key order, quoting and block styles, so a one-word
change is a one-line diff. `apply` then checks the *whole* knowledge with the
edits in place, in a scratch copy; only when that has no errors are the real
files replaced (atomically, one `os.replace` each). A broken edit therefore
never reaches the folder the server reloads from.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.knowledge.contacts import phone_problem, url_problem
from bot.knowledge.loader import LoadResult, check_knowledge
from bot.knowledge.problems import Problem

__all__ = ["Edit", "EditRejected", "add_wording", "set_window", "new_draft", "publish", "apply", "WINDOW",
           "WINDOW_FIELDS", "slug_for"]

WINDOW = "window"  # the department id that means the council's general window
WINDOW_FIELDS = ("phone", "hours", "address", "url")
Field = Literal["examples", "aliases"]
_LOCK = threading.Lock()  # one edit at a time, so two staff never write over each other's check


@dataclass(frozen=True, slots=True)
class Edit:
    """One file's new text, relative to the knowledge folder, and what changed (for the log and the commit)."""

    path: str
    text: str
    summary: str


class EditRejected(ValueError):
    """The edit would break the knowledge (or is malformed); nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long Japanese line
    y.indent(mapping=2, sequence=4, offset=2)  # the style of knowledge/ (`  - id: …` under a key)
    return y


def _load(root: Path, rel: str) -> Any:
    path = root / rel
    if not path.is_file():
        raise EditRejected([Problem(rel, 1, "", "file not found")])
    return _yaml().load(path.read_text(encoding="utf-8"))


def _dump(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def _service_file(service_id: str) -> str:
    council, _, slug = service_id.partition("/")
    if not council or not slug or "/" in slug or council.startswith((".", "_")) or ".." in service_id:
        raise EditRejected([Problem(service_id, 1, "id", f"not a service id: {service_id!r}")])
    return f"{council}/services/{slug}.yaml"


def add_wording(root: Path, service_id: str, *, field: Field, text: str) -> Edit:
    """Add `text` to the service's `examples` or `aliases` (a no-op error when it is there already)."""
    rel = _service_file(service_id)
    words = " ".join(text.split())
    if field not in ("examples", "aliases") or not words:
        raise EditRejected([Problem(rel, 1, field, "must not be empty")])
    data = _load(root, rel)
    seq = data.get(field)
    if seq is None:
        seq = CommentedSeq()
        if field == "aliases":
            seq.fa.set_flow_style()
        data[field] = seq
    if words in [str(w) for w in seq]:
        raise EditRejected([Problem(rel, 1, field, f"{words!r} is already in {field}")])
    seq.append(words)
    return Edit(rel, _dump(data), f"{service_id}: {field} += {words}")


def set_window(root: Path, council: str, department: str, values: dict[str, str | None]) -> Edit:
    """Set phone, hours, address and url of a department (or `window`) in council.yaml; blank clears."""
    rel = f"{council}/council.yaml"
    data = _load(root, rel)
    if department == WINDOW:
        target, where = data.get("window"), ("window",)
    else:
        found = [(i, d) for i, d in enumerate(data.get("departments") or ()) if d.get("id") == department]
        target, where = (found[0][1], ("departments", found[0][0])) if found else (None, ())
    if not isinstance(target, CommentedMap):
        raise EditRejected([Problem(rel, 1, "departments", f"unknown department {department!r}")])
    problems = []
    for key, check in (("phone", phone_problem), ("url", url_problem)):
        value = (values.get(key) or "").strip()
        message = check(value) if value else None
        if message:
            problems.append(Problem(rel, 1, ".".join(map(str, (*where, key))), message))
    if problems:
        raise EditRejected(problems)
    changed = []
    for key in WINDOW_FIELDS:
        if key not in values:
            continue
        value = " ".join((values[key] or "").split()) or None
        if target.get(key) != value:
            target[key] = value
            changed.append(f"{key}={value or '(空)'}")
    if not changed:
        raise EditRejected([Problem(rel, 1, ".".join(map(str, where)), "nothing changed")])
    return Edit(rel, _dump(data), f"{council}/{department}: " + ", ".join(changed))


def slug_for(root: Path, council: str) -> str:
    """A free file name for a new entry: `draft-1`, `draft-2`, … (staff rename it when publishing)."""
    n = 1
    while (root / council / "services" / f"draft-{n}.yaml").exists():
        n += 1
    return f"draft-{n}"


def new_draft(root: Path, council: str, *, title: str, category: str, department: str, summary: str,
              example: str | None = None) -> Edit:
    """A new `status: draft` service: validated like any other, never answered until published."""
    slug = slug_for(root, council)
    data = CommentedMap()
    data["id"] = f"{council}/{slug}"
    data["title"] = " ".join(title.split())
    aliases = CommentedSeq()
    aliases.fa.set_flow_style()
    data["aliases"] = aliases
    data["category"] = category
    data["audience"] = "resident"
    data["status"] = "draft"
    data["summary"] = " ".join(summary.split())
    data["contact"] = CommentedMap(department=department)
    data["examples"] = CommentedSeq([" ".join(example.split())] if example and example.strip() else [])
    data.yaml_set_start_comment("下書き：利用者には表示されません。status を active にすると公開されます。")
    return Edit(f"{council}/services/{slug}.yaml", _dump(data), f"{council}/{slug}: new draft 「{data['title']}」")


def publish(root: Path, service_id: str) -> Edit:
    """A draft made live (`status: active`)."""
    rel = _service_file(service_id)
    data = _load(root, rel)
    if data.get("status") != "draft":
        raise EditRejected([Problem(rel, 1, "status", f"{service_id} is not a draft")])
    data["status"] = "active"
    return Edit(rel, _dump(data), f"{service_id}: published")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(root: Path | str, edits: Sequence[Edit]) -> LoadResult:
    """Check the whole knowledge with `edits` in place; write them only if it has no errors.

    Raises `EditRejected` with the errors (paths as `kb check` shows them) and
    leaves every file as it was.
    """
    root = Path(root)
    with _LOCK:
        with tempfile.TemporaryDirectory(prefix="madoguchi-edit-") as scratch:
            copy = Path(scratch) / root.name  # same folder name: problems read as in `kb check`
            shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"))
            for e in edits:
                _write(copy / e.path, e.text)
            result = check_knowledge(copy)
        if result.errors:
            raise EditRejected(result.errors)
        for e in edits:
            _write(root / e.path, e.text)
    return result

