"""Reload the knowledge when its files change (`serve --watch`), by polling mtimes.

Polling needs nothing from the OS and works on bind mounts and network
shares, where change notifications are unreliable. A change is acted on only
once the folder has stayed the same for one more poll, so an editor saving
several files (or a `git pull`) causes one reload, not one per file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["snapshot", "KnowledgeWatcher"]

log = logging.getLogger("madoguchi.watch")
Snapshot = frozenset[tuple[str, int, int]]
PATTERNS = ("*.yaml", "*.yml")


def snapshot(root: Path) -> Snapshot:
    """(path, mtime_ns, size) of every YAML file under `root`."""
    out: set[tuple[str, int, int]] = set()
    for pattern in PATTERNS:
        for path in root.rglob(pattern):
            try:
                st = path.stat()
            except OSError:  # deleted between listing and stat
                continue
            out.add((str(path.relative_to(root)), st.st_mtime_ns, st.st_size))
    return frozenset(out)


class KnowledgeWatcher:
    """A daemon thread calling `reload()` after the files under `root` changed and settled."""

    def __init__(self, root: Path, reload: Callable[[], object], *, interval: float = 2.0) -> None:
        self.root = Path(root)
        self.interval = interval
        self._reload = reload
        self._stop = threading.Event()
        self._seen = snapshot(self.root)
        self.reloads = 0
        self._thread = threading.Thread(target=self._run, name="knowledge-watch", daemon=True)

    def start(self) -> KnowledgeWatcher:
        self._thread.start()
        log.info("watching %s for changes every %gs", self.root, self.interval)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        candidate: Snapshot | None = None
        while not self._stop.wait(self.interval):
            try:
                now = snapshot(self.root)
            except OSError:
                log.exception("cannot list %s", self.root)
                continue
            if now == self._seen:
                candidate = None
                continue
            if now != candidate:  # still changing: wait for one quiet poll
                candidate = now
                continue
            self._seen, candidate = now, None
            try:
                self._reload()
                self.reloads += 1
            except Exception:
                log.exception("reload after a file change failed")
