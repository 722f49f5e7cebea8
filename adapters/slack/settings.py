"""The Slack settings file (MADOGUCHI_SLACK_SETTINGS): channel → council, admins, alert channels.

A small YAML file staff edit, not a secret, so it may live next to the
knowledge. It is read at start and again on `reload`; a broken file is
reported with file and line, and the previous settings stay in force.

```yaml
default_council: kiyose        # optional; MADOGUCHI_COUNCIL otherwise
channels:                      # Slack channel id → council id
  C0123ABCD: tomakomai
admins: [U0123ABCD]            # Slack user ids allowed to `reload` and to edit the knowledge
alerts:                        # optional: council id → staff channel told of each emergency
  tomakomai: C0456EFGH
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.problems import Problem
from bot.knowledge.yamlfile import read_yaml

__all__ = ["SlackSettings", "SettingsError", "load_settings"]

KEYS = {"default_council", "channels", "admins", "alerts"}


class SettingsError(ValueError):
    """The settings file is broken; carries every problem with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class SlackSettings:
    default_council: str | None = None
    channels: dict[str, str] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()
    alerts: dict[str, str] = field(default_factory=dict)  # council → channel; empty: alerts off
    path: Path | None = None


def load_settings(path: Path | None) -> SlackSettings:
    """Read `path` (None → empty settings); raise `SettingsError` on any problem."""
    if path is None:
        return SlackSettings()
    name = str(path)
    doc, problems = read_yaml(Path(path), display=name)
    if doc is None:
        raise SettingsError(problems)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise SettingsError([Problem(name, 1, "", "expected a mapping (default_council, channels, admins)")])
    for key in data:
        if key not in KEYS:
            problems.append(Problem(name, doc.line((key,)), str(key), f"unknown field (known: {', '.join(sorted(KEYS))})"))
    default = data.get("default_council")
    if default is not None and not isinstance(default, str):
        problems.append(Problem(name, doc.line(("default_council",)), "default_council", "expected a council id"))
    channels = data.get("channels") or {}
    if not isinstance(channels, dict):
        problems.append(Problem(name, doc.line(("channels",)), "channels", "expected channel id: council id"))
        channels = {}
    for ch, council in channels.items():
        if not isinstance(council, str):
            problems.append(Problem(name, doc.line(("channels", ch)), f"channels.{ch}", "expected a council id"))
    alerts = data.get("alerts") or {}
    if not isinstance(alerts, dict) or not all(isinstance(v, str) and v for v in alerts.values()):
        problems.append(Problem(name, doc.line(("alerts",)), "alerts", "expected council id: Slack channel id"))
        alerts = {}
    admins = data.get("admins") or []
    if not isinstance(admins, list) or not all(isinstance(a, str) for a in admins):
        problems.append(Problem(name, doc.line(("admins",)), "admins", "expected a list of Slack user ids"))
        admins = []
    if any(p.severity == "error" for p in problems):
        raise SettingsError(problems)
    return SlackSettings(
        default_council=default or None,
        channels={str(k): v for k, v in channels.items()},
        admins=frozenset(admins),
        alerts={str(k): v for k, v in alerts.items()},
        path=Path(path),
    )
