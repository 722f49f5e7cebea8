"""When staff read handoffs: opening hours, and the next time someone will read a message.

MADOGUCHI_HANDOFF_HOURS, e.g. `mon-fri 08:30-17:15` or
`mon-fri 08:30-17:15, sat 09:00-12:00`, in Japan time. Public holidays are
not known here: on a holiday the resident is told the usual next time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["OpeningHours", "parse_hours", "when_read", "JST"]

JST = ZoneInfo("Asia/Tokyo")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = "月火水木金土日"
_PART = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class OpeningHours:
    spans: tuple[tuple[int, time, time], ...]  # (weekday, opens, closes)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(JST)
        return any(d == local.weekday() and o <= local.time() < c for d, o, c in self.spans)

    def next_open(self, at: datetime) -> datetime | None:
        """The next opening after `at` (None when no hours are set)."""
        local = at.astimezone(JST)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            starts = sorted(datetime.combine(day, o, JST) for d, o, _ in self.spans if d == day.weekday())
            for start in starts:
                if start > local:
                    return start
        return None


def parse_hours(spec: str) -> OpeningHours:
    """`mon-fri 08:30-17:15, sat 09:00-12:00` → spans; ValueError naming the part that is wrong."""
    spans = []
    for part in (p.strip().lower() for p in spec.split(",") if p.strip()):
        m = _PART.match(part)
        if not m:
            raise ValueError(f"opening hours {part!r}: expected e.g. 'mon-fri 08:30-17:15'")
        first, last = DAYS.index(m[1]), DAYS.index(m[2] or m[1])
        opens, closes = time(int(m[3]), int(m[4])), time(int(m[5]), int(m[6]))
        if closes <= opens or last < first:
            raise ValueError(f"opening hours {part!r}: closes before it opens")
        spans += [(d, opens, closes) for d in range(first, last + 1)]
    return OpeningHours(tuple(spans))


def when_read(hours: OpeningHours, at: datetime) -> str | None:
    """「12月7日（月）8時30分」 when `at` is outside the hours, else None."""
    if not hours.spans or hours.is_open(at):
        return None
    nxt = hours.next_open(at)
    if nxt is None:
        return None
    minute = f"{nxt.minute}分" if nxt.minute else ""
    return f"{nxt.month}月{nxt.day}日（{DAY_NAMES[nxt.weekday()]}）{nxt.hour}時{minute}"
