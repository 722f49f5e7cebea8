"""JSON-lines logs without secrets, and the Prometheus text of /metrics."""

from __future__ import annotations

import io
import json
import logging
import re

from adapters.config import Config
from adapters.logging import JsonFormatter, Redactor, config_secrets, setup
from adapters.metrics import Metrics, standard_metrics
from bot.knowledge.live import LiveKnowledge
from tests.ops.support import knowledge_copy


def _capture(redactor: Redactor) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(redactor))
    lg = logging.getLogger("madoguchi.test.json")
    lg.addHandler(handler)
    lg.setLevel(logging.DEBUG)
    lg.propagate = False
    return lg, buf, handler


def test_json_lines_redact_secrets_and_mask_questions() -> None:
    config = Config.from_env(["kiyose"], {
        "LINE_CHANNEL_SECRET__KIYOSE": "line-secret-abcdef123", "LINE_CHANNEL_ACCESS_TOKEN__KIYOSE": "line-token-xyz789",
        "SLACK_SIGNING_SECRET": "slack-signing-5566aa", "SLACK_BOT_TOKEN": "xoxb-123-456-abc",
        "DATABASE_URL": "postgresql://app:db-pass-word@db.internal:5432/madoguchi", "MADOGUCHI_HASH_SALT": "salty-salt-42",
    })
    secrets = config_secrets(config)
    assert "db-pass-word" in secrets and "line-token-xyz789" in secrets
    lg, buf, handler = _capture(Redactor(secrets))
    try:
        lg.info("question %s from %s", "電話は０９０ー１２３４ー５６７８です", "U123", extra={"question": "口座 1234567",
                                                                                    "event_id": "01HX123456789AB"})
        lg.warning("calling with Authorization: Bearer line-token-xyz789 and token=abcdef999 url %s",
                   "postgresql://app:db-pass-word@db.internal:5432/madoguchi")
        lg.error("slack said invalid_auth for xoxb-999-888-other and xapp-1-A1-zzz, salt salty-salt-42")
        try:
            raise RuntimeError("secret line-secret-abcdef123 in a traceback, tel 090-1111-2222")
        except RuntimeError:
            lg.exception("failed\nwith a newline")
    finally:
        lg.removeHandler(handler)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4  # one object per line, even with newlines and a traceback inside
    objs = [json.loads(line) for line in lines]
    assert objs[0]["msg"] == "question 電話は***ー****ー****です from U123"
    assert objs[0]["question"] == "口座 *******" and objs[0]["event_id"] == "01HX123456789AB"
    assert objs[0]["level"] == "info" and objs[0]["logger"] == "madoguchi.test.json" and objs[0]["ts"].endswith("Z")
    assert "exc" in objs[3] and "RuntimeError" in objs[3]["exc"]
    text = buf.getvalue()
    for secret in ("line-token-xyz789", "abcdef999", "db-pass-word", "xoxb-999-888-other", "xapp-1-A1-zzz",
                   "salty-salt-42", "line-secret-abcdef123", "1111-2222", "１２３４"):
        assert secret not in text, secret
    assert "postgresql://app:***@db.internal:5432/madoguchi" in text


def test_setup_routes_uvicorn_through_json() -> None:
    buf = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup(secrets=["uvicorn-secret-1"], stream=buf)
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST",
                                                 "/line/kiyose?t=uvicorn-secret-1", "1.1", 200)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    obj = json.loads(buf.getvalue().strip())
    assert obj["logger"] == "uvicorn.access" and "uvicorn-secret-1" not in obj["msg"] and "/line/kiyose" in obj["msg"]


def test_metrics_render_prometheus_text(tmp_path) -> None:
    live = LiveKnowledge(knowledge_copy(tmp_path))
    m = Metrics()
    standard_metrics(m, live=live, background=set())
    m.inc("madoguchi_requests_total", channel="line", status="ok")
    m.inc("madoguchi_requests_total", channel="line", status="ok")
    m.inc("madoguchi_answers_total", council="tomakomai", kind="fallback", channel="line")
    m.observe("madoguchi_webhook_seconds", 0.003, channel="line")
    m.observe("madoguchi_webhook_seconds", 0.2, channel="line")
    m.inc("madoguchi_reloads_total", result="failed", via="watch")
    m.inc("odd", label='a"b\\c\nd')
    text = m.render()
    assert text.endswith("\n")
    assert "# TYPE madoguchi_requests_total counter" in text
    assert 'madoguchi_requests_total{channel="line",status="ok"} 2' in text
    assert 'madoguchi_answers_total{channel="line",council="tomakomai",kind="fallback"} 1' in text
    assert "# TYPE madoguchi_webhook_seconds histogram" in text
    assert 'madoguchi_webhook_seconds_bucket{channel="line",le="0.005"} 1' in text
    assert 'madoguchi_webhook_seconds_bucket{channel="line",le="+Inf"} 2' in text
    assert 'madoguchi_webhook_seconds_count{channel="line"} 2' in text
    assert 'madoguchi_reloads_total{result="failed",via="watch"} 1' in text
    services = len(live.assistant.knowledge.services_of("tomakomai"))
    counted = sum(float(v) for v in re.findall(r'madoguchi_knowledge_services\{[^}]*council="tomakomai"[^}]*\} (\S+)', text))
    assert counted == services > 0
    assert "madoguchi_knowledge_last_reload_ok 1" in text
    assert 'odd{label="a\\"b\\\\c\\nd"} 1' in text
    # every sample line is `name{labels} value`
    for line in text.splitlines():
        if not line.startswith("#"):
            assert re.fullmatch(r'[a-z_]+(\{.*\})? [0-9.e+-]+|[a-z_]+(\{.*\})? [+-]?Inf', line), line
