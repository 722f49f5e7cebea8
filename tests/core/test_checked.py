"""A file's schema check runs once per file: its verdict is kept with the parsed file between runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import checked, schema, yamlfile
from bot.knowledge.loader import check_knowledge


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `schema.validate` really checks."""
    seen: list[str] = []
    real = schema.validate
    monkeypatch.setattr(schema, "validate", lambda doc, shape: seen.append(doc.file) or real(doc, shape))
    return seen


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "_parsed", {})
    monkeypatch.setattr(checked, "_valid", {})


def test_a_start_checks_only_files_no_earlier_run_checked(kb_copy: Path, tmp_path: Path, checks: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    entry = kb_copy / "minato" / "services" / "kuruma-isu.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("audience: resident", "audience: [resident]"),
                     encoding="utf-8")
    _fresh_process(monkeypatch)
    reference = check_knowledge(kb_copy)
    assert any(p.file.endswith("kuruma-isu.yaml") and p.field == "audience" for p in reference.problems)
    cache = tmp_path / "cache"
    results = []
    for _ in range(2):
        _fresh_process(monkeypatch)
        checks.clear()
        results.append(check_knowledge(kb_copy, cache=cache))
    assert checks == []  # the second start read every verdict, the wrong one too
    assert results[0] == reference and results[1] == reference


def test_a_reload_checks_the_edited_file_and_the_next_start_none(kb_copy: Path, tmp_path: Path, checks: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    _fresh_process(monkeypatch)
    check_knowledge(kb_copy, cache=cache)
    entry = kb_copy / "minato" / "services" / "kuruma-isu.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("title: 車いす", "title: 車イス", 1), encoding="utf-8")
    checks.clear()
    check_knowledge(kb_copy, cache=cache)  # a reload, in the same process
    assert checks == ["knowledge/minato/services/kuruma-isu.yaml"]
    _fresh_process(monkeypatch)
    checks.clear()
    assert check_knowledge(kb_copy, cache=cache).knowledge is not None
    assert checks == []


def test_a_verdict_is_kept_under_its_schema_and_this_code() -> None:
    assert schema.fingerprint(schema.SERVICE) == schema.fingerprint(schema.SERVICE)
    assert schema.fingerprint(schema.SERVICE) != schema.fingerprint(schema.COUNCIL)
    assert schema.fingerprint(schema.SERVICE) != schema.fingerprint({**schema.SERVICE, "required": ["id"]})
