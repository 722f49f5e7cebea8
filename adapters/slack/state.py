"""What the Slack listeners share: the runtime, the (reloadable) Slack settings,
the emergency alerts raised, each user's App Home council and the recent edits."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from bot.knowledge.problems import Problem

from adapters.runtime import Runtime
from adapters.slack.alerts import AlertBook
from adapters.slack.routing import Route, choose
from adapters.slack.settings import SettingsError, SlackSettings, load_settings

__all__ = ["SlackState"]

log = logging.getLogger("madoguchi.slack")


class SlackState:
    """Settings are swapped whole on reload, like the knowledge: readers never see half a file."""

    def __init__(self, runtime: Runtime, *, settings: SlackSettings | None = None) -> None:
        self.runtime = runtime
        self.settings = settings or SlackSettings()
        self.settings_problems: tuple[Problem, ...] = ()
        self.alerts = AlertBook()
        self.home_council: dict[str, str] = {}  # user → the council their App Home shows
        self.edits: deque[str] = deque(maxlen=20)  # the latest writes, one line each (also in the audit log)
        self.edit_lock = asyncio.Lock()  # one knowledge edit at a time, from reading the file to the commit
        if settings is None:
            self.reload_settings()

    def reload_settings(self) -> tuple[Problem, ...]:
        """Re-read MADOGUCHI_SLACK_SETTINGS; on errors keep the previous settings."""
        try:
            self.settings = load_settings(self.runtime.config.slack_settings)
            self.settings_problems = ()
        except SettingsError as exc:
            self.settings_problems = tuple(exc.problems)
            log.error("Slack settings not applied:\n%s", exc)
        return self.settings_problems

    def route(self, text: str, *, channel: str | None) -> Route:
        return choose(
            text,
            channel=channel,
            knowledge=self.runtime.live.assistant.knowledge,
            settings=self.settings,
            default=self.runtime.config.default_council,
        )

    def is_admin(self, user: str | None) -> bool:
        return bool(user) and user in self.settings.admins

    def council_for(self, user: str | None) -> str | None:
        """The council a user's App Home shows: their pick, else the default, else the first."""
        known = self.runtime.live.assistant.knowledge.councils
        for candidate in (self.home_council.get(user or ""), self.settings.default_council,
                          self.runtime.config.default_council):
            if candidate in known:
                return candidate
        return min(known) if known else None
