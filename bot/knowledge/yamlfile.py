"""Read one YAML file into plain data plus the line of every key and item.

PyYAML keeps positions only on its node tree, so the tree is walked once to
record `path → line`; validation can then say exactly where a problem is.
Duplicate keys, which PyYAML silently merges, are reported too. The tree is
built by libyaml when PyYAML was compiled with it (about ten times faster than
the pure-Python parser; its nodes carry the same line marks).

Even so, building plain data from the tree takes 0.2–0.3 s of every start
for the bundled knowledge. A `ParsedStore` keeps what each file gave (data,
lines and problems, and the verdicts of the schema checks it passed through)
in the data dir, under a hash of its name and bytes, so a start parses and
checks only files it has not seen: as the analysis keys
(`bot.language.keystore`), one file per knowledge folder and version of this
code and of PyYAML, holding the last load's files, read with `marshal`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import marshal
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.problems import Problem
from bot.language.keystore import touch, write_atomically

__all__ = ["YamlDoc", "read_yaml", "Path_", "ParsedStore"]

log = logging.getLogger("madoguchi.analysis")

Path_ = tuple[str | int, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class YamlDoc:
    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    key: bytes = b""  # what a `ParsedStore` keeps it under (its name and bytes, hashed); b"" when not kept

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
_parsed: dict[tuple[str, str], tuple[_Stamp, YamlDoc | None, tuple[Problem, ...], bytes]] = {}
_PARSED_MAX = 8192  # files; far above one knowledge folder, so a reload finds every unchanged one
_Problems = tuple[tuple[Any, ...], ...]  # `Problem`s as plain tuples, which marshal holds
_Kept = tuple[Any, dict[Path_, int], _Problems, dict[str, _Problems]]  # data, lines, problems, checks' verdicts


class ParsedStore:
    """What each YAML file of one knowledge folder gave, on disk between runs.

    Read on the first file not already parsed in this process; `save` writes
    the files read since (when any was new). Never raises: a cache must not
    stop a start, and an unreadable one only costs the parsing."""

    def __init__(self, folder: Path, root: Path | str) -> None:
        h = hashlib.sha256(f"1\n{yaml.__version__}\n{_Loader.__name__}\n{Path(root).resolve()}\n".encode())
        h.update(Path(__file__).read_bytes())
        self.path = Path(folder) / f"parsed-{h.hexdigest()[:24]}.marshal"
        self._kept: dict[bytes, _Kept] | None = None
        self._used: dict[bytes, _Kept] = {}
        self._new = False

    def get(self, key: bytes) -> _Kept | None:
        """What the file with this key gave, if kept."""
        if self._kept is None:
            self._kept = {}
            touch(self.path)
            try:
                kept = marshal.loads(self.path.read_bytes())  # one read: `marshal.load(f)` reads in small pieces
                if type(kept) is dict:
                    self._kept = kept
            except FileNotFoundError:
                pass
            except (OSError, EOFError, ValueError, TypeError) as exc:
                log.warning("parse cache %s unreadable (%s); parsing again", self.path, exc)
        found = self._kept.get(key)
        if found is not None:
            self._used[key] = found
        return found

    def put(self, key: bytes, doc: YamlDoc, problems: list[Problem] | tuple[Problem, ...], *, new: bool = True) -> None:
        """Keep what a file gave; `new=False` for one this process parsed already (a reload),
        so that the next `save` still holds every file of the load."""
        had = self._used.get(key) or (self._kept or {}).get(key)
        self._used[key] = (doc.data, doc.lines, tuple(astuple(p) for p in problems), had[3] if had else {})
        self._new = self._new or new

    def verdict(self, doc: YamlDoc, check: str) -> list[Problem] | None:
        """What `check` (a schema's `schema.fingerprint`) found in a kept file, if it was run."""
        entry = self._used.get(doc.key)
        found = None if entry is None else entry[3].get(check)
        return None if found is None else [Problem(*p) for p in found]

    def put_verdict(self, doc: YamlDoc, check: str, problems: list[Problem]) -> None:
        """Keep what `check` found in a kept file (a file not kept is checked each time)."""
        entry = self._used.get(doc.key)
        if entry is not None and check not in entry[3]:
            entry[3][check] = tuple(astuple(p) for p in problems)
            self._new = True

    def save(self) -> None:
        if not self._new:
            return
        try:
            data = marshal.dumps(self._used)
        except ValueError as exc:  # a YAML value marshal cannot hold: parse such files each time
            log.warning("parse cache not written (%s)", exc)
            return
        write_atomically(self.path.parent, self.path.name, lambda f: f.write(data), stale="parsed-*.marshal")
        self._new = False


def read_yaml(path: Path, *, display: str | None = None,
              store: ParsedStore | None = None) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse `path`; on a syntax error return no document and one problem.

    A reload after one edit reads every file again: an unchanged file (same
    modification time, size and inode; an atomic save is a new inode) is
    not parsed again. Nothing mutates a parsed document, so it is shared.
    With `store`, a file this process has not parsed may come from disk."""
    name = display or str(path)
    try:
        st = path.stat()
        stamp: _Stamp | None = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None
    key = (str(path), name)
    hit = _parsed.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp:
        if store is not None and hit[1] is not None and hit[3]:
            store.put(hit[3], hit[1], hit[2], new=False)
        return hit[1], list(hit[2])
    digest = b""
    if store is None:
        doc, problems = _parse(path, name)
    else:  # a file this process read before has changed since: no earlier run kept it
        doc, problems, digest = _parse_kept(path, name, store, look=hit is None)
    if stamp is not None:
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        _parsed[key] = (stamp, doc, tuple(problems), digest)
    return doc, problems


def _parse_kept(path: Path, name: str, store: ParsedStore, *, look: bool = True
                ) -> tuple[YamlDoc | None, list[Problem], bytes]:
    """`_parse` through `store`, with the key the file is kept under; `look=False` parses
    without reading the store from disk (a reload's edited file is not in it)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return *_parse(path, name), b""  # says why
    key = hashlib.blake2b(name.encode("utf-8", "surrogatepass") + b"\x00" + raw, digest_size=16).digest()
    kept = store.get(key) if look else None
    if kept is None:
        doc, problems = _parse(path, name, raw=raw)
        if doc is not None:  # a file that does not parse is parsed again, to say why
            doc.key = key
            store.put(key, doc, problems)
        return doc, problems, key
    data, lines, kept_problems, _ = kept
    return YamlDoc(name, data, lines, key), [Problem(*p) for p in kept_problems], key


def _parse(path: Path, name: str, *, raw: bytes | None = None) -> tuple[YamlDoc | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8") if raw is None else raw.decode("utf-8")
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
