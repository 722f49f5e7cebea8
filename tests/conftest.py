"""Shared fixtures: the small fixture knowledge and the real bundled knowledge."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.knowledge.loader import default_root, load_knowledge
from bot.retrieval.encoder import load_encoder
from bot.retrieval.vectors import open_vectors

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.fixture(scope="session", autouse=True)
def private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A server configured without MADOGUCHI_DATA_DIR keeps its outbox and duplicate memory
    under $XDG_DATA_HOME: point it at a fresh folder, so no run sees another's (or a user's)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        yield


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
    vectors = open_vectors(knowledge.root, encoder.encoder, read_only=True)  # missing texts encoded in memory
    assert vectors is not None
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
