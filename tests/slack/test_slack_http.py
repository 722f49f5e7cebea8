"""End to end over real HTTP: signed Slack requests in, recorded Web API calls out."""

from __future__ import annotations

import json
import time

import httpx

from bot.render import to_text
from tests.slack.conftest import (
    ADMIN,
    SECRET,
    STAFF,
    TOKEN,
    TOMAKOMAI_CHANNEL,
    Slack,
    actions,
    markdown,
    resident_text,
    sent_to,
    unique,
)

ACK_LIMIT = 3.0  # Slack's rule: acknowledge within 3 seconds


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - start


def test_mention_answers_in_thread_with_resident_text_and_staff_details(slack: Slack) -> None:
    channel = unique("C")
    (resp, ts), took = timed(slack.mention, "車いすを借りたい", channel=channel)
    assert resp.status_code == 200 and took < ACK_LIMIT
    [call] = slack.fake.wait(sent_to(channel))
    assert call.method == "chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    body = call.body
    assert body["thread_ts"] == ts  # in the thread of the question
    expected = slack.runtime.live.assistant.ask("kiyose", "車いすを借りたい", audience="staff")
    assert expected.kind == "answer" and expected.staff is not None
    assert resident_text(body["blocks"]) == to_text(expected)  # exactly what residents read
    assert body["text"] == to_text(expected)
    staff = markdown(body["blocks"])
    s = expected.staff
    assert f"`{s.id}`（スコア {s.score:.2f}）" in staff
    assert f"`{s.file}`" in staff and s.file.endswith(".yaml")
    assert f"更新日：{s.updated}" in staff
    assert f"担当：{s.department}" in staff
    if s.notes:
        assert s.notes in staff
    runner_up = [o for o in expected.results if o.id != s.id]
    if runner_up:
        assert f"`{runner_up[0].id}`" in staff and "次点" in staff
    assert "清瀬市社会福祉協議会" in staff
    [auth, *_] = slack.fake.find(lambda c: c.method == "auth.test")  # bolt's one-time token check
    assert auth.headers["Authorization"] == f"Bearer {TOKEN}"


def test_dm_is_answered_once_and_own_messages_are_ignored(slack: Slack) -> None:
    channel = unique("D")
    resp, ts = slack.dm("お金を借りたい", channel=channel)
    assert resp.status_code == 200
    [call] = slack.fake.wait(sent_to(channel))
    assert call.body["thread_ts"] == ts
    assert call.body["blocks"][0]["type"] == "context"
    expected = slack.runtime.live.assistant.ask("kiyose", "お金を借りたい", audience="staff")
    assert resident_text(call.body["blocks"]) == to_text(expected)
    # the bot's own message echoed back as message.im, and an edit: no reply
    before = len(slack.fake.find(sent_to(channel)))
    slack.event({"type": "message", "channel_type": "im", "user": "UBOT", "bot_id": "B0001", "text": "x",
                 "ts": "1.2", "channel": channel})
    slack.event({"type": "message", "channel_type": "im", "subtype": "message_changed", "channel": channel,
                 "ts": "1.3", "message": {"text": "車いす"}})
    follow, _ = slack.dm("車いす", channel=channel)  # a real question afterwards is answered
    assert follow.status_code == 200
    calls = slack.fake.wait(sent_to(channel), count=before + 1)
    assert len(calls) == before + 1 and "車椅子" in calls[-1].body["text"]


def test_slash_command_acks_fast_then_answers_ephemerally(slack: Slack) -> None:
    (resp, where), took = timed(slack.command, "車いす")
    assert resp.status_code == 200 and took < ACK_LIMIT
    [call] = slack.fake.wait(lambda c: c.method == where)
    assert call.body["response_type"] == "ephemeral" and call.body["replace_original"] is False
    expected = slack.runtime.live.assistant.ask("kiyose", "車いす", audience="staff")
    assert resident_text(call.body["blocks"]) == to_text(expected)
    assert f"`{expected.staff.id}`" in markdown(call.body["blocks"])


