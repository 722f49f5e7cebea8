"""The real app on 127.0.0.1, a fake Slack Web API, and requests signed as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from adapters.app import create_app
from adapters.config import Config
from adapters.runtime import Runtime
from bot.knowledge.live import LiveKnowledge
from bot.querylog import STAFF_CHANNELS, LogEntry, UnansweredGroup
from tests.slack.fake_slack import BOT_USER, FakeSlack
from tests.support.server import serve_app

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
ADMIN = "UADMIN"
STAFF = "USTAFF"
TOMAKOMAI_CHANNEL = "CTOMA"
_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):05d}"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class MemoryQueryLog:
    """The QueryLog protocol in memory: enough to test `unanswered` end to end."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def record(self, entry: LogEntry) -> None:
        self.entries.append(entry)

    def feedback(self, *, council: str, event_id: str, value: str) -> None:
        self.entries = [replace(e, feedback=value) if (e.council, e.event_id) == (council, event_id) else e
                        for e in self.entries]

    def feedback_entries(self, *, council: str | None, since: float, limit: int = 1000) -> list[LogEntry]:
        rated = [e for e in self.entries if e.feedback and e.at >= since and council in (None, e.council)]
        return sorted(rated, key=lambda e: -e.at)[:limit]

    def unanswered(self, *, council: str | None, since: float) -> list[UnansweredGroup]:
        groups: dict[tuple[str, str], list[LogEntry]] = defaultdict(list)
        for e in self.entries:
            if (e.kind in ("fallback", "choices") and e.at >= since and council in (None, e.council)
                    and e.channel not in STAFF_CHANNELS):
                groups[(e.council, e.question)].append(e)
        return [
            UnansweredGroup(c, q, len(es), dict(Counter(e.kind for e in es)), tuple(e.question for e in es))
            for (c, q), es in groups.items()
        ]

    def purge(self, *, older_than: float) -> int:
        return 0


