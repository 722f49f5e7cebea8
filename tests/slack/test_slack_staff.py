"""Staff improve the bot from Slack, over real HTTP with signed requests.

The knowledge is a copy of the test fixture in a real git repository in a
temporary folder; the app serves LINE (for the emergency alert) and Slack at
once; Web API calls land in the recording fake (views.publish/open/update,
chat.postMessage/update).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.app import create_app
from adapters.runtime import Runtime
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.loader import check_knowledge
from bot.querylog import LogEntry
from tests.line import webhook as wh
from tests.line.fake_api import FakeLineAPI
from tests.slack.conftest import ADMIN, STAFF, MemoryQueryLog, Slack, make_config, unique
from tests.slack.fake_slack import FakeSlack
from tests.support.server import serve_app

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"
LINE_SECRET = "secret-minato-0123456789abcdef"
ALERTS = "CALERTS"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(FIXTURE, repo / "knowledge")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=setup", "-c", "user.email=setup@test", "commit", "-qm", "start")
    return repo / "knowledge"


@pytest.fixture(scope="module")
def staff(fake: FakeSlack, kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slack]:
    settings = tmp_path_factory.mktemp("settings") / "slack.yaml"
    settings.write_text(f"default_council: minato\nadmins: [{ADMIN}]\nalerts:\n  minato: {ALERTS}\n", encoding="utf-8")
    live = LiveKnowledge(kb)
    line = FakeLineAPI()
    with serve_app(line.app()) as line_url:
        config = make_config(fake, live, settings, LINE_API_ENDPOINT=line_url,
                             LINE_CHANNEL_SECRET__MINATO=LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN__MINATO="token-minato")
        runtime = Runtime(live=live, config=config, querylog=MemoryQueryLog())
        with serve_app(create_app(runtime)) as base:
            yield Slack(base, fake, runtime)


def settle(slack: Slack, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while slack.runtime.background:
        assert time.monotonic() < deadline, "background work did not finish"
        time.sleep(0.01)


def home_of(slack: Slack, user: str) -> dict[str, Any]:
    """Open the App Home as `user` and return the view published for them."""
    before = len(slack.fake.find(lambda c: c.method == "views.publish" and c.body.get("user_id") == user))
    assert slack.home_opened(user).status_code == 200
    calls = slack.fake.wait(lambda c: c.method == "views.publish" and c.body.get("user_id") == user, count=before + 1)
    return calls[-1].body["view"]


def texts(view: dict[str, Any]) -> str:
    out = []
    for b in view["blocks"]:
        if b.get("text"):
            out.append(b["text"]["text"])
        out += [e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


def elements(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block id, element) of every interactive element, accessories included."""
    out = [(b.get("block_id", ""), e) for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return out + [(b.get("block_id", ""), b["accessory"]) for b in view["blocks"] if b.get("accessory")]


def opened_view(slack: Slack, count: int) -> tuple[dict[str, Any], str]:
    call = slack.fake.wait(lambda c: c.method == "views.open", count=count)[-1]
    return call.body["view"], unique("V")  # the id Slack would give the open modal


def updated(slack: Slack, view_id: str) -> dict[str, Any]:
    settle(slack)
    return slack.fake.wait(lambda c: c.method == "views.update" and c.body.get("view_id") == view_id)[-1].body["view"]


def record(slack: Slack, question: str, kind: str, *, feedback: str | None = None, top: tuple[str, ...] = ()) -> None:
    slack.runtime.querylog.record(LogEntry(time.time(), "minato", "line", question, kind, top_ids=top,
                                           feedback=feedback, event_id=f"ev{time.monotonic_ns()}"))


def test_app_home_shows_what_staff_should_look_at(staff: Slack) -> None:
    for _ in range(3):
        record(staff, "くるまいす かりたい", "fallback")
    record(staff, "車椅子をかりたいです", "fallback")
    record(staff, "ひとりぐらしが不安", "choices")
    record(staff, "鍵を預けたい", "answer", feedback="no", top=("minato/kuruma-isu",))
    record(staff, "車いす", "answer", feedback="yes", top=("minato/kuruma-isu",))
    view = home_of(staff, ADMIN)
    text = texts(view)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "Madoguchi ｜ みなと市社協" in text
    assert "今週答えられなかった質問" in text and "*3 件*「くるまいす かりたい」" in text
    title = staff.runtime.live.assistant.knowledge.services["minato/kuruma-isu"].title
    assert "はい 1 件・いいえ 1 件" in text and f"「鍵を預けたい」\n→ 回答：{title} `minato/kuruma-isu`" in text
    assert "• みなと市社協 地域福祉係：電話番号・受付時間がありません" in text  # a window without details
    assert "最後の再読み込み：成功" in text and "下書き：0 件" in text
    labels = [e["text"]["text"] for _, e in elements(view) if e["type"] == "button"]
    assert any(label.startswith("「") and label.endswith("」に追加") for label in labels)
    assert "新しいサービスの下書き" in labels
    # a non-admin sees the same facts and no button that writes
    other = home_of(staff, STAFF)
    assert "*3 件*「くるまいす かりたい」" in texts(other)
    assert not [e for _, e in elements(other) if e["type"] == "button"]
    assert "admins" in texts(other)


def _teach_button(view: dict[str, Any], service: str) -> tuple[str, dict[str, Any]]:
    for block_id, e in elements(view):
        if e["type"] == "button" and e["action_id"].startswith("madoguchi_teach:") and \
                json.loads(e["value"])["s"] == service:
            return block_id, e
    raise AssertionError(f"no teach button for {service}")


def test_teach_in_one_click_writes_round_trip_reloads_and_commits(staff: Slack, kb: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="madoguchi.audit")
    record(staff, "くるまいす かりたい", "fallback")
    view = home_of(staff, ADMIN)
    block_id, button = _teach_button(view, "minato/kuruma-isu")
    opens = len(staff.fake.find(lambda c: c.method == "views.open"))
    assert staff.home_action(button, block_id=block_id, user=ADMIN).status_code == 200
    modal, view_id = opened_view(staff, opens + 1)
    assert modal["callback_id"] == "madoguchi_teach_view"
    file = kb / "minato/services/kuruma-isu.yaml"
    before = file.read_text(encoding="utf-8")
    head = git(kb.parent, "rev-parse", "HEAD").strip()
    r = staff.submit(modal, {"text": "くるまいす かりたい", "service": {"option": "minato/kuruma-isu"},
                             "field": {"option": "examples"}}, user=ADMIN, view_id=view_id)
    assert r.status_code == 200 and json.loads(r.text)["response_action"] == "update"  # "saving…" at once
    done = updated(staff, view_id)
    assert "保存しました" in texts(done) and "反映しました" in texts(done)
    after = file.read_text(encoding="utf-8")
    # a round trip: every line kept (comments, order, quoting), one line added
    assert set(before.splitlines()) <= set(after.splitlines())
    assert len(after.splitlines()) == len(before.splitlines()) + 1 and "  - くるまいす かりたい" in after
    assert "minato/kuruma-isu" in [o.id for o in staff.runtime.live.assistant.ask("minato", "くるまいす かりたい").results]
    log = git(kb.parent, "log", "-1", "--format=%an|%s")
    assert log.startswith(f"name-{ADMIN}|minato/kuruma-isu: examples += くるまいす かりたい")
    assert git(kb.parent, "rev-parse", "HEAD~1").strip() == head
    assert "madoguchi_knowledge_edits_total{result=\"written\"}" in httpx.get(f"{staff.base}/metrics").text
    [audit] = [r for r in caplog.records if r.name == "madoguchi.audit"]
    assert (audit.user, audit.outcome, audit.edit) == (ADMIN, "written", "minato/kuruma-isu: examples += くるまいす かりたい")
    assert audit.commit == git(kb.parent, "rev-parse", "HEAD").strip() and audit.at > time.time() - 60


def test_two_saves_at_once_both_land(staff: Slack, kb: Path) -> None:
    modal = {"type": "modal", "callback_id": "madoguchi_teach_view", "private_metadata": json.dumps({"c": "minato"})}
    words = ["同時の言い方その一", "同時の言い方その二"]
    ids = [unique("V") for _ in words]
    for word, view_id in zip(words, ids):
        r = staff.submit(modal, {"text": word, "service": {"option": "minato/salon"}, "field": {"option": "examples"}},
                         user=ADMIN, view_id=view_id)
        assert json.loads(r.text)["response_action"] == "update"
    for view_id in ids:
        assert "保存しました" in texts(updated(staff, view_id))
    text = (kb / "minato/services/salon.yaml").read_text(encoding="utf-8")
    assert all(f"  - {w}\n" in text for w in words)
    assert all(w in staff.runtime.live.assistant.knowledge.services["minato/salon"].examples for w in words)


def test_a_broken_edit_shows_errors_in_the_modal_and_never_reaches_residents(staff: Slack, kb: Path) -> None:
    # Someone broke a file by hand meanwhile: saving must not write (and the bot keeps answering).
    council = kb / "minato/council.yaml"
    text = council.read_text(encoding="utf-8")
    council.write_text(text.replace("  - id: chiiki\n", "  - id: chiiki\n    url: javascript:alert(1)\n"), "utf-8")
    try:
        view = home_of(staff, ADMIN)
        block_id, button = _teach_button(view, "minato/kuruma-isu")
        opens = len(staff.fake.find(lambda c: c.method == "views.open"))
        staff.home_action(button, block_id=block_id, user=ADMIN)
        modal, view_id = opened_view(staff, opens + 1)
        file = kb / "minato/services/kuruma-isu.yaml"
        before = file.read_bytes()
        commits = git(kb.parent, "rev-list", "--count", "HEAD")
        staff.submit(modal, {"text": "車輪のついた椅子", "service": {"option": "minato/kuruma-isu"},
                             "field": {"option": "aliases"}}, user=ADMIN, view_id=view_id)
        shown = updated(staff, view_id)
        assert shown["callback_id"] == "madoguchi_teach_view"  # the form again, as typed
        assert "保存しませんでした" in texts(shown) and "council.yaml" in texts(shown) and "https://" in texts(shown)
        assert next(b for b in shown["blocks"] if b.get("block_id") == "text")["element"]["initial_value"] == "車輪のついた椅子"
        assert file.read_bytes() == before and git(kb.parent, "rev-list", "--count", "HEAD") == commits
        assert "車輪のついた椅子" not in staff.runtime.live.assistant.knowledge.services["minato/kuruma-isu"].aliases
    finally:
        council.write_text(text, "utf-8")


def test_only_admins_may_write(staff: Slack, kb: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="madoguchi.audit")
    view = home_of(staff, ADMIN)
    block_id, button = _teach_button(view, "minato/kuruma-isu")
    opens = len(staff.fake.find(lambda c: c.method == "views.open"))
    staff.home_action(button, block_id=block_id, user=STAFF)  # a pressed button copied by a non-admin
    refusal, _ = opened_view(staff, opens + 1)
    assert "admins" in texts(refusal) and "submit" not in refusal
    snapshot = {p: p.read_bytes() for p in kb.rglob("*.yaml")}
    modal = {"type": "modal", "callback_id": "madoguchi_teach_view", "private_metadata": json.dumps({"c": "minato"})}
    r = staff.submit(modal, {"text": "だめな追加", "service": {"option": "minato/kuruma-isu"},
                             "field": {"option": "aliases"}}, user=STAFF, view_id="VFORGED")
    assert r.status_code == 200 and json.loads(r.text)["response_action"] == "errors"
    settle(staff)
    assert {p: p.read_bytes() for p in kb.rglob("*.yaml")} == snapshot
    assert [(r.user, r.outcome) for r in caplog.records if r.name == "madoguchi.audit"] == [(STAFF, "not_admin")]


def test_window_modal_validates_then_writes_council_yaml(staff: Slack, kb: Path) -> None:
    view = home_of(staff, ADMIN)
    [(block_id, select)] = [(b, e) for b, e in elements(view) if e["action_id"] == "madoguchi_window"]
    chiiki = next(o for o in select["options"] if json.loads(o["value"])["d"] == "chiiki")
    opens = len(staff.fake.find(lambda c: c.method == "views.open"))
    staff.home_action(select, block_id=block_id, user=ADMIN, selected=chiiki)
    modal, view_id = opened_view(staff, opens + 1)
    assert modal["callback_id"] == "madoguchi_window_view"
    council = kb / "minato/council.yaml"
    before = council.read_text(encoding="utf-8")
    bad = staff.submit(modal, {"phone": "12345", "hours": "", "address": "", "url": "javascript:alert(1)"},
                       user=ADMIN, view_id=view_id)
    errors = json.loads(bad.text)
    assert errors["response_action"] == "errors" and set(errors["errors"]) == {"phone", "url"}
    assert "https://" in errors["errors"]["url"] and council.read_text(encoding="utf-8") == before
    ok = staff.submit(modal, {"phone": "0123-45-6789（内線 12）", "hours": "平日 9時〜17時", "address": "",
                              "url": "https://example.jp/chiiki"}, user=ADMIN, view_id=view_id)
    assert json.loads(ok.text)["response_action"] == "update"
    assert updated(staff, view_id)["title"]["text"] == "窓口を更新しました"
    after = council.read_text(encoding="utf-8")
    assert "    phone: 0123-45-6789（内線 12）\n" in after and "    url: https://example.jp/chiiki\n" in after
    assert after.index("id: chiiki") < after.index("0123-45-6789") < after.index("id: city-fukushi")  # in place
    dep = staff.runtime.live.assistant.knowledge.councils["minato"].departments["chiiki"]
    assert dep.contact.phone == "0123-45-6789（内線 12）" and dep.contact.url == "https://example.jp/chiiki"
    assert git(kb.parent, "log", "-1", "--format=%an").strip() == f"name-{ADMIN}"


def test_a_draft_is_never_answered_until_published(staff: Slack, kb: Path) -> None:
    view = home_of(staff, ADMIN)
    [(block_id, button)] = [(b, e) for b, e in elements(view) if e["action_id"] == "madoguchi_draft"][:1]
    opens = len(staff.fake.find(lambda c: c.method == "views.open"))
    staff.home_action(button, block_id=block_id, user=ADMIN)
    modal, view_id = opened_view(staff, opens + 1)
    categories = next(b for b in modal["blocks"] if b.get("block_id") == "category")["element"]["options"]
    staff.submit(modal, {"title": "ふれあい将棋教室", "summary": "毎週土曜日に将棋を楽しむ教室です。",
                         "category": {"option": categories[0]["value"]}, "department": {"option": "chiiki"},
                         "example": "将棋を教えてほしい"}, user=ADMIN, view_id=view_id)
    assert updated(staff, view_id)["title"]["text"] == "下書きを作りました"
    k = staff.runtime.live.assistant.knowledge
    [draft] = [s for s in k.drafts.values() if s.title == "ふれあい将棋教室"]
    assert draft.id not in k.services and (kb / f"{draft.id.replace('/', '/services/')}.yaml").exists()
    assert all(o.id != draft.id for o in staff.runtime.live.assistant.ask("minato", "ふれあい将棋教室").results)
    home = home_of(staff, ADMIN)
    assert "下書き：1 件" in texts(home)
    [(block_id, publish)] = [(b, e) for b, e in elements(home) if e["action_id"] == "madoguchi_publish"]
    staff.home_action(publish, block_id=block_id, user=ADMIN)
    settle(staff)
    k = staff.runtime.live.assistant.knowledge
    assert draft.id in k.services and not k.drafts
    assert staff.runtime.live.assistant.ask("minato", "ふれあい将棋教室").service.id == draft.id


def test_emergency_on_line_alerts_staff_and_acknowledgement_is_recorded(staff: Slack) -> None:
    message = "もう死にたい。電話は090-1234-5678です"
    raw = wh.body(wh.text(message))
    r = httpx.post(f"{staff.base}/line/minato", content=raw,
                   headers={"content-type": "application/json", "x-line-signature": wh.sign(LINE_SECRET, raw)})
    assert r.status_code == 200
    [alert] = staff.fake.wait(lambda c: c.method == "chat.postMessage" and c.body.get("channel") == ALERTS)
    text = json.dumps(alert.body["blocks"], ensure_ascii=False)
    assert "みなと市社会福祉協議会" in text and "***-****-****" in text and "090-1234-5678" not in text
    assert wh.USER_ID not in text and wh.USER_ID not in alert.raw.decode("utf-8", "replace")
    answer = staff.runtime.live.assistant.ask("minato", message)  # the kinds read in that very message
    kinds = "、".join(answer.danger.kinds) if answer.danger and answer.danger.kinds else "種類不明"
    assert kinds in text
    [actions] = [b for b in alert.body["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["text"]["text"] == "対応しました"
    home = home_of(staff, ADMIN)
    assert "⚠ *未対応*" in texts(home)
    ack = staff.interact({"type": "block_actions", "channel": {"id": ALERTS},
                          "container": {"type": "message", "message_ts": "1", "channel_id": ALERTS},
                          "message": {"ts": "1700000000.000001", "text": ""},
                          "actions": [{**actions["elements"][0], "block_id": actions["block_id"],
                                       "action_ts": str(time.time())}]}, user=STAFF)
    assert ack.status_code == 200
    [update] = staff.fake.wait(lambda c: c.method == "chat.update" and c.body.get("channel") == ALERTS)
    assert f"<@{STAFF}> が対応しました" in json.dumps(update.body["blocks"], ensure_ascii=False)
    assert f"✅ <@{STAFF}> が対応" in texts(home_of(staff, ADMIN))
    metrics = httpx.get(f"{staff.base}/metrics").text
    assert 'madoguchi_alerts_total{council="minato",result="sent"} 1' in metrics
    assert 'madoguchi_alerts_acknowledged_total{council="minato"} 1' in metrics


def test_feedback_command_reports_the_no_answers(staff: Slack) -> None:
    record(staff, "配食の申し込み 090-1111-2222", "answer", feedback="no", top=("minato/kyushoku",))
    _, where = staff.command("feedback", user=ADMIN)
    [call] = staff.fake.wait(lambda c: c.method == where)
    text = "\n".join(b["text"]["text"] for b in call.body["blocks"] if b["type"] == "section")
    title = staff.runtime.live.assistant.knowledge.services["minato/kyushoku"].title
    assert "「役に立った？」への回答" in text and f"→ {title}（minato/kyushoku）" in text
    assert "090-1111-2222" not in text


def test_fixture_copy_still_loads_cleanly(kb: Path) -> None:
    assert check_knowledge(kb).errors == []



def test_every_view_the_app_sent_is_valid_block_kit(staff: Slack) -> None:
    """Runs last: the SDK's own models check every published, opened and updated view against Slack's limits."""
    from slack_sdk.models.views import View

    calls = staff.fake.find(lambda c: c.method in ("views.publish", "views.open", "views.update"))
    assert {c.method for c in calls} == {"views.publish", "views.open", "views.update"}
    for c in calls:
        view = View(**c.body["view"])
        view.to_dict()  # validates the view and, recursively, every block and element
        assert len(view.blocks) <= 100
