"""The real app on 127.0.0.1 with two councils' LINE channels, and a fake LINE API."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.app import create_app
from adapters.config import Config
from adapters.runtime import Runtime
from adapters.stores.conversation import Conversations
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.loader import check_knowledge, default_root
from bot.knowledge.problems import KnowledgeError
from bot.querylog import LogEntry
from tests.line import webhook as wh
from tests.line.fake_api import FakeLineAPI
from tests.support.server import serve_app

CHANNELS = {  # council → (channel secret, access token); komoro etc. have none
    "tomakomai": ("secret-tomakomai-0123456789abcdef", "token-tomakomai"),
    "kiyose": ("secret-kiyose-fedcba9876543210", "token-kiyose"),
}


def _loadable_copy(tmp: Path) -> Path:
    """A copy of the bundled councils that load (while someone is mid-edit on another)."""
    root = default_root()
    dst = tmp / "knowledge"
    shutil.copytree(root / "_common", dst / "_common")
    shutil.copytree(root / ".vectors", dst / ".vectors")  # no test waits for encoding
    for council in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        shutil.copytree(council, dst / council.name)
        if check_knowledge(dst).knowledge is None:
            shutil.rmtree(dst / council.name)
    return dst


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveKnowledge:
    try:
        return LiveKnowledge()
    except KnowledgeError:
        return LiveKnowledge(_loadable_copy(tmp_path_factory.mktemp("kb")))


class MemoryQueryLog:
    """Records what the adapter hands the query log (the protocol, in memory)."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self.feedbacks: list[dict] = []

    def record(self, entry: LogEntry) -> None:
        self.entries.append(entry)

    def feedback(self, *, council: str, event_id: str, value: str) -> None:
        self.feedbacks.append({"council": council, "event_id": event_id, "value": value})

    def unanswered(self, *, council, since):  # pragma: no cover - not used by the adapter
        return []

    def purge(self, *, older_than):  # pragma: no cover
        return 0


@pytest.fixture(scope="module")
def fake_line() -> Iterator[FakeLineAPI]:
    fake = FakeLineAPI()
    with serve_app(fake.app()) as url:
        fake.url = url
        yield fake


def waiting(runtime: Runtime) -> int:
    """Outbox rows not yet delivered (read on the outbox's own thread)."""
    return sum(r["state"] == "pending" for r in runtime.outbox.rows()) if runtime.outbox else 0


def settle(runtime: Runtime, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while runtime.background or waiting(runtime):
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(runtime.background)} reply tasks running, {waiting(runtime)} waiting")
        time.sleep(0.01)


@dataclass
class LineServer:
    url: str
    runtime: Runtime
    querylog: MemoryQueryLog
    http: httpx.Client

    def post(self, council: str, raw: bytes, *, secret: str | None = None, signed: bool = True,
             signature: str | None = None) -> httpx.Response:
        """POST a webhook body, signed with `secret` (default: the council's own) unless told otherwise."""
        h = {"content-type": "application/json"}
        if signature is None and signed:
            signature = wh.sign(secret or CHANNELS[council][0], raw)
        if signature is not None:
            h["x-line-signature"] = signature
        return self.http.post(f"{self.url}/line/{council}", content=raw, headers=h)

    def send(self, council: str, *events: dict) -> httpx.Response:
        r = self.post(council, wh.body(*events))
        assert r.status_code == 200, r.text
        return r

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every accepted event has been answered (nothing in flight or waiting in the outbox)."""
        settle(self.runtime, timeout)


@pytest.fixture(scope="module")
def line_server(live: LiveKnowledge, fake_line: FakeLineAPI, tmp_path_factory) -> Iterator[LineServer]:
    env = {"LINE_API_ENDPOINT": fake_line.url, "MADOGUCHI_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    for council, (secret, token) in CHANNELS.items():
        env[f"LINE_CHANNEL_SECRET__{council.upper()}"] = secret
        env[f"LINE_CHANNEL_ACCESS_TOKEN__{council.upper()}"] = token
    config = Config.from_env(sorted(live.assistant.knowledge.councils), env)
    querylog = MemoryQueryLog()
    runtime = Runtime(live=live, config=config, querylog=querylog)
    with serve_app(create_app(runtime)) as url, httpx.Client(timeout=10) as http:
        yield LineServer(url, runtime, querylog, http)


@pytest.fixture()
def line(line_server: LineServer, fake_line: FakeLineAPI) -> Iterator[LineServer]:
    """A clean slate per test: no recorded requests, no pending replies, no conversation state."""
    line_server.settle()
    line_server.runtime.conversations = Conversations()
    fake_line.clear()
    fake_line.gate = None
    line_server.querylog.entries.clear()
    line_server.querylog.feedbacks.clear()
    yield line_server
    if fake_line.gate is not None:
        fake_line.gate.set()
    line_server.settle()
    assert fake_line.nonconforming() == []  # every body sent conforms to LINE's official schema
