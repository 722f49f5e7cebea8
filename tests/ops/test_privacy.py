"""A probe set of personal data in every form, sent as LINE and Slack messages to the real
server with its real stores: after the answers, none of it is anywhere in the data dir or
the logs in clear."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time

import httpx

from adapters.app import create_app
from adapters.logging import JsonFormatter, Redactor, config_secrets
from adapters.serve import build_runtime
from tests.line.fake_api import FakeLineAPI
from tests.ops.support import knowledge_copy, sign, text_event, wait_for, webhook
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app

LINE_SECRET, SLACK_SECRET = "privacy-line-secret-0123456", "privacy-slack-secret-abcdef"
# (message, what must not be found in clear)
PROBES: list[tuple[str, tuple[str, ...]]] = [
    ("電話は090-1234-5678です", ("1234-5678",)),
    ("電話は090.1234.5678です", ("1234.5678",)),
    ("090の1234の5678にかけて", ("1234の5678",)),
    ("０９０ー１２３４ー５６７８まで", ("１２３４",)),
    ("携帯 090 1234 5678", ("1234 5678",)),
    ("口座番号は7654321です", ("7654321",)),
    ("カード4111-1111-1111-1111で払える？", ("4111-1111",)),
    ("マイナンバーは1234 5678 9012", ("5678 9012",)),
    ("メールはtaro.yamada@example.jpです", ("taro.yamada", "example.jp")),
    ("〒060-0001に住んでいます", ("060-0001",)),
    ("北1条西2丁目3-4 ハイツ101号室の母", ("ハイツ", "101号室", "2丁目3-4")),
    ("母は昭和15年4月12日生まれです", ("15年4月12日",)),
    ("誕生日は1941/04/12です", ("1941/04/12",)),
    ("山田太郎です、かぎを預けたい", ("山田", "太郎")),
    ("ヤマダタロウといいます", ("ヤマダ", "タロウ")),
]
USER = "U" + "9" * 32


def _slack_post(url: str, event: dict) -> int:
    body = json.dumps({"type": "event_callback", "event_id": f"Ev{time.monotonic_ns()}", "team_id": "T1",
                       "api_app_id": "A1", "event": event}, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return httpx.post(f"{url}/slack/events", content=body, headers={
        "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": sig}).status_code


def test_personal_data_is_in_clear_nowhere_in_the_data_dir_or_the_logs(tmp_path) -> None:
    data = tmp_path / "data"
    line_api, logs = FakeLineAPI(), io.StringIO()
    with serve_app(line_api.app()) as line_url, FakeSlack().running() as slack:
        env = {"MADOGUCHI_COUNCIL": "tomakomai", "LINE_CHANNEL_SECRET": LINE_SECRET,
               "LINE_CHANNEL_ACCESS_TOKEN": "privacy-token", "LINE_API_ENDPOINT": line_url,
               "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": "xoxb-privacy", "SLACK_API_URL": slack.api_url,
               "MADOGUCHI_DATA_DIR": str(data)}
        runtime = build_runtime(knowledge=knowledge_copy(tmp_path), env=env, stores=True)
        handler = logging.StreamHandler(logs)
        handler.setFormatter(JsonFormatter(Redactor(config_secrets(runtime.config))))
        root = logging.getLogger()
        old = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            with serve_app(create_app(runtime)) as url:
                for text, _ in PROBES:
                    body = webhook(text_event(text, user=USER))
                    r = httpx.post(f"{url}/line/tomakomai", content=body, headers={
                        "content-type": "application/json", "x-line-signature": sign(LINE_SECRET, body)})
                    assert r.status_code == 200
                    assert _slack_post(url, {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
                                             "text": text, "ts": f"{time.time():.6f}"}) == 200
                assert wait_for(lambda: len(line_api.replies()) >= len(PROBES), timeout=60)
                assert wait_for(lambda: not runtime.background, timeout=30)
                assert wait_for(lambda: len(slack.find(lambda c: c.method == "chat.postMessage")) >= len(PROBES))
                time.sleep(0.7)  # the query log's writer flushes
                logging.getLogger("madoguchi.test").warning("question was %s", PROBES[0][0])
        finally:
            root.removeHandler(handler)
            root.setLevel(old)
            import asyncio

            asyncio.run(runtime.close())
    stored = {p.name: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert any(name.startswith("querylog") for name in stored)
    text = logs.getvalue()
    assert "question was" in text  # the logs were captured
    questions = b"".join(raw for name, raw in stored.items() if name.startswith("querylog"))
    for kept in ("〈氏名〉", "***-****-****", "〈建物〉", "かぎを預けたい"):  # the questions were stored, masked
        assert kept.encode() in questions, kept
    for message, secrets in PROBES:
        for secret in secrets:
            assert secret not in text, (message, secret)
            for name, raw in stored.items():
                assert secret.encode() not in raw, (message, secret, name)
    for raw in stored.values():
        assert USER.encode() not in raw  # the LINE user id is never stored in clear
