"""Letting a person know: an emergency answer raises an `Alert`, and sinks deliver it.

Channel-neutral on both sides: the LINE path builds an `Alert` after it has
answered an emergency and calls `raise_alert`; whichever sinks are installed
(Slack posts to the council's staff channel) deliver it in the background, so
the resident's reply never waits for them. The alert carries the council, the
kinds of danger, the time and the message masked — never the user id.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.answer import Answer
from bot.querylog.mask import mask_text

if TYPE_CHECKING:
    from adapters.runtime import Runtime

__all__ = ["Alert", "AlertSink", "alert_for", "raise_alert", "TEXT_MAX"]

log = logging.getLogger("madoguchi.alerts")
TEXT_MAX = 500


@dataclass(frozen=True, slots=True)
class Alert:
    council: str
    council_name: str
    kinds: tuple[str, ...]
    at: float
    text: str  # masked
    channel: str  # where the resident wrote: line, …


class AlertSink(Protocol):
    async def send(self, alert: Alert) -> bool:
        """Deliver `alert`; False when this sink is not configured for its council."""
        ...


def alert_for(answer: Answer, *, text: str, channel: str, at: float | None = None) -> Alert | None:
    """The alert for an emergency answer, or None for any other answer."""
    if answer.kind != "emergency":
        return None
    kinds = answer.danger.kinds if answer.danger is not None else ()
    masked = mask_text(text[: TEXT_MAX + 64])[:TEXT_MAX]
    return Alert(answer.council_id, answer.council_name, tuple(kinds), time.time() if at is None else at, masked,
                 channel)


def raise_alert(runtime: Runtime, alert: Alert) -> None:
    """Hand `alert` to every sink in the background; counted per council and outcome."""

    async def deliver(sink: AlertSink) -> None:
        try:
            sent = await sink.send(alert)
            result = "sent" if sent else "off"
        except Exception:
            log.exception("alert for %s not delivered", alert.council)
            result = "failed"
        runtime.metrics.inc("madoguchi_alerts_total", council=alert.council, result=result)

    for sink in runtime.alert_sinks:
        runtime.spawn(deliver(sink))
