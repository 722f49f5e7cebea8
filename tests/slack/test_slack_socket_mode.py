"""Socket Mode against the local fake: apps.connections.open, a WebSocket on 127.0.0.1, envelopes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapters.runtime import Runtime
from adapters.slack.socket_mode import socket_mode_handler
from bot.knowledge.live import LiveKnowledge
from tests.slack.conftest import TOKEN, make_config, markdown, sent_to, unique
from tests.slack.fake_slack import BOT_USER, FakeSlack

APP_TOKEN = "xapp-1-test"
ROOT = Path(__file__).resolve().parents[2]


def mention_envelope(channel: str, text: str) -> dict:
    envelope_id = unique("env")
    ts = f"{int(time.time())}.000100"
    return {
        "envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
        "retry_attempt": 0, "retry_reason": "",
        "payload": {"type": "event_callback", "team_id": "T0001", "api_app_id": "A0001", "event_id": unique("Ev"),
                    "event": {"type": "app_mention", "user": "USTAFF", "text": f"<@{BOT_USER}> {text}",
                              "ts": ts, "channel": channel}},
    }


def acked(envelope: dict):
    return lambda c: c.method == "socket.ack" and c.body.get("envelope_id") == envelope["envelope_id"]


def test_socket_mode_answers_events_and_slash_commands(fake: FakeSlack, live: LiveKnowledge) -> None:
    config = make_config(fake, live, None, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    runtime = Runtime(live=live, config=config)
    channel = unique("C")

    async def run() -> None:
        handler = socket_mode_handler(runtime)
        await handler.connect_async()
        try:
            await asyncio.to_thread(fake.wait, lambda c: c.method == "socket.connect")
            mention = mention_envelope(channel, "車いす")
            fake.send_envelope(mention)
            [post] = await asyncio.to_thread(fake.wait, sent_to(channel))
            await asyncio.to_thread(fake.wait, acked(mention))
            assert "`kiyose/kurumaisu-kashidashi`" in markdown(post.body["blocks"])

            name = unique("sock")
            command = {
                "envelope_id": unique("env"), "type": "slash_commands", "accepts_response_payload": True,
                "payload": {"command": "/madoguchi", "text": "苫小牧 車いす", "user_id": "USTAFF",
                            "channel_id": channel, "team_id": "T0001", "trigger_id": unique("trig"),
                            "response_url": fake.response_url(name)},
            }
            fake.send_envelope(command)
            await asyncio.to_thread(fake.wait, acked(command))
            [reply] = await asyncio.to_thread(fake.wait, lambda c: c.method == f"respond/{name}")
            assert "`tomakomai/" in markdown(reply.body["blocks"])
        finally:
            await handler.close_async()

    asyncio.run(run())
    [opened] = fake.find(lambda c: c.method == "apps.connections.open")[-1:]
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"  # the app token, not the bot token
    assert all(c.headers["Authorization"] == f"Bearer {TOKEN}" for c in fake.find(sent_to(channel)))


def serve_env(fake: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LINE_", "MADOGUCHI_", "REDIS_", "DATABASE_"))}
    env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake.api_url, MADOGUCHI_COUNCIL="kiyose",
               MADOGUCHI_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1", **extra)
    return env


def test_serve_command_with_slack_socket_mode_flag(fake: FakeSlack, tmp_path: Path) -> None:
    """`python -m bot serve --slack-socket-mode` connects through SLACK_API_URL and answers."""
    before = len(fake.find(lambda c: c.method == "socket.connect"))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--slack-socket-mode", "--port", "0"], cwd=ROOT,
                            env=serve_env(fake, tmp_path, SLACK_APP_TOKEN=APP_TOKEN),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        fake.wait(lambda c: c.method == "socket.connect", count=before + 1, timeout=25)
        channel = unique("C")
        envelope = mention_envelope(channel, "車いす")
        fake.send_envelope(envelope)
        [post] = fake.wait(sent_to(channel), timeout=10)
        fake.wait(acked(envelope))
        assert "`kiyose/kurumaisu-kashidashi`" in markdown(post.body["blocks"])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]


def test_serve_socket_mode_without_app_token_exits_with_a_message(fake: FakeSlack, tmp_path: Path) -> None:
    opened = len(fake.find(lambda c: c.method == "apps.connections.open"))
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--slack-socket-mode", "--port", "0"], cwd=ROOT,
                          env=serve_env(fake, tmp_path), capture_output=True, timeout=60)
    assert done.returncode == 2 and b"SLACK_APP_TOKEN" in done.stderr
    assert len(fake.find(lambda c: c.method == "apps.connections.open")) == opened
