"""Staff replies to a resident, pushed on LINE and marked as from staff (see adapters.slack.handoff)."""

from __future__ import annotations

from adapters.line.client import LineClient
from adapters.line.flex import menu_item, text_message
from adapters.line.texts import T

__all__ = ["StaffRelay"]


class StaffRelay:
    def __init__(self, client: LineClient, *, council_name: str) -> None:
        self.client = client
        self.council_name = council_name

    async def staff_reply(self, user: str, text: str) -> None:
        message = text_message(T.from_staff.format(council=self.council_name, text=text))
        message["sender"] = {"name": T.staff_sender}  # LINE shows this name beside the message
        await self.client.push(user, [message])

    async def closed(self, user: str) -> None:
        await self.client.push(user, [text_message(T.closed, quick=[menu_item()])])
