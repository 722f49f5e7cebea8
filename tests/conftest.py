"""Shared fixtures: the small fixture knowledge and the real bundled knowledge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.fixture(scope="session")
def fixture_assistant() -> Assistant:
    return Assistant(load_knowledge(FIXTURE))


@pytest.fixture(scope="session")
def real_assistant() -> Assistant:
    return Assistant(load_knowledge(default_root()))


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture knowledge, for tests that break files."""
    dst = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, dst)
    return dst
