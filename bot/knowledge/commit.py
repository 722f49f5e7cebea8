"""Commit staff edits when `knowledge/` is in a git repository, with the staff member as author.

History then answers "who changed this wording, and when" for every edit made
from Slack, and a bad edit is one `git revert` away. Outside a repository
nothing happens. Committer identity is fixed (the bot), so a server without
git configuration still commits.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ["commit_edit", "in_repository"]

COMMITTER = ("Madoguchi", "madoguchi@localhost")
_UNSAFE = re.compile(r"[<>\n\r\x00]")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)


def in_repository(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except (OSError, subprocess.TimeoutExpired):
        return False


def commit_edit(root: Path, paths: Sequence[str], *, author: str, author_id: str, message: str) -> str | None:
    """Commit `paths` (relative to `root`); the new commit id, or None when `root` is not in a repository."""
    if not in_repository(root):
        return None
    name = _UNSAFE.sub("", author).strip() or author_id
    email = f"{_UNSAFE.sub('', author_id) or 'staff'}@slack.invalid"
    _git(root, "add", "--", *paths)
    done = _git(root, "-c", f"user.name={COMMITTER[0]}", "-c", f"user.email={COMMITTER[1]}",
                "commit", "--quiet", "--no-verify", f"--author={name} <{email}>", "-m", message, "--", *paths)
    if done.returncode != 0:
        raise RuntimeError(f"git commit failed: {done.stderr.strip() or done.stdout.strip()}")
    return _git(root, "rev-parse", "HEAD").stdout.strip()
