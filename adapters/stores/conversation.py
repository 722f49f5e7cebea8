"""Per-user conversation state: what the bot last answered, no message text, ten minutes.

Enough for 「費用は？」 to mean the service just answered, for 「2」 to pick
the second choice, and for a handoff to know where it stands. The key is a
pseudonym (HMAC of the user id), the value a few ids; it expires on its own.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Literal

from adapters.stores.expiring import Expiring, MemoryExpiring

__all__ = ["ChatState", "Conversations", "TTL"]

log = logging.getLogger("madoguchi.stores")
TTL = 600.0  # seconds: about ten minutes
Step = Literal["", "consent", "question"]


@dataclass(frozen=True, slots=True)
class ChatState:
    service: str = ""  # the service answered last
    choices: tuple[str, ...] = ()  # ids of the choices offered last, in order (numbers pick from these)
    step: Step = ""  # a handoff asked for: "consent" awaits yes/no, "question" awaits the question


@dataclass(slots=True)
class Conversations:
    store: Expiring = field(default_factory=MemoryExpiring)
    ttl: float = TTL

    async def get(self, key: str) -> ChatState:
        """The state under `key`, or a fresh one (also when the store cannot be read)."""
        try:
            raw = await self.store.get(key)
            if raw is None:
                return ChatState()
            data = json.loads(raw)
            return ChatState(data.get("service", ""), tuple(data.get("choices", ())), data.get("step", ""))
        except Exception as e:  # a lost follow-up is better than a lost answer
            log.warning("conversation state unreadable (%s); starting afresh", type(e).__name__)
            return ChatState()

    async def put(self, key: str, state: ChatState) -> None:
        try:
            if state == ChatState():
                await self.store.delete(key)
            else:
                data = {"service": state.service, "choices": state.choices, "step": state.step}  # not asdict: a
                await self.store.put(key, json.dumps(data).encode(), ttl=self.ttl)  # deep copy on every turn
        except Exception as e:
            log.warning("conversation state not saved (%s)", type(e).__name__)
