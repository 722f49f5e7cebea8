"""Read one YAML file into plain data plus the line of every key and item.

PyYAML keeps positions only on its node tree, so the tree is walked once to
record `path → line`; validation can then say exactly where a problem is.
Duplicate keys, which PyYAML silently merges, are reported too. The tree is
built by libyaml when PyYAML was compiled with it (about ten times faster than
the pure-Python parser; its nodes carry the same line marks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.problems import Problem

__all__ = ["YamlDoc", "read_yaml", "Path_"]

Path_ = tuple[str | int, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class YamlDoc:
    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The line of `path`, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def _plain(value: Any) -> Any:
    """Dates become ISO text: staff write `updated: 2026-11-22` unquoted."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _walk(node: yaml.Node, path: Path_, doc: YamlDoc, problems: list[Problem]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(doc.file, line, ".".join(map(str, path + (key,))), "duplicate key"))
            seen.add(key)
            doc.lines[path + (key,)] = line
            _walk(value_node, path + (key,), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), doc, problems)


_Stamp = tuple[int, int, int]
_parsed: dict[tuple[str, str], tuple[_Stamp, YamlDoc | None, tuple[Problem, ...]]] = {}
_PARSED_MAX = 8192  # files; far above one knowledge folder, so a reload finds every unchanged one


def read_yaml(path: Path, *, display: str | None = None) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse `path`; on a syntax error return no document and one problem.

    A reload after one edit reads every file again: an unchanged file (same
    modification time, size and inode; an atomic save is a new inode) is
    not parsed again. Nothing mutates a parsed document, so it is shared."""
    name = display or str(path)
    try:
        st = path.stat()
        stamp: _Stamp | None = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None
    key = (str(path), name)
    hit = _parsed.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp:
        return hit[1], list(hit[2])
    doc, problems = _parse(path, name)
    if stamp is not None:
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        _parsed[key] = (stamp, doc, tuple(problems))
    return doc, problems


def _parse(path: Path, name: str) -> tuple[YamlDoc | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, "", f"cannot read file: {exc}")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(name, None), []
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(name, line, "", f"YAML syntax error: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()
    doc = YamlDoc(name, _plain(data))
    problems: list[Problem] = []
    _walk(node, (), doc, problems)
    return doc, problems
