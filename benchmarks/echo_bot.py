"""The floor for `web_cost.py`: a bare LINE echo bot on Madoguchi's HTTP stack.

    python benchmarks/echo_bot.py --port 8001   # LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, LINE_API_ENDPOINT

The same stack as `python -m bot serve` (uvicorn with the proxy headers
middleware, httptools and uvloop when installed or h11 and asyncio as
`--http`/`--loop` say, Starlette, aiohttp to the Messaging API, one
keep-alive session), and nothing else: it checks X-Line-Signature, answers 200, and
replies to each text event with its own text. No outbox, no dedupe, no core:
what any bot on this stack pays per event.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


def create_app(secret: str, token: str, endpoint: str) -> Starlette:
    tasks: set[asyncio.Task] = set()
    session: aiohttp.ClientSession | None = None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def reply(token_: str, text: str) -> None:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession()
        body = json.dumps({"replyToken": token_, "messages": [{"type": "text", "text": text}]})
        async with session.post(f"{endpoint}/v2/bot/message/reply", data=body, headers=headers) as r:
            await r.read()

    async def webhook(request: Request) -> PlainTextResponse:
        raw = await request.body()
        digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest())
        if not hmac.compare_digest(digest, request.headers.get("x-line-signature", "").encode()):
            return PlainTextResponse("invalid signature", status_code=401)
        for event in json.loads(raw).get("events", ()):
            message = event.get("message") or {}
            if event.get("type") == "message" and message.get("type") == "text":
                task = asyncio.get_running_loop().create_task(reply(event["replyToken"], message["text"]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        return PlainTextResponse("OK")

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/line/{council}", webhook, methods=["POST"]),
                             Route("/healthz", healthz, methods=["GET"])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--http", choices=["auto", "httptools", "h11"], default="auto")
    ap.add_argument("--loop", choices=["auto", "uvloop", "asyncio"], default="auto")
    args = ap.parse_args()
    app = create_app(os.environ["LINE_CHANNEL_SECRET"], os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
                     os.environ["LINE_API_ENDPOINT"].rstrip("/"))
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", http=args.http, loop=args.loop)


if __name__ == "__main__":
    main()
