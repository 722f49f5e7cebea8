"""`reload` by an admin over real HTTP, on a writable copy of the knowledge."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.app import create_app
from adapters.runtime import Runtime
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.loader import default_root
from tests.slack.conftest import ADMIN, TOMAKOMAI_CHANNEL, Slack, make_config, markdown, sent_to, unique, write_settings
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app

WHEELCHAIR = "kiyose/services/kurumaisu-kashidashi.yaml"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """_common and two councils of the real knowledge, copied so tests may break them."""
    root = tmp_path_factory.mktemp("kb") / "knowledge"
    for part in ("_common", ".vectors", "kiyose", "tomakomai"):
        shutil.copytree(default_root() / part, root / part)
    return root


@pytest.fixture(scope="module")
def admin_slack(fake: FakeSlack, kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slack]:
    live = LiveKnowledge(kb)
    settings = write_settings(tmp_path_factory.mktemp("settings") / "slack.yaml")
    runtime = Runtime(live=live, config=make_config(fake, live, settings))
    with serve_app(create_app(runtime)) as base:
        yield Slack(base, fake, runtime)


def ask_wheelchair(slack: Slack) -> str:
    _, where = slack.command("清瀬 車いす")
    [call] = slack.fake.wait(lambda c: c.method == where)
    return markdown(call.body["blocks"])


def test_admin_reload_with_broken_yaml_keeps_answering_and_lists_errors(admin_slack: Slack, kb: Path) -> None:
    slack = admin_slack
    live = slack.runtime.live
    assert "`kiyose/kurumaisu-kashidashi`" in ask_wheelchair(slack)

    # a good reload first
    resp, where = slack.command("reload", user=ADMIN)
    assert resp.status_code == 200 and "確認しています" in resp.text  # acknowledged at once
    [ok] = slack.fake.wait(lambda c: c.method == where)
    assert ok.body["text"].startswith("再読み込みしました") and live.reloads == 1

    # break two files: a YAML syntax error and an unknown field
    wheelchair = kb / WHEELCHAIR
    good = wheelchair.read_text(encoding="utf-8")
    wheelchair.write_text(good + "summary: [closing bracket missing\n", encoding="utf-8")
    other = sorted((kb / "tomakomai" / "services").glob("*.yaml"))[0]
    other_good = other.read_text(encoding="utf-8")
    other.write_text(other_good + "phonee: 0000\n", encoding="utf-8")
    broken_line = len(other_good.splitlines()) + 1
    try:
        channel = unique("C")
        slack.mention("reload", channel=channel, user=ADMIN)
        [failed] = slack.fake.wait(sent_to(channel))
        assert failed.method == "chat.postMessage"  # an admin's reload result is posted in the thread
        text = markdown(failed.body["blocks"])
        assert "再読み込みに失敗しました" in text and "前回の知識" in text
        assert re.search(r"kurumaisu-kashidashi\.yaml:\d+: -: YAML syntax error", text), text
        assert f"{other.name}:{broken_line}: phonee:" in text
        assert live.failures == 1 and not live.last.ok

        # the last good knowledge keeps serving
        assert "`kiyose/kurumaisu-kashidashi`" in ask_wheelchair(slack)
        _, where = slack.command("status")
        [status] = slack.fake.wait(lambda c: c.method == where)
        assert "*失敗*" in markdown(status.body["blocks"]) and "前回の知識で応答中" in markdown(status.body["blocks"])
    finally:
        wheelchair.write_text(good, encoding="utf-8")
        other.write_text(other_good, encoding="utf-8")

    _, where = slack.command("reload", user=ADMIN)
    [fixed] = slack.fake.wait(lambda c: c.method == where)
    assert fixed.body["text"].startswith("再読み込みしました") and live.last.ok and live.reloads == 2


def test_reload_rereads_slack_settings_and_keeps_the_old_ones_when_broken(admin_slack: Slack) -> None:
    slack = admin_slack
    settings = slack.runtime.config.slack_settings
    assert settings is not None
    original = settings.read_text(encoding="utf-8")
    channel = unique("C")
    try:
        settings.write_text(original + "admin: [UTYPO]\n", encoding="utf-8")  # a typo'd field
        line = len(original.splitlines()) + 1
        _, where = slack.command("reload", user=ADMIN)
        [reply] = slack.fake.wait(lambda c: c.method == where)
        text = markdown(reply.body["blocks"])
        assert "Slack の設定ファイルにエラー" in text and f"{settings}:{line}: admin: unknown field" in text
        slack.mention("車いす", channel=TOMAKOMAI_CHANNEL)  # the old mapping still applies
        [toma] = slack.fake.wait(sent_to(TOMAKOMAI_CHANNEL))
        assert "`tomakomai/" in markdown(toma.body["blocks"])

        settings.write_text(original.replace("channels:\n", f"channels:\n  {channel}: tomakomai\n"), encoding="utf-8")
        _, where = slack.command("reload", user=ADMIN)
        [reply] = slack.fake.wait(lambda c: c.method == where)
        assert "設定ファイルにエラー" not in markdown(reply.body["blocks"])
        slack.mention("車いす", channel=channel)
        [new] = slack.fake.wait(sent_to(channel))
        assert "`tomakomai/" in markdown(new.body["blocks"])
    finally:
        settings.write_text(original, encoding="utf-8")


def test_unanswered_says_when_the_query_log_is_off(admin_slack: Slack) -> None:
    assert admin_slack.runtime.querylog is None
    _, where = admin_slack.command("unanswered 7d", user=ADMIN)
    [call] = admin_slack.fake.wait(lambda c: c.method == where)
    assert "クエリログがオフ" in call.body["text"]