def test_choices_become_buttons_and_pressing_one_answers_with_that_service(slack: Slack) -> None:
    channel = unique("C")
    _, ts = slack.mention("お金を貸してほしい", channel=channel)
    [first] = slack.fake.wait(sent_to(channel))
    expected = slack.runtime.live.assistant.ask("kiyose", "お金を貸してほしい", audience="staff")
    assert expected.kind == "choices"
    [block, *_] = actions(first.body["blocks"])
    assert [e["value"] for e in block["elements"]] == [o.id for o in expected.choices]
    assert [e["text"]["text"] for e in block["elements"]] == [o.title for o in expected.choices]
    pick = expected.choices[1]
    resp, _ = slack.press(block=block, index=1, channel=channel, message_ts="1700000000.000001")
    assert resp.status_code == 200
    calls = slack.fake.wait(sent_to(channel), count=2)
    answer = calls[1].body
    assert answer["thread_ts"] == "1700000000.000001"
    picked = slack.runtime.live.assistant.pick("kiyose", pick.id, audience="staff")
    assert resident_text(answer["blocks"]) == to_text(picked)
    assert f"`{pick.id}`" in markdown(answer["blocks"])


def test_button_in_ephemeral_reply_answers_through_response_url(slack: Slack) -> None:
    _, where = slack.command("清瀬 お金を貸してほしい")
    [call] = slack.fake.wait(lambda c: c.method == where)
    [block, *_] = actions(call.body["blocks"])
    resp, where2 = slack.press(block=block, index=0, channel="CGENERAL", message_ts=None, ephemeral=True)
    assert resp.status_code == 200
    [reply] = slack.fake.wait(lambda c: c.method == where2)
    picked = slack.runtime.live.assistant.pick("kiyose", block["elements"][0]["value"], audience="staff")
    assert reply.body["response_type"] == "ephemeral"
    assert resident_text(reply.body["blocks"]) == to_text(picked)


def test_staff_only_entries_are_answered_on_slack_but_never_for_residents(slack: Slack) -> None:
    a = slack.runtime.live.assistant
    staff_only = [s for s in a.knowledge.services_of("kiyose") if s.audience == "staff" and s.status == "active"]
    target = next(
        s for s in staff_only
        if (x := a.ask("kiyose", s.title, audience="staff")).staff is not None and x.staff.id == s.id
    )
    assert all(o.id != target.id for o in a.ask("kiyose", target.title, audience="resident").results)
    _, where = slack.command(target.title)
    [call] = slack.fake.wait(lambda c: c.method == where)
    staff = markdown(call.body["blocks"])
    assert f"`{target.id}`" in staff and "職員向け（LINE では答えません）" in staff


def test_per_channel_council_and_per_question_prefix(slack: Slack) -> None:
    # the settings file maps CTOMA to tomakomai; MADOGUCHI_COUNCIL is kiyose
    _, _ = slack.mention("車いす", channel=TOMAKOMAI_CHANNEL)
    [toma] = slack.fake.wait(sent_to(TOMAKOMAI_CHANNEL))
    expected = slack.runtime.live.assistant.ask("tomakomai", "車いす", audience="staff")
    assert resident_text(toma.body["blocks"]) == to_text(expected)
    assert "苫小牧市社会福祉協議会" in markdown(toma.body["blocks"])
    # a council named first wins over the channel
    _, where = slack.command("清瀬 車いす", channel=TOMAKOMAI_CHANNEL)
    [kiyo] = slack.fake.wait(lambda c: c.method == where)
    assert "`kiyose/" in markdown(kiyo.body["blocks"])
    channel = unique("C")
    slack.mention("苫小牧市社協の車いす", channel=channel)
    [named] = slack.fake.wait(sent_to(channel))
    assert "`tomakomai/" in markdown(named.body["blocks"])


def test_status_counts_warnings_instead_of_listing_them(slack: Slack) -> None:
    _, where = slack.command("status")
    [call] = slack.fake.wait(lambda c: c.method == where)
    text = markdown(call.body["blocks"])
    live = slack.runtime.live
    k = live.assistant.knowledge
    assert f"{len(k.councils)} 社協・{len(k.services)} サービス" in text
    for c in k.councils.values():
        assert f"`{c.id}`：{len(k.services_of(c.id))} 件" in text
    windows = sum(p.message.startswith(("window '", "the general window '")) for p in live.last_good.warnings)
    assert windows > 0 and f"電話番号か受付時間のない窓口：{windows} 件" in text
    assert f"*警告*：{len(live.last_good.warnings)} 件" in text
    assert "最後の再読み込み：成功" in text and "クエリログ：記録中" in text
    assert f"<#{TOMAKOMAI_CHANNEL}> → `tomakomai`" in text
    assert len(text.splitlines()) < 40  # counted, not hundreds of lines


def test_reload_is_refused_to_a_non_admin(slack: Slack) -> None:
    reloads = slack.runtime.live.reloads
    channel = unique("C")
    slack.mention("reload", channel=channel, user="UNOBODY")
    [call] = slack.fake.wait(sent_to(channel))
    assert call.method == "chat.postEphemeral" and call.body["user"] == "UNOBODY"
    assert "admins" in call.body["text"]
    _, where = slack.command("reload", user="UNOBODY")
    [call] = slack.fake.wait(lambda c: c.method == where)
    assert "admins" in call.body["text"]
    assert slack.runtime.live.reloads == reloads


