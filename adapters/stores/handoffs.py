"""Open handoffs to staff: which Slack thread belongs to which LINE user, while it is open.

The LINE user id is the one thing needed to push a staff reply back, and the
one thing that must not linger. It is kept only while a handoff is open,
inside a record encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under
MADOGUCHI_HANDOFF_KEY, and deleted at close; a record also expires on its
own after the configured number of days. The user→thread index holds only an
HMAC pseudonym of the user id, keyed by the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, replace

from cryptography.fernet import Fernet, InvalidToken

from adapters.stores.expiring import Expiring, MemoryExpiring

__all__ = ["Handoff", "Handoffs", "new_key"]


def new_key() -> str:
    """A fresh MADOGUCHI_HANDOFF_KEY (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


@dataclass(frozen=True, slots=True)
class Handoff:
    council: str
    channel: str  # the staff Slack channel
    thread: str  # the thread's ts
    user: str  # the LINE user id: decrypted in memory only
    opened: float
    expires: float
    claimed_by: str = ""  # the Slack user who pressed 担当します


class Handoffs:
    def __init__(self, key: str | bytes, *, days: float = 7.0, store: Expiring | None = None,
                 clock=time.time) -> None:
        self._fernet = Fernet(key)  # raises ValueError for a malformed key: fail at start, not at a resident
        self._mac_key = hashlib.sha256(b"madoguchi-handoff-user:" + (key if isinstance(key, bytes) else key.encode())).digest()
        self.days = days
        self.store = store or MemoryExpiring(clock=clock)
        self.clock = clock

    def _pseudonym(self, council: str, user: str) -> str:
        return hmac.new(self._mac_key, f"{council}:{user}".encode(), hashlib.sha256).hexdigest()[:32]

    async def _save(self, h: Handoff) -> None:
        ttl = h.expires - self.clock()
        if ttl <= 0:
            await self.close(h)
            return
        sealed = self._fernet.encrypt(json.dumps(asdict(h)).encode())
        await self.store.put(f"t:{h.channel}:{h.thread}", sealed, ttl=ttl)
        await self.store.put(f"u:{self._pseudonym(h.council, h.user)}", f"{h.channel} {h.thread}".encode(), ttl=ttl)

    async def open(self, *, council: str, user: str, channel: str, thread: str) -> Handoff:
        now = self.clock()
        h = Handoff(council, channel, thread, user, now, now + self.days * 86400)
        await self._save(h)
        return h

    async def by_thread(self, channel: str, thread: str) -> Handoff | None:
        sealed = await self.store.get(f"t:{channel}:{thread}")
        if sealed is None:
            return None
        try:
            h = Handoff(**json.loads(self._fernet.decrypt(sealed)))
        except (InvalidToken, ValueError, TypeError):  # another key, a damaged record: as good as closed
            return None
        return h if h.expires > self.clock() else None

    async def by_user(self, council: str, user: str) -> Handoff | None:
        ref = await self.store.get(f"u:{self._pseudonym(council, user)}")
        if ref is None:
            return None
        channel, _, thread = ref.decode().partition(" ")
        return await self.by_thread(channel, thread)

    async def claim(self, h: Handoff, staff: str) -> Handoff:
        claimed = replace(h, claimed_by=staff)
        await self._save(claimed)
        return claimed

    async def close(self, h: Handoff) -> None:
        """Forget the handoff, the user id with it."""
        await self.store.delete(f"t:{h.channel}:{h.thread}")
        await self.store.delete(f"u:{self._pseudonym(h.council, h.user)}")
