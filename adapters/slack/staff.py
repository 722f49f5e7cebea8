"""The staff listeners: App Home, teaching buttons, the edit modals, publishing, 対応しました.

Every listener acknowledges first. Buttons that open a modal do so at once
(a trigger id is good for 3 seconds); a submitted modal is answered with a
"saving" view, and the slow part — checking the whole knowledge, writing,
reloading, committing — runs in the background and then updates that view
with the result, or with the form again and the errors above it.
Only admins (settings file `admins`) get anything that writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import modals
from adapters.slack.alerts import ACK_ACTION, acknowledge
from adapters.slack.home import DRAFT, HOME_COUNCIL, PUBLISH, TEACH, WINDOW_PICK, home_view, likely_services, pack, unpack
from adapters.slack.state import SlackState
from adapters.slack.teach import audit_line, write
from bot.knowledge import edit
from bot.knowledge.contacts import phone_problem, url_problem
from bot.knowledge.problems import Problem
from bot.knowledge.wording import say

__all__ = ["register_staff", "NOT_ADMIN"]

log = logging.getLogger("madoguchi.slack")
NOT_ADMIN = "知識を直せるのは、設定ファイルの `admins` に載っている人だけです。"


def _user(body: dict[str, Any]) -> tuple[str, str]:
    u = body.get("user") or {}
    uid = str(u.get("id") or "")
    return uid, str(u.get("name") or u.get("username") or uid)


def register_staff(app: AsyncApp, state: SlackState) -> None:
    rt = state.runtime

    async def publish(client: AsyncWebClient, user: str) -> None:
        try:
            await client.views_publish(user_id=user, view=await home_view(state, user=user))
        except Exception:
            log.exception("App Home not published")
            rt.metrics.inc("madoguchi_slack_errors_total")

    async def refuse(client: AsyncWebClient, body: dict[str, Any]) -> bool:
        """True (and a modal saying so) when the presser may not write."""
        if state.is_admin(_user(body)[0]):
            return False
        await client.views_open(trigger_id=body["trigger_id"], view=modals.message_modal("権限がありません", [NOT_ADMIN]))
        return True

    async def finish(client: AsyncWebClient, body: dict[str, Any], build: Callable[[Path], list[edit.Edit]],
                     retry: Callable[[list[str]], dict[str, Any]], title: str) -> None:
        user, name = _user(body)
        try:
            outcome = await write(state, user=user, name=name, build=build)
            view = modals.message_modal(title, outcome.lines) if outcome.ok else retry(outcome.lines)
            await client.views_update(view_id=body["view"]["id"], view=view)
        except Exception:
            log.exception("knowledge edit failed")
            rt.metrics.inc("madoguchi_slack_errors_total")
            try:
                await client.views_update(view_id=body["view"]["id"], view=modals.message_modal(
                    "エラー", ["エラーが起きました。App Home で結果を確かめてください（詳しくはサーバーのログ）。"]))
            except Exception:
                log.exception("could not say so in the modal either")
            return
        if outcome.ok:
            await publish(client, user)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            rt.spawn(publish(client, event["user"]))

    @app.action(HOME_COUNCIL)
    async def on_council(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = _user(body)[0]
        chosen = (action.get("selected_option") or {}).get("value")
        if chosen in rt.live.assistant.knowledge.councils:
            state.home_council[user] = chosen
        rt.spawn(publish(client, user))

    @app.action(re.compile(rf"^{TEACH}:\d+$"))
    async def on_teach(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if await refuse(client, body):
            return
        v = unpack(action.get("value"))
        council, service, text = v.get("c", ""), v.get("s"), v.get("q", "")
        if council not in rt.live.assistant.knowledge.councils:
            return
        await client.views_open(trigger_id=body["trigger_id"], view=modals.teach_modal(
            metadata=pack(c=council), services=_service_options(council, service, text), service=service,
            text=text))

    def _service_options(council: str, chosen: str | None, text: str) -> list[tuple[str, str]]:
        """The chosen service first, then the likely ones, then the council's others by title (≤100 shown)."""
        k = rt.live.assistant.knowledge
        first = [(chosen, k.services[chosen].title)] if chosen in k.services else []
        rest = sorted(((s.id, s.title) for s in k.services_of(council)), key=lambda o: o[1])
        return list(dict.fromkeys([*first, *likely_services(state, council, text), *rest]))

    @app.action(DRAFT)
    async def on_draft(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if await refuse(client, body):
            return
        v = unpack(action.get("value"))
        council = v.get("c", "")
        if council in rt.live.assistant.knowledge.councils:
            await client.views_open(trigger_id=body["trigger_id"], view=modals.draft_modal(
                metadata=pack(c=council), knowledge=rt.live.assistant.knowledge, council=council,
                values={"example": v.get("q", "")}))

    @app.action(WINDOW_PICK)
    async def on_window(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if await refuse(client, body):
            return
        v = unpack((action.get("selected_option") or {}).get("value"))
        c = rt.live.assistant.knowledge.councils.get(v.get("c", ""))
        dep = v.get("d", "")
        if c is None or (dep != edit.WINDOW and dep not in c.departments):
            return
        contact = c.window if dep == edit.WINDOW else c.departments[dep].contact
        await client.views_open(trigger_id=body["trigger_id"], view=modals.window_modal(
            metadata=pack(c=c.id, d=dep), name=contact.name, contact=contact))

    @app.action(PUBLISH)
    async def on_publish(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if await refuse(client, body):
            return
        sid = unpack(action.get("value")).get("s", "")
        opened = await client.views_open(trigger_id=body["trigger_id"],
                                         view=modals.message_modal("公開しています", ["知識全体を確かめています…"]))
        rt.spawn(finish(client, {**body, "view": {"id": opened["view"]["id"]}},
                        lambda root: [edit.publish(root, sid)],
                        lambda lines: modals.message_modal("公開できませんでした", lines), "公開しました"))

    @app.action(ACK_ACTION)
    async def on_ack(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        raised = await acknowledge(client, state.alerts, rt.metrics, alert_id=str(action.get("value", "")),
                                   user=_user(body)[0], channel=(body.get("channel") or {}).get("id"),
                                   ts=(body.get("message") or {}).get("ts"))
        if raised is None:
            log.warning("対応しました for an unknown alert (restarted since it was raised?)")

    async def saving(ack: AsyncAck, body: dict[str, Any], *, errors: dict[str, str]) -> bool:
        """Refuse (not an admin, or a field wrong on its own) inline; else show 'saving'. True to go on."""
        if not state.is_admin(_user(body)[0]):
            user, name = _user(body)
            audit_line(state, user=user, name=name, what=str(body["view"].get("callback_id")), outcome="not_admin")
            first = next(iter(modals.read_values(body["view"])), "text")
            await ack(response_action="errors", errors={first: NOT_ADMIN})
            return False
        if errors:
            await ack(response_action="errors", errors=errors)
            return False
        await ack(response_action="update", view=modals.message_modal("保存しています", ["知識全体を確かめています…"]))
        return True

    @app.view(modals.TEACH_VIEW)
    async def on_teach_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        values = modals.read_values(view)
        meta = unpack(view.get("private_metadata"))
        council, text, service, field = meta.get("c", ""), values.get("text", ""), values.get("service"), \
            values.get("field") or "examples"
        if not await saving(ack, body, errors={} if text else {"text": "言い方を入力してください"}):
            return

        def retry(lines: list[str]) -> dict[str, Any]:
            return modals.teach_modal(metadata=view.get("private_metadata", ""), errors=lines, field=field,
                                      services=_service_options(council, service, text), service=service, text=text)

        rt.spawn(finish(client, body, lambda root: [edit.add_wording(root, service or "", field=field, text=text)],
                        retry, "追加しました"))

    @app.view(modals.DRAFT_VIEW)
    async def on_draft_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        values = modals.read_values(view)
        council = unpack(view.get("private_metadata")).get("c", "")
        if not await saving(ack, body, errors={}):
            return

        def retry(lines: list[str]) -> dict[str, Any]:
            return modals.draft_modal(metadata=view.get("private_metadata", ""), knowledge=rt.live.assistant.knowledge,
                                      council=council, values=values, errors=lines)

        rt.spawn(finish(client, body, lambda root: [edit.new_draft(
            root, council, title=values.get("title", ""), category=values.get("category", ""),
            department=values.get("department", ""), summary=values.get("summary", ""),
            example=values.get("example"))], retry, "下書きを作りました"))

    @app.view(modals.WINDOW_VIEW)
    async def on_window_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        values = modals.read_values(view)
        meta = unpack(view.get("private_metadata"))
        council, dep = meta.get("c", ""), meta.get("d", "")
        c = rt.live.assistant.knowledge.councils.get(council)
        known = c is not None and (dep == edit.WINDOW or dep in c.departments)
        name = "" if not known else c.window.name if dep == edit.WINDOW else c.departments[dep].contact.name
        errors = {} if known else {"phone": "この窓口は知識にありません（App Home から開き直してください）"}
        for f, check in (("phone", phone_problem), ("url", url_problem)):
            message = check(values[f]) if values.get(f) else None
            if message:
                errors[f] = say(Problem("", 1, f, message))[:150]
        if not await saving(ack, body, errors=errors):
            return

        def retry(lines: list[str]) -> dict[str, Any]:
            return modals.window_modal(metadata=view.get("private_metadata", ""), name=name, contact=values, errors=lines)

        rt.spawn(finish(client, body, lambda root: [edit.set_window(
            root, council, dep, {f: values.get(f) for f in edit.WINDOW_FIELDS})], retry, "窓口を更新しました"))
