"""A small Prometheus text-format registry: counters, gauges and one histogram kind.

Enough for `/metrics` without a client library: labels are sorted tuples and
values live in plain dicts behind one lock (reloads and store threads count
too, not only the event loop). `standard_metrics` describes every series the
server exports and registers the gauges read at scrape time (knowledge size,
last reload, query log backlog).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.knowledge.live import LiveKnowledge

__all__ = ["Metrics", "BUCKETS", "standard_metrics", "DESCRIPTIONS"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._help: dict[str, tuple[str, str]] = {}
        self._gauges: dict[str, Callable[[], dict[Labels, float]]] = {}
        self._lock = threading.Lock()

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._counters[name][key] += value

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        i = bisect_left(BUCKETS, seconds)
        with self._lock:
            h = self._hist[name].setdefault(key, [0.0] * (len(BUCKETS) + 2))  # buckets…, +Inf count, sum
            for j in range(i, len(BUCKETS)):
                h[j] += 1
            h[-2] += 1
            h[-1] += seconds

    def gauge(self, name: str, read: Callable[[], dict[Labels, float]]) -> None:
        """A value computed when scraped (knowledge size, …)."""
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        """A counter's current value (0 when never counted): for tests and status pages."""
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        with self._lock:
            counters = {n: dict(v) for n, v in self._counters.items()}
            hist = {n: {k: list(h) for k, h in v.items()} for n, v in self._hist.items()}
        gauges: dict[str, dict[Labels, float]] = {}
        for name, read in list(self._gauges.items()):
            try:
                gauges[name] = read()
            except Exception:  # a broken gauge must not break the scrape
                gauges[name] = {}
        out: list[str] = []
        names = sorted(set(counters) | set(hist) | set(gauges) | set(self._help))
        for name in names:
            kind, text = self._help.get(name, ("untyped", ""))
            if text:
                out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")
            for labels, v in sorted(counters.get(name, {}).items()):
                out.append(f"{name}{_labels(labels)} {v:g}")
            for labels, v in sorted(gauges.get(name, {}).items()):
                out.append(f"{name}{_labels(labels)} {v:g}")
            for labels, h in sorted(hist.get(name, {}).items()):
                for b, count in zip(BUCKETS, h):
                    out.append(f"{name}_bucket{_labels(labels + (('le', f'{b:g}'),))} {count:g}")
                out.append(f"{name}_bucket{_labels(labels + (('le', '+Inf'),))} {h[-2]:g}")
                out.append(f"{name}_count{_labels(labels)} {h[-2]:g}")
                out.append(f"{name}_sum{_labels(labels)} {h[-1]:g}")
        return "\n".join(out) + "\n"


DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "madoguchi_requests_total": ("counter", "Webhook requests by channel and outcome."),
    "madoguchi_webhook_seconds": ("histogram", "Time to acknowledge a webhook request, by channel."),
    "madoguchi_answers_total": ("counter", "Answers by kind, council and channel."),
    "madoguchi_answer_seconds": ("histogram", "Time the core took to answer one message."),
    "madoguchi_answer_cpu_seconds_total": ("counter", "CPU time the core spent answering on its own thread "
                                           "(not the encoder's second thread), by channel."),
    "madoguchi_reloads_total": ("counter", "Knowledge reloads by result (ok|failed) and trigger."),
    "madoguchi_knowledge_last_reload_ok": ("gauge", "1 when the last reload succeeded, 0 when it failed."),
    "madoguchi_knowledge_loaded_timestamp_seconds": ("gauge", "When the knowledge being served was loaded."),
    "madoguchi_knowledge_councils": ("gauge", "Councils in the knowledge being served."),
    "madoguchi_knowledge_services": ("gauge", "Services in the knowledge being served, by council and audience."),
    "madoguchi_querylog_entries_total": ("counter", "Query log items by outcome (written|dropped|failed)."),
    "madoguchi_querylog_queued": ("gauge", "Query log items waiting to be written."),
    "madoguchi_dedupe_errors_total": ("counter", "Shared duplicate-event store errors (answered anyway)."),
    "madoguchi_background_tasks": ("gauge", "Replies still being sent in the background."),
    "madoguchi_storage_errors_total": ("counter", "Store failures (read-only or full data dir, database down) "
                                                  "by store; answers go on without it."),
}


def standard_metrics(metrics: Metrics, *, live: LiveKnowledge, querylog: Any = None, dedupe: Any = None,
                     background: set | None = None) -> None:
    """Describe the server's series and register the gauges read when /metrics is scraped."""
    for name, (kind, text) in DESCRIPTIONS.items():
        metrics.describe(name, kind, text)

    def services() -> dict[Labels, float]:
        counts: dict[Labels, float] = defaultdict(float)
        for s in live.assistant.knowledge.services.values():
            counts[(("audience", s.audience), ("council", s.council_id))] += 1
        return dict(counts)

    metrics.gauge("madoguchi_knowledge_services", services)
    metrics.gauge("madoguchi_knowledge_councils", lambda: {(): float(len(live.assistant.knowledge.councils))})
    metrics.gauge("madoguchi_knowledge_last_reload_ok", lambda: {(): 1.0 if live.last.ok else 0.0})
    metrics.gauge("madoguchi_knowledge_loaded_timestamp_seconds", lambda: {(): float(live.last_good.at)})
    stats = getattr(querylog, "stats", None)
    if stats is not None:
        def entries() -> dict[Labels, float]:
            s = stats()
            return {(("outcome", k),): float(s.get(k, 0)) for k in ("written", "dropped", "failed")}

        metrics.gauge("madoguchi_querylog_entries_total", entries)
        metrics.gauge("madoguchi_querylog_queued", lambda: {(): float(stats().get("queued", 0))})
    if dedupe is not None and hasattr(dedupe, "errors"):
        metrics.gauge("madoguchi_dedupe_errors_total", lambda: {(): float(dedupe.errors)})
    if background is not None:
        metrics.gauge("madoguchi_background_tasks", lambda: {(): float(len(background))})
