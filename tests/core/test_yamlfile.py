"""libyaml (when PyYAML has it) reads every file exactly as the pure-Python parser does, lines included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge import yamlfile
from bot.knowledge.loader import check_knowledge, default_root

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")

BROKEN = [
    "a: 1\nb: [1, 2\nc: 3\n",
    "a: 1\n  b: 2\n",
    "a:\n  - x\n - y\n",
    "a: 'x\n",
    "- a\nb: 1\n",
    "title: x\nsummary: {b: 1\n",
    "a: @x\n",
    "\t- x\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: 2\n",
]


def _both(path: Path, monkeypatch: pytest.MonkeyPatch):
    out = []
    for loader in (yaml.CSafeLoader, yaml.SafeLoader):
        monkeypatch.setattr(yamlfile, "_Loader", loader)
        monkeypatch.setattr(yamlfile, "_parsed", {})  # parsed again, not remembered
        doc, problems = yamlfile.read_yaml(path)
        out.append((doc and (doc.data, doc.lines), [(p.line, p.field) for p in problems]))
    return out


def test_libyaml_is_used_when_present() -> None:
    assert yamlfile._Loader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


@needs_libyaml
def test_bundled_knowledge_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(default_root().rglob("*.yaml"))
    assert len(files) > 100
    for path in files:
        fast, pure = _both(path, monkeypatch)
        assert fast == pure, path


@needs_libyaml
@pytest.mark.parametrize("text", BROKEN)
def test_errors_name_the_same_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "entry.yaml"
    path.write_text(text, encoding="utf-8")
    fast, pure = _both(path, monkeypatch)
    assert fast == pure
    assert fast[1], "every case here has a problem"


def test_an_unchanged_file_is_not_parsed_again_and_a_changed_one_is(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("x: 1\n", encoding="utf-8")
    first, _ = yamlfile.read_yaml(path)
    again, _ = yamlfile.read_yaml(path)
    assert again is first  # shared: nothing mutates a parsed document
    tmp = tmp_path / "a.tmp"
    tmp.write_text("x: 2\n", encoding="utf-8")  # same size: an atomic save is told apart by its inode
    tmp.replace(path)
    changed, _ = yamlfile.read_yaml(path)
    assert changed is not None and changed.data == {"x": 2}
    path.write_text("x: [\n", encoding="utf-8")  # edited in place, longer: a syntax error, reported
    broken, problems = yamlfile.read_yaml(path)
    assert broken is None and problems and problems[0].line >= 1


@pytest.mark.parametrize("root", [default_root(), Path(__file__).parents[1] / "fixtures" / "knowledge"])
def test_files_kept_between_runs_give_the_same_knowledge(root: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = yamlfile._parse
    monkeypatch.setattr(yamlfile, "_parse", lambda path, name, **kw: parsed.append(name) or real(path, name, **kw))
    monkeypatch.setattr(yamlfile, "_parsed", {})
    reference = check_knowledge(root)
    results = []
    for _ in range(2):  # a first start parses and keeps every file, a second reads them back
        monkeypatch.setattr(yamlfile, "_parsed", {})  # a fresh process
        parsed.clear()
        results.append(check_knowledge(root, cache=tmp_path))
    cold, warm = results
    assert len(parsed) == 0 and next(tmp_path.glob("parsed-*.marshal")).stat().st_size > 0
    for result in (cold, warm):
        assert result.knowledge == reference.knowledge and result.problems == reference.problems


def test_a_changed_or_damaged_file_is_parsed_again(kb_copy: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(yamlfile, "_parsed", {})
    check_knowledge(kb_copy, cache=cache)
    entry = next((kb_copy / "minato" / "services").glob("*.yaml"))
    entry.write_text(entry.read_text(encoding="utf-8").replace("title:", "title: 新しい", 1), encoding="utf-8")
    [kept] = cache.glob("parsed-*.marshal")
    kept.write_bytes(kept.read_bytes()[:500])  # cut short, as by a full disk
    for _ in range(2):
        monkeypatch.setattr(yamlfile, "_parsed", {})
        result = check_knowledge(kb_copy, cache=cache)
        monkeypatch.setattr(yamlfile, "_parsed", {})
        assert result == check_knowledge(kb_copy)
        assert any(s.title.startswith("新しい") for s in result.knowledge.services.values())


def test_a_reload_keeps_every_file_not_only_the_edited_one(kb_copy: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(yamlfile, "_parsed", {})
    check_knowledge(kb_copy, cache=cache)
    entry = next((kb_copy / "minato" / "services").glob("*.yaml"))
    entry.write_text(entry.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    check_knowledge(kb_copy, cache=cache)  # a reload: only the edited file is parsed
    parsed: list[str] = []
    real = yamlfile._parse
    monkeypatch.setattr(yamlfile, "_parse", lambda path, name, **kw: parsed.append(name) or real(path, name, **kw))
    monkeypatch.setattr(yamlfile, "_parsed", {})  # the next start
    assert check_knowledge(kb_copy, cache=cache).knowledge is not None
    assert parsed == []
