"""The small pure parts: council routing, the settings file, command parsing, route switch."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.app import create_app
from adapters.runtime import Runtime
from adapters.slack.commands import parse_command, parse_period
from adapters.slack.routes import slack_routes
from adapters.slack.routing import choose, clean_text, council_prefix
from adapters.slack.settings import SettingsError, SlackSettings, load_settings
from bot.knowledge.live import LiveKnowledge
from tests.slack.conftest import make_config
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app


@pytest.mark.parametrize(
    ("text", "council", "rest"),
    [
        ("清瀬 車いす", "kiyose", "車いす"),
        ("清瀬　車いす", "kiyose", "車いす"),  # 全角 space
        ("kiyose 車いす", "kiyose", "車いす"),
        ("KIYOSE: 車いす", "kiyose", "車いす"),
        ("清瀬市社協の車いす", "kiyose", "の車いす"),
        ("苫小牧、除雪", "tomakomai", "除雪"),
        ("とまこまい", "tomakomai", ""),
        ("kiyoseshi 車いす", None, "kiyoseshi 車いす"),  # an ASCII id only as a whole word
        ("車いすを借りたい", None, "車いすを借りたい"),
    ],
)
def test_council_prefix(live: LiveKnowledge, text: str, council: str | None, rest: str) -> None:
    assert council_prefix(text, live.assistant.knowledge) == (council, rest)


def test_choose_order_prefix_channel_settings_default_env_default(live: LiveKnowledge) -> None:
    k = live.assistant.knowledge
    s = SlackSettings(default_council="komoro", channels={"CT": "tomakomai", "CBAD": "nowhere"})
    assert choose("清瀬 車いす", channel="CT", knowledge=k, settings=s, default="mimasaka").council == "kiyose"
    assert choose("車いす", channel="CT", knowledge=k, settings=s, default="mimasaka").via == "channel"
    r = choose("車いす", channel="CBAD", knowledge=k, settings=s, default="mimasaka")
    assert (r.council, r.via) == ("komoro", "default")  # an unknown council in settings falls through
    r = choose("車いす", channel="CX", knowledge=k, settings=SlackSettings(), default="mimasaka")
    assert (r.council, r.via) == ("mimasaka", "default")
    r = choose("車いす", channel="CX", knowledge=k, settings=SlackSettings(), default=None)
    assert (r.council, r.via) == (None, "none")


def test_clean_text_drops_mentions_and_decodes_slack_markup() -> None:
    assert clean_text("<@U123ABC> 車いす &amp; 杖") == "車いす & 杖"
    assert clean_text("<@U1|bot>  見て <https://example.jp|このページ> <mailto:a@b.jp>") == "見て このページ mailto:a@b.jp"


def test_settings_file_errors_point_at_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "ok.yaml"
    good.write_text("default_council: kiyose\nchannels:\n  C1: tomakomai\nadmins: [U1, U2]\n", encoding="utf-8")
    s = load_settings(good)
    assert (s.default_council, s.channels, s.admins) == ("kiyose", {"C1": "tomakomai"}, frozenset({"U1", "U2"}))
    assert load_settings(None) == SlackSettings()
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  C1: [x]\nadmin: [U1]\nadmins: U1\n", encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        load_settings(bad)
    text = str(e.value)
    assert f"{bad}:2: channels.C1: expected a council id" in text
    assert f"{bad}:3: admin: unknown field" in text
    assert f"{bad}:4: admins: expected a list" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels:\n  C1: [tomakomai\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"broken\.yaml:\d+: -: YAML syntax error"):
        load_settings(broken)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [("status", "status", ()), ("Status", "status", ()), ("reload", "reload", ()), ("再読み込み", "reload", ()),
     ("unanswered 7d", "unanswered", ("7d",)), ("未回答 30日 all", "unanswered", ("30日", "all")),
     ("help", "help", ())],
)
def test_commands(text: str, name: str, args: tuple[str, ...]) -> None:
    cmd = parse_command(text)
    assert cmd is not None and (cmd.name, cmd.args) == (name, args)


def test_questions_are_not_commands() -> None:
    assert parse_command("車いす") is None
    assert parse_command("status の確認方法") is None
    assert parse_command("") is None


def test_periods() -> None:
    assert parse_period(()) == (7 * 86400, "7日", False)
    assert parse_period(("24h",)) == (24 * 3600, "24時間", False)
    assert parse_period(("2w", "all")) == (14 * 86400, "2週間", True)
    assert parse_period(("30日",))[0] == 30 * 86400
    assert parse_period(("9999d",))[0] == 366 * 86400  # bounded


def test_without_slack_credentials_there_is_no_slack_route(fake: FakeSlack, live: LiveKnowledge) -> None:
    for env in ({"SLACK_SIGNING_SECRET": ""}, {"SLACK_BOT_TOKEN": ""}):
        runtime = Runtime(live=live, config=make_config(fake, live, None, **env))
        assert slack_routes(runtime) == []
    with serve_app(create_app(runtime)) as base:
        assert httpx.post(f"{base}/slack/events", content=b"{}").status_code == 404
        assert httpx.get(f"{base}/healthz").status_code == 200
