"""The lock files install on every Python 3.11 the project meets, not only the one pip-compile ran on.

pip-compile drops a dependency whose marker is false where it runs. Debian 12's own
Python (a council's server, and the stand-in base of scripts/docker-base) is 3.11.2,
the official image's 3.11.15: what a locked package needs on either must be locked.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+", re.M)


def _missing(lock: Path, python: str) -> list[str]:
    locked = {canonicalize_name(name) for name in PINNED.findall(lock.read_text(encoding="utf-8"))}
    env = {**default_environment(), "python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
    missing = []
    for name in sorted(locked):
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not in this environment (the dev venv holds every locked package)
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            if canonicalize_name(req.name) not in locked:
                missing.append(f"{name} needs {req} on Python {python}")
    return missing


@pytest.mark.parametrize("python", ["3.11.2", "3.11.15"])
@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_dependency_of_a_locked_package_is_locked(lock: str, python: str) -> None:
    assert _missing(ROOT / lock, python) == []
