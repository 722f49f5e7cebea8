"""Socket Mode: `python -m bot serve --slack-socket-mode`, for councils without a public URL.

Slack delivers events over a WebSocket the server opens with SLACK_APP_TOKEN
(`xapp-…`), so no inbound HTTPS is needed. The same listeners answer; the
server (adapters/serve.py) connects this handler and serves the HTTP app
(LINE, /healthz, /metrics) alongside it on the same loop.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.runtime import Runtime
from adapters.slack.app import build_slack_app
from adapters.slack.state import SlackState

__all__ = ["socket_mode_handler"]


def socket_mode_handler(runtime: Runtime, *, state: SlackState | None = None) -> AsyncSocketModeHandler:
    """A handler that connects with SLACK_APP_TOKEN through `config.slack_api` (apps.connections.open)."""
    app = build_slack_app(runtime, state=state, socket_mode=True)
    return AsyncSocketModeHandler(app, app_token=runtime.config.slack_app_token)