@dataclass
class Slack:
    """Sends signed requests to the app, as Slack would."""

    base: str
    fake: FakeSlack
    runtime: Runtime
    secret: str = SECRET

    def post(self, body: bytes, content_type: str, *, ts: int | None = None, secret: str | None = None,
             headers: dict[str, str] | None = None, sign: bool = True) -> httpx.Response:
        ts = int(time.time()) if ts is None else ts
        h = {"content-type": content_type}
        if sign:
            h["x-slack-request-timestamp"] = str(ts)
            h["x-slack-signature"] = signature(secret or self.secret, ts, body)
        h.update(headers or {})
        return httpx.post(f"{self.base}/slack/events", content=body, headers=h, timeout=10)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> httpx.Response:
        body = {
            "token": "legacy", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
            "event_id": event_id or unique("Ev"), "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
        }
        return self.post(json.dumps(body, ensure_ascii=False).encode(), "application/json", **kw)  # raw UTF-8

    def mention(self, text: str, *, channel: str, user: str = STAFF, **kw: Any) -> tuple[httpx.Response, str]:
        ts = f"{int(time.time())}.{next(_ids):06d}"
        ev = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
              "event_ts": ts}
        return self.event(ev, **kw), ts

    def dm(self, text: str, *, channel: str, user: str = STAFF, **kw: Any) -> tuple[httpx.Response, str]:
        ts = f"{int(time.time())}.{next(_ids):06d}"
        ev = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
              "event_ts": ts}
        return self.event(ev, **kw), ts

    def command(self, text: str, *, channel: str = "CGENERAL", user: str = STAFF,
                **kw: Any) -> tuple[httpx.Response, str]:
        name = unique("cmd")
        form = {
            "token": "legacy", "team_id": "T0001", "team_domain": "fake", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": "staff", "command": "/madoguchi",
            "text": text, "api_app_id": "A0001", "response_url": self.fake.response_url(name),
            "trigger_id": unique("trig"),
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **kw), f"respond/{name}"

    def press(self, *, block: dict[str, Any], index: int, channel: str, message_ts: str | None,
              ephemeral: bool = False, user: str = STAFF) -> tuple[httpx.Response, str]:
        """Press button `index` of an actions `block` taken from a message the app posted."""
        name = unique("act")
        element = block["elements"][index]
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user, "team_id": "T0001"}, "api_app_id": "A0001",
            "token": "legacy", "team": {"id": "T0001"}, "trigger_id": unique("trig"),
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": ephemeral},
            "channel": {"id": channel}, "response_url": self.fake.response_url(name),
            "actions": [{"type": "button", "action_id": element["action_id"], "block_id": block["block_id"],
                         "value": element["value"], "text": element["text"], "action_ts": str(time.time())}],
        }
        if not ephemeral:
            payload["message"] = {"type": "message", "ts": message_ts, "text": "", "blocks": [block]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded"), f"respond/{name}"

    def interact(self, payload: dict[str, Any], *, user: str = STAFF) -> httpx.Response:
        """A block_actions or view_submission payload, signed, from `user`."""
        payload = {"api_app_id": "A0001", "token": "legacy", "team": {"id": "T0001"}, "trigger_id": unique("trig"),
                   "user": {"id": user, "username": user.lower(), "name": f"name-{user}", "team_id": "T0001"},
                   **payload}
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def home_action(self, element: dict[str, Any], *, block_id: str, user: str, selected: dict | None = None,
                    view_id: str = "VHOME") -> httpx.Response:
        """Press a button (or pick an option) of the App Home view."""
        action = {"type": element["type"], "action_id": element["action_id"], "block_id": block_id,
                  "action_ts": str(time.time())}
        if element["type"] == "button":
            action |= {"value": element["value"], "text": element["text"]}
        else:
            action["selected_option"] = selected
        return self.interact({"type": "block_actions", "container": {"type": "view", "view_id": view_id},
                              "view": {"id": view_id, "type": "home"}, "actions": [action]}, user=user)

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str, view_id: str) -> httpx.Response:
        """Submit a modal the app opened, with `values` typed: block id → text, or {"option": value}."""
        state: dict[str, Any] = {}
        for block_id, value in values.items():
            if isinstance(value, dict):
                state[block_id] = {"value": {"type": "static_select",
                                             "selected_option": {"value": value["option"]}}}
            else:
                state[block_id] = {"value": {"type": "plain_text_input", "value": value}}
        submitted = {**view, "id": view_id, "state": {"values": state}}
        return self.interact({"type": "view_submission", "view": submitted}, user=user)

    def home_opened(self, user: str) -> httpx.Response:
        return self.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
                           "event_ts": str(time.time())})


@pytest.fixture(scope="session")
def live() -> LiveKnowledge:
    return LiveKnowledge()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack().running() as f:
        yield f


def make_config(fake: FakeSlack, live: LiveKnowledge, settings: Path | None, **env: str) -> Config:
    values = {
        "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url,
        "MADOGUCHI_COUNCIL": "kiyose", "MADOGUCHI_HASH_SALT": "salt",
        **({"MADOGUCHI_SLACK_SETTINGS": str(settings)} if settings else {}), **env,
    }
    return Config.from_env(sorted(live.assistant.knowledge.councils), values, knowledge=live.root)


def write_settings(path: Path) -> Path:
    path.write_text(
        "# which council each Slack channel asks about\n"
        f"channels:\n  {TOMAKOMAI_CHANNEL}: tomakomai\n"
        f"admins:\n  - {ADMIN}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def slack(fake: FakeSlack, live: LiveKnowledge, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slack]:
    settings = write_settings(tmp_path_factory.mktemp("slack") / "slack.yaml")
    runtime = Runtime(live=live, config=make_config(fake, live, settings), querylog=MemoryQueryLog())
    with serve_app(create_app(runtime)) as base:
        yield Slack(base, fake, runtime)


def sent_to(channel: str):
    return lambda c: c.method in ("chat.postMessage", "chat.postEphemeral") and c.body.get("channel") == channel


def resident_text(blocks: list[dict]) -> str:
    """The plain_text sections: the resident's answer exactly as rendered."""
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["type"] == "plain_text")


def markdown(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section" and b["text"]["type"] == "mrkdwn":
            out.append(b["text"]["text"])
        if b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return "\n".join(out)


def actions(blocks: list[dict]) -> list[dict]:
    return [b for b in blocks if b["type"] == "actions"]
