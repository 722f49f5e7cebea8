"""相談につなぐ end to end: signed LINE and Slack requests in, recorded LINE and Slack API calls out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from adapters.app import create_app
from adapters.config import Config
from adapters.line.hours import JST, DAYS
from adapters.runtime import Runtime
from adapters.stores.handoffs import new_key
from tests.line import webhook as wh
from tests.line.conftest import CHANNELS, settle
from tests.line.fake_api import FakeLineAPI
from tests.slack.conftest import SECRET, STAFF, TOKEN, Slack, actions
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app

STAFF_CHANNEL = "CSTAFFTOMA"
PUSH = "/v2/bot/message/push"


@dataclass
class Both:
    url: str
    runtime: Runtime
    http: httpx.Client
    line: FakeLineAPI
    slack: Slack

    def send(self, *events: dict) -> None:
        raw = wh.body(*events)
        r = self.http.post(f"{self.url}/line/tomakomai", content=raw,
                           headers={"content-type": "application/json",
                                    "x-line-signature": wh.sign(CHANNELS["tomakomai"][0], raw)})
        assert r.status_code == 200, r.text

    def settle(self) -> None:
        """Every accepted event answered (nothing in flight or waiting in the outbox)."""
        settle(self.runtime)

    def exchange(self, event: dict) -> list[dict]:
        """One LINE event and the messages of the one reply it caused."""
        before = len(self.line.replies())
        self.send(event)
        self.settle()
        replies = self.line.replies()
        assert len(replies) == before + 1 and replies[-1].body["replyToken"] == event["replyToken"]
        return replies[-1].messages


def closed_day() -> str:
    """Opening hours that exclude today in Japan (so the resident is told when staff will read)."""
    return DAYS[(datetime.now(JST).weekday() + 2) % 7]


@pytest.fixture(scope="module")
def both(live, tmp_path_factory) -> Iterator[Both]:
    settings = tmp_path_factory.mktemp("slack") / "slack.yaml"
    settings.write_text(f"alerts:\n  tomakomai: {STAFF_CHANNEL}\n", encoding="utf-8")  # the staff channel
    fake_line = FakeLineAPI()
    with FakeSlack().running() as fake_slack, serve_app(fake_line.app()) as line_url:
        env = {"LINE_API_ENDPOINT": line_url, "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN,
               "SLACK_API_URL": fake_slack.api_url, "MADOGUCHI_SLACK_SETTINGS": str(settings),
               "MADOGUCHI_HANDOFF_KEY": new_key(), "MADOGUCHI_HANDOFF_HOURS": f"{closed_day()} 09:00-17:00",
               "MADOGUCHI_HASH_SALT": "salt", "MADOGUCHI_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
        for council, (secret, token) in CHANNELS.items():
            env[f"LINE_CHANNEL_SECRET__{council.upper()}"] = secret
            env[f"LINE_CHANNEL_ACCESS_TOKEN__{council.upper()}"] = token
        runtime = Runtime(live=live, config=Config.from_env(sorted(live.assistant.knowledge.councils), env))
        with serve_app(create_app(runtime)) as url, httpx.Client(timeout=10) as http:
            yield Both(url, runtime, http, fake_line, Slack(url, fake_slack, runtime))
        assert fake_line.nonconforming() == []


def to_staff(call) -> bool:
    return call.method == "chat.postMessage" and call.body.get("channel") == STAFF_CHANNEL


def stored(runtime: Runtime) -> list[tuple[str, bytes]]:
    store = runtime.handoffs.store
    now = store.clock()
    return [(k, v) for k, (deadline, v) in store._items.items() if deadline > now]


def test_a_whole_handoff_consent_thread_staff_reply_close(both: Both):
    user = wh.USER_ID
    card = both.exchange(wh.text("給食サービス"))
    assert card[0]["type"] == "flex"

    [consent] = both.exchange(wh.text("人と話したい"))
    assert consent["text"].startswith("苫小牧市社協の職員に相談をつなぎます。") and "数字は伏せます" in consent["text"]
    yes, no = [i["action"] for i in consent["quickReply"]["items"]]
    assert both.slack.fake.find(to_staff) == []  # nothing is shared before the resident agrees

    [ask] = both.exchange(wh.postback(yes["data"]))
    assert ask["text"] == "相談したいことを、ひとつのメッセージで送ってください。"

    [done] = both.exchange(wh.text("母の介護のことで相談したいです。電話は090-1234-5678です"))
    assert done["text"].startswith("職員に伝えました。") and "受付時間外のため、職員が読むのは" in done["text"]
    [thread] = both.slack.fake.wait(to_staff)
    posted = str(thread.body["blocks"])
    assert "母の介護のことで相談したいです。電話は***-****-****です" in posted and "090" not in posted
    assert "給食サービス（食事の配達）" in posted  # the last exchange, from ids only
    assert "受付時間外に届きました" in posted
    assert user not in str(thread.body) and all(user.encode() not in k.encode() + v for k, v in stored(both.runtime))

    [again] = both.exchange(wh.postback("a=ho"))  # 相談したい again while staff are reading: one thread
    assert again["text"].startswith("いま職員につながっています。")

    # the resident goes on writing: into the thread, no bot answer
    replies = len(both.line.replies())
    both.send(wh.text("よろしくお願いします"))
    [forwarded] = both.slack.fake.wait(lambda c: to_staff(c) and c.body.get("thread_ts"))
    both.settle()
    assert len(both.line.replies()) == replies and "住民：よろしくお願いします" in forwarded.body["text"]
    ts = forwarded.body["thread_ts"]

    [buttons] = actions(thread.body["blocks"])
    both.slack.press(block=buttons, index=0, channel=STAFF_CHANNEL, message_ts=ts)
    both.slack.fake.wait(lambda c: to_staff(c) and "さんが担当します" in c.body.get("text", ""))

    reply = {"type": "message", "channel": STAFF_CHANNEL, "channel_type": "channel", "user": STAFF,
             "text": "担当の山田です。明日お電話します &amp; よろしくお願いします", "ts": f"{time.time():.6f}",
             "thread_ts": ts}
    assert both.slack.event(reply).status_code == 200
    [push] = both.line.wait_on(PUSH)
    assert push.body["to"] == user and push.authorization == f"Bearer {CHANNELS['tomakomai'][1]}"
    [m] = push.messages
    assert m["text"] == "【苫小牧市社協 職員より】\n担当の山田です。明日お電話します & よろしくお願いします"
    assert m["sender"] == {"name": "社協の職員"}

    both.slack.press(block=buttons, index=1, channel=STAFF_CHANNEL, message_ts=ts)
    _, closing = both.line.wait_on(PUSH, 2)
    assert closing.body["to"] == user and closing.messages[0]["text"].startswith("職員との相談を終わります。")
    both.slack.fake.wait(lambda c: to_staff(c) and "利用者IDを削除しました" in c.body.get("text", ""))
    both.settle()
    assert stored(both.runtime) == []  # the user id is gone

    # the bot answers again, and a thank-you gets a closing, not the greeting
    [thanks, _window] = both.exchange(wh.text("ありがとうございました"))
    assert thanks["text"].startswith("どういたしまして")
    both.slack.event({**reply, "text": "まだ届きますか？", "ts": f"{time.time():.6f}"})
    both.settle()
    assert len(both.line.on(PUSH)) == 2  # a closed thread pushes nothing


def test_declining_shares_nothing(both: Both):
    before = len(both.slack.fake.find(to_staff))
    [consent] = both.exchange(wh.postback("a=ho"))  # the rich menu's 相談したい
    no = consent["quickReply"]["items"][1]["action"]
    [declined] = both.exchange(wh.postback(no["data"]))
    assert declined["text"].startswith("わかりました。職員にはつなぎませんでした。")
    [answer] = both.exchange(wh.text("車いすを借りたい"))  # the next message is a question again
    assert answer["type"] in ("flex", "text")
    assert len(both.slack.fake.find(to_staff)) == before


def test_a_council_without_a_staff_channel_names_its_window(both: Both):
    raw = wh.body(ev := wh.text("職員と話したい"))
    r = both.http.post(f"{both.url}/line/kiyose", content=raw, headers={
        "content-type": "application/json", "x-line-signature": wh.sign(CHANNELS["kiyose"][0], raw)})
    assert r.status_code == 200
    both.settle()
    [rec] = [r for r in both.line.replies() if r.body["replyToken"] == ev["replyToken"]]
    assert rec.messages[0]["text"].startswith("ごめんなさい。いまはここから職員におつなぎできません。")
    assert rec.messages[1]["text"].startswith("窓口：清瀬市社会福祉協議会")
