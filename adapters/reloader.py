"""Knowledge reloads on their own thread, coalesced: one runs, at most one more waits.

SIGHUP every half second, the file watcher and Slack's `reload` may all ask
at once. Reloads queued without bound on the thread pool that also ran
matching delayed answers by a minute. Here a request while a reload waits
joins that waiting reload (it will read the files as they are when it
starts, which is all any of the requests needed), and reloads never touch
the matching threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["Reloader"]

T = TypeVar("T")


class Reloader(Generic[T]):
    def __init__(self, run: Callable[[str], T]) -> None:
        self._run = run
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="knowledge-reload")
        self._lock = threading.Lock()
        self._waiting: Future[T] | None = None
        self.started = 0  # reloads actually run (requests coalesced into one count once)

    def request(self, via: str) -> Future[T]:
        """Ask for a reload; the future of the reload that will cover this request. Thread-safe."""
        with self._lock:
            if self._waiting is not None:
                return self._waiting
            self._waiting = self._executor.submit(self._one, via)
            return self._waiting

    def _one(self, via: str) -> T:
        with self._lock:
            self._waiting = None  # running now: the next request queues one more
            self.started += 1
        return self._run(via)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