def test_retries_and_duplicate_event_ids_get_one_reply(slack: Slack) -> None:
    channel = unique("C")
    event_id = unique("EvDup")
    ts = "1700000001.000001"
    ev = {"type": "app_mention", "user": "USTAFF", "text": "<@UBOT> 車いす", "ts": ts, "channel": channel}
    first = slack.event(ev, event_id=event_id)
    retries = [
        slack.event(ev, event_id=event_id, headers={"x-slack-retry-num": str(n), "x-slack-retry-reason": "http_timeout"})
        for n in (1, 2, 3)
    ]
    assert first.status_code == 200 and all(r.status_code == 200 for r in retries)
    # duplicates are dropped before the response is sent, so nothing else can still be on its way
    slack.fake.wait(sent_to(channel))
    sentinel = unique("C")
    slack.mention("車いす", channel=sentinel)
    slack.fake.wait(sent_to(sentinel))
    assert len(slack.fake.find(sent_to(channel))) == 1
    metrics = httpx.get(f"{slack.base}/metrics").text
    dropped = [line for line in metrics.splitlines() if line.startswith("madoguchi_slack_duplicates_total ")]
    assert dropped and float(dropped[0].split()[1]) >= 3


def test_bad_signatures_and_old_timestamps_get_401_and_nothing_is_posted(slack: Slack) -> None:
    channel = unique("C")
    before = len(slack.fake.calls)
    body = json.dumps({"type": "event_callback", "event_id": unique("Ev"), "team_id": "T0001",
                       "event": {"type": "app_mention", "user": "U1", "text": "<@UBOT> 車いす", "ts": "1.1",
                                 "channel": channel}}).encode()
    now = int(time.time())
    cases = {
        "missing": slack.post(body, "application/json", sign=False),
        "wrong secret": slack.post(body, "application/json", secret="not-the-secret"),
        "old timestamp": slack.post(body, "application/json", ts=now - 6 * 60),
        "future timestamp": slack.post(body, "application/json", ts=now + 6 * 60),
        "forged signature": slack.post(body, "application/json", headers={
            "x-slack-signature": "v0=" + "0" * 64}),
    }
    assert {name: r.status_code for name, r in cases.items()} == {name: 401 for name in cases}
    form = b"command=%2Fmadoguchi&text=reload&user_id=" + ADMIN.encode() + b"&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fx"
    assert slack.post(form, "application/x-www-form-urlencoded", secret=SECRET[::-1]).status_code == 401
    # the 401s were decided before any listener ran: a later good request is the only thing posted
    slack.mention("車いす", channel=channel)
    slack.fake.wait(sent_to(channel))
    assert len(slack.fake.find(sent_to(channel))) == 1
    assert all(c.body.get("channel") == channel for c in slack.fake.calls[before:] if c.method.startswith("chat."))
    metrics = httpx.get(f"{slack.base}/metrics").text
    assert 'madoguchi_slack_rejected_total{reason="signature"}' in metrics


def test_url_verification_challenge(slack: Slack) -> None:
    body = json.dumps({"type": "url_verification", "token": "legacy", "challenge": "chal-123"}).encode()
    resp = slack.post(body, "application/json")
    assert resp.status_code == 200 and "chal-123" in resp.text
    assert slack.post(body, "application/json", secret="wrong").status_code == 401


def test_unanswered_groups_counts_and_masks(slack: Slack) -> None:
    log = slack.runtime.querylog
    from bot.querylog import LogEntry

    now = time.time()
    for q, kind in [("090-1234-5678に電話ほしい 雪かき", "fallback")] * 3 + [("見守り", "choices")] * 2:
        log.record(LogEntry(at=now - 3600, council="kiyose", channel="line", question=q, kind=kind))
    log.record(LogEntry(at=now - 20 * 86400, council="kiyose", channel="line", question="古い質問", kind="fallback"))
    _, where = slack.command("unanswered 7d", user=ADMIN)
    [call] = slack.fake.wait(lambda c: c.method == where)
    text = markdown(call.body["blocks"])
    assert "過去7日" in text and "清瀬市社協" in text
    assert "• 3 件 「***-****-****に電話ほしい 雪かき」（fallback 3）" in text
    assert "• 2 件 「見守り」（choices 2）" in text
    assert "5 件・2 種類" in text
    assert "090-1234-5678" not in call.raw.decode() and "1234" not in text
    assert "古い質問" not in text
    _, where = slack.command("unanswered 30d", user=ADMIN)
    [call] = slack.fake.wait(lambda c: c.method == where)
    assert "古い質問" in markdown(call.body["blocks"])


