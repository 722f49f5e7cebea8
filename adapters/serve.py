"""`python -m bot serve`: run the ASGI app with uvicorn (registered as a bot command).

HTTP is parsed by httptools and the event loop is uvloop when they are
installed (the `serve` extra; both in C: a bare echo bot on them takes about
0.7 times the CPU per request of one on h11 and asyncio), else by the
pure-Python h11 and asyncio, which serve the same way: `--http` and `--loop`
(MADOGUCHI_HTTP, MADOGUCHI_LOOP) choose.

Stores come from the environment: REDIS_URL → duplicate-event memory in
Redis, DATABASE_URL → query log and LINE outbox in PostgreSQL, else
process memory and SQLite in MADOGUCHI_DATA_DIR. Logs are JSON lines on stderr. Knowledge is
reloaded without a restart on SIGHUP and, with `--watch`, when its YAML files
change; a reload runs on its own thread, coalesced (`adapters.reloader`), and swaps
the knowledge only when it is entirely valid.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

__all__ = ["register", "build_runtime"]

log = logging.getLogger("madoguchi.serve")


def build_runtime(*, knowledge: Path | None = None, env: Mapping[str, str] | None = None, stores: bool = False):
    """Load the knowledge and read the environment into a `Runtime`.

    With `stores=True` (the server) the dedupe and query log are chosen from
    the environment too; otherwise they are in-memory defaults and no log.
    """
    from adapters.config import Config
    from adapters.metrics import standard_metrics
    from adapters.runtime import Runtime
    from bot.knowledge.live import LiveKnowledge

    e = os.environ if env is None else env
    if knowledge is None and e.get("MADOGUCHI_KNOWLEDGE"):
        knowledge = Path(e["MADOGUCHI_KNOWLEDGE"])
    live = LiveKnowledge(knowledge)
    if live.encoder.on:
        log.info("dense retrieval on: %s, %s encoder thread(s)", live.encoder.model,
                 getattr(live.encoder.encoder, "threads", "?"))
    else:
        log.warning("dense retrieval off, answering lexically only: %s", live.encoder.reason)
    config = Config.from_env(sorted(live.assistant.knowledge.councils), e, knowledge=knowledge)
    runtime = Runtime(live=live, config=config)
    if stores:
        from adapters.stores.choose import choose_outbox, choose_stores

        runtime.dedupe, runtime.querylog = choose_stores(config, problems=runtime.problems)
        try:
            runtime.outbox = choose_outbox(config)
        except Exception as exc:  # the database is down: the SQLite or in-memory outbox takes over
            runtime.storage_failed("outbox", exc)
        if config.redis_url:  # replicas share the conversation state
            from adapters.stores.conversation import Conversations
            from adapters.stores.expiring import RedisExpiring

            runtime.conversations = Conversations(RedisExpiring(config.redis_url, prefix="madoguchi:chat:"))
    standard_metrics(runtime.metrics, live=live, querylog=runtime.querylog, dedupe=runtime.dedupe,
                     background=runtime.background)
    for store in runtime.problems:
        runtime.metrics.inc("madoguchi_storage_errors_total", store=store)
    return runtime


def freeze_heap() -> None:
    """Keep the loaded knowledge out of the garbage collector's full scans.

    The indexes are hundreds of thousands of long-lived objects; a full
    collection walking them stalls every request for ~200 ms. Frozen objects
    are skipped; `Runtime.reload` unfreezes, collects the old knowledge and
    freezes again.
    """
    gc.collect()
    gc.freeze()


def _knowledge_root(runtime) -> Path:
    from bot.knowledge.loader import default_root

    return Path(runtime.live.root) if runtime.live.root else default_root()


async def _serve_async(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.app import create_app
    from adapters.logging import config_secrets

    runtime = build_runtime(knowledge=args.knowledge, stores=True)
    runtime.freeze_heap = True
    freeze_heap()
    args.redactor.add(*config_secrets(runtime.config))
    app = create_app(runtime, defer_channels=True)  # /healthz first, the SDKs' imports after
    loop = asyncio.get_running_loop()

    if hasattr(signal, "SIGHUP"):  # never on the event loop: building indexes takes a second
        loop.add_signal_handler(signal.SIGHUP, lambda: runtime.request_reload(via="sighup"))
    watcher = None
    if args.watch:
        from adapters.watch import KnowledgeWatcher

        watcher = KnowledgeWatcher(_knowledge_root(runtime), lambda: runtime.request_reload(via="watch").result(),
                                   interval=args.watch_interval).start()
    config = uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=args.access_log,
                            http=args.http, proxy_headers=True,
                            forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
                            timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    socket = None
    if args.slack_socket_mode:  # Slack over a WebSocket, on this same loop (adapters.slack.socket_mode)
        from adapters.slack.socket_mode import socket_mode_handler

        missing = [n for n, v in (("SLACK_APP_TOKEN", runtime.config.slack_app_token),
                                  ("SLACK_BOT_TOKEN", runtime.config.slack_bot_token)) if not v]
        if missing:
            log.error("--slack-socket-mode needs %s (see docs/slack.md)", " and ".join(missing))
            await runtime.close()
            return 2
        socket = socket_mode_handler(runtime)
        await socket.connect_async()
        log.info("Slack: connected in Socket Mode")
    log.info("serving on %s:%d (%s, %s)", args.host, args.port, _http_name(args.http),
             "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio",
             extra={"councils": sorted(runtime.live.assistant.knowledge.councils),
                    "line": sorted(runtime.config.line), "slack": bool(runtime.config.slack_bot_token)})
    # uvicorn restores these handlers after its graceful shutdown and re-raises the
    # signal it caught: make that a no-op, so the stores below are still closed
    # (query log written out) and `docker stop` ends with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: None)
    try:
        await server.serve()
    finally:
        if socket is not None:
            await socket.close_async()
        if watcher is not None:
            watcher.stop()
        await runtime.close()
    return 0


class _DropBoltTokenNotice(logging.Filter):
    """Drop bolt's "As you gave `client` as well, `token` will be unused." on every start.

    bolt reads SLACK_BOT_TOKEN from the environment even when it is given a
    client, and warns that the token is unused, although the client carries
    that very token: a warning at every start that no operator can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # Bolt is imported after /healthz answers; until then none of its notices can come.
        messages = sys.modules.get("slack_bolt.logger.messages")
        return messages is None or record.getMessage() != messages.warning_client_prioritized_and_token_skipped()


