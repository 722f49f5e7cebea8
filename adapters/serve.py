"""`python -m bot serve`: run the ASGI app with uvicorn (registered as a bot command)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TextIO

__all__ = ["register", "build_runtime"]

log = logging.getLogger("madoguchi.serve")


def build_runtime(*, knowledge: Path | None = None, env=None):
    """Load the knowledge and read the environment into a `Runtime`."""
    from adapters.config import Config
    from adapters.runtime import Runtime
    from bot.live import LiveKnowledge

    live = LiveKnowledge(knowledge)
    config = Config.from_env(sorted(live.assistant.knowledge.councils), env, knowledge=knowledge)
    return Runtime(live=live, config=config)


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    import uvicorn

    from adapters.app import create_app

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    runtime = build_runtime(knowledge=args.knowledge)
    app = create_app(runtime)

    def on_hup(signum, frame) -> None:  # staff edited YAML: reload without a restart
        result = runtime.live.reload()
        log.info("reload %s (%d problems)", "ok" if result.ok else "failed", len(result.problems))

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, on_hup)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve LINE and Slack webhooks over HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_serve)