def test_unanswered_only_for_admins_or_in_the_councils_own_channel(slack: Slack) -> None:
    from bot.querylog import LogEntry

    slack.runtime.querylog.record(LogEntry(at=time.time(), council="tomakomai", channel="line",
                                           question="秘密の質問A", kind="fallback"))
    slack.runtime.querylog.record(LogEntry(at=time.time(), council="kiyose", channel="line",
                                           question="秘密の質問B", kind="fallback"))
    cases = {
        "staff, general channel": ("unanswered 7d", "CGENERAL", STAFF),
        "staff, all from the council channel": ("unanswered 7d all", TOMAKOMAI_CHANNEL, STAFF),
        "staff, another council by prefix": ("清瀬 unanswered 7d", TOMAKOMAI_CHANNEL, STAFF),
        "staff, council channel": ("unanswered 7d", TOMAKOMAI_CHANNEL, STAFF),
        "admin, general channel, all": ("unanswered 7d all", "CGENERAL", ADMIN),
    }
    seen = {}
    for name, (text, channel, user) in cases.items():
        _, where = slack.command(text, channel=channel, user=user)
        [call] = slack.fake.wait(lambda c, w=where: c.method == w)
        seen[name] = call.raw.decode("utf-8", "replace") + json.dumps(call.body, ensure_ascii=False)
    for name in ("staff, general channel", "staff, all from the council channel", "staff, another council by prefix"):
        assert "秘密の質問" not in seen[name] and "admins" in seen[name], name
    assert "秘密の質問A" in seen["staff, council channel"] and "秘密の質問B" not in seen["staff, council channel"]
    assert "秘密の質問A" in seen["admin, general channel, all"] and "秘密の質問B" in seen["admin, general channel, all"]


def test_staff_questions_are_logged_but_kept_out_of_unanswered(slack: Slack) -> None:
    log = slack.runtime.querylog
    _, where = slack.command("雪かき 03-1234-5678", user="ULOGGED")
    slack.fake.wait(lambda c: c.method == where)
    [entry] = [e for e in log.entries if e.question.startswith("雪かき")]
    # As asked: the store masks it when it writes (tests/ops/test_querylog.py).
    assert (entry.channel, entry.council, entry.question) == ("slack", "kiyose", "雪かき 03-1234-5678")
    assert entry.user_hash and "ULOGGED" not in entry.user_hash  # a salted hash, never the Slack id
    assert entry.kind in ("fallback", "choices")
    assert all(not g.example.startswith("雪かき") for g in log.unanswered(council="kiyose", since=0))


def test_empty_question_shows_the_category_menu(slack: Slack) -> None:
    _, where = slack.command("")
    [call] = slack.fake.wait(lambda c: c.method == where)
    [block, *_] = actions(call.body["blocks"])
    assert all(e["value"].startswith("category:") for e in block["elements"])
    resp, where2 = slack.press(block=block, index=0, channel="CGENERAL", message_ts=None, ephemeral=True)
    [reply] = slack.fake.wait(lambda c: c.method == where2)
    services = actions(reply.body["blocks"])[0]["elements"]
    assert services and all(e["value"].startswith("kiyose/") for e in services)


def test_rate_limited_post_waits_for_retry_after_and_sends_no_error_notice(slack: Slack) -> None:
    channel = unique("C")
    slack.fake.fail_posts(429, count=1, retry_after=1)
    slack.mention("車いす", channel=channel)
    posts = slack.fake.wait(sent_to(channel), count=2, timeout=15)
    time.sleep(0.3)
    posts = slack.fake.find(sent_to(channel))
    assert len(posts) == 2  # the refused one, then the same answer once
    assert posts[0].body["text"] == posts[1].body["text"] and "エラー" not in posts[1].body["text"]
    assert posts[1].time - posts[0].time >= 1.0


def test_slack_unreachable_after_retries_sends_no_error_notice_into_it(slack: Slack) -> None:
    channel = unique("C")
    slack.fake.fail_posts(503, count=3)  # the first try and both retries
    slack.mention("車いす", channel=channel)
    slack.fake.wait(sent_to(channel), count=3, timeout=15)
    time.sleep(0.5)
    assert len(slack.fake.find(sent_to(channel))) == 3  # no fourth post carrying an error notice