def _http_name(choice: str) -> str:
    """The HTTP parser uvicorn uses for `--http` ("auto": httptools when installed)."""
    if choice != "auto":
        return choice
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop for "uvloop", and for "auto" when it is installed; else asyncio's own."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise SystemExit("--loop uvloop: uvloop is not installed (pip install uvloop)") from None
        return None
    return uvloop.new_event_loop


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    from adapters.logging import setup

    args.redactor = setup(level=args.log_level.upper())
    quiet = _DropBoltTokenNotice()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    if args.http == "httptools" and _http_name("auto") != "httptools":
        raise SystemExit("--http httptools: httptools is not installed (pip install httptools)")
    with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
        return runner.run(_serve_async(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve LINE and Slack webhooks over HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--watch", action="store_true",
                   default=os.environ.get("MADOGUCHI_WATCH", "").lower() in ("1", "true", "yes"),
                   help="reload the knowledge when its YAML files change (polls modification times; "
                        "also MADOGUCHI_WATCH=1)")
    p.add_argument("--watch-interval", type=float, default=2.0, metavar="SECONDS")
    p.add_argument("--log-level", default=os.environ.get("MADOGUCHI_LOG_LEVEL", "info"),
                   choices=["debug", "info", "warning", "error"])
    p.add_argument("--slack-socket-mode", action="store_true",
                   help="receive Slack events over Socket Mode (SLACK_APP_TOKEN) instead of /slack/events")
    p.add_argument("--http", choices=["auto", "httptools", "h11"], default=os.environ.get("MADOGUCHI_HTTP", "auto"),
                   help="HTTP parser: httptools when installed (auto), or the pure-Python h11 (also MADOGUCHI_HTTP)")
    p.add_argument("--loop", choices=["auto", "uvloop", "asyncio"], default=os.environ.get("MADOGUCHI_LOOP", "auto"),
                   help="event loop: uvloop when installed (auto), or asyncio's own (also MADOGUCHI_LOOP)")
    p.add_argument("--no-access-log", dest="access_log", action="store_false",
                   help="do not log one line per HTTP request")
    p.set_defaults(func=_serve)
