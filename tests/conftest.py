"""Shared fixtures: the small fixture knowledge and the real bundled knowledge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import open_vectors

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.fixture(scope="session")
def fixture_assistant() -> Assistant:
    return Assistant(load_knowledge(FIXTURE))


@pytest.fixture(scope="session")
def real_assistant() -> Assistant:
    """The bundled knowledge as residents meet it: dense retrieval on, from the committed
    vector cache (read-only here: a test never rewrites it)."""
    knowledge = load_knowledge(default_root())
    encoder = load_encoder()
    assert encoder.on, encoder.reason
    vectors = open_vectors(knowledge.root, encoder.encoder)
    assert vectors is not None
    vectors.path = None  # encode what is missing in memory; never write the repository's cache
    return Assistant(knowledge, vectors=vectors)


@pytest.fixture(scope="session")
def lexical_assistant() -> Assistant:
    """The bundled knowledge answered by the lexical side alone (no encoder)."""
    return Assistant(load_knowledge(default_root()))


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture knowledge, for tests that break files."""
    dst = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, dst)
    return dst
