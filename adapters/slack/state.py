"""What the Slack listeners share: the runtime and the (reloadable) Slack settings."""

from __future__ import annotations

import logging

from bot.knowledge.problems import Problem

from adapters.runtime import Runtime
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
