"""Where a Slack reply goes: a thread (mention, DM, button in a message) or the
slash command's response_url (ephemeral), behind one small interface."""

from __future__ import annotations

from typing import Protocol

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["Reply", "ThreadReply", "EphemeralReply"]


class Reply(Protocol):
    async def send(self, text: str, blocks: list[dict]) -> None:
        """The answer, where the asker reads it."""
        ...

    async def private(self, text: str, blocks: list[dict]) -> None:
        """Only for the asker (a refusal in a shared channel)."""
        ...


class ThreadReply:
    """A reply in the thread of the message that asked (channel mention or DM)."""

    def __init__(self, client: AsyncWebClient, *, channel: str, thread_ts: str | None, user: str | None) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.user = user

    async def send(self, text: str, blocks: list[dict]) -> None:
        await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks, unfurl_links=False
        )

    async def private(self, text: str, blocks: list[dict]) -> None:
        if self.channel.startswith("D") or not self.user:  # a DM is private already
            await self.send(text, blocks)
            return
        await self.client.chat_postEphemeral(
            channel=self.channel, user=self.user, thread_ts=self.thread_ts, text=text, blocks=blocks
        )


class EphemeralReply:
    """The slash command's (or an ephemeral message's) response_url: only the asker sees it."""

    def __init__(self, respond: AsyncRespond) -> None:
        self.respond = respond

    async def send(self, text: str, blocks: list[dict]) -> None:
        await self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    async def private(self, text: str, blocks: list[dict]) -> None:
        await self.send(text, blocks)
