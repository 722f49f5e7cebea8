"""A small Prometheus text-format registry: counters, gauges and one histogram kind.

Enough for `/metrics` without a client library: labels are sorted tuples and
values live in plain dicts guarded by the event loop (single-threaded use).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable

__all__ = ["Metrics", "BUCKETS"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels)
    return "{" + body + "}"


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._help: dict[str, tuple[str, str]] = {}
        self._gauges: dict[str, Callable[[], dict[Labels, float]]] = {}

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self._counters[name][tuple(sorted(labels.items()))] += value

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        h = self._hist[name].setdefault(key, [0.0] * (len(BUCKETS) + 2))  # buckets…, +Inf count, sum
        i = bisect_left(BUCKETS, seconds)
        for j in range(i, len(BUCKETS)):
            h[j] += 1
        h[-2] += 1
        h[-1] += seconds

    def gauge(self, name: str, read: Callable[[], dict[Labels, float]]) -> None:
        """A value computed when scraped (knowledge size, …)."""
        self._gauges[name] = read

    def render(self) -> str:
        out: list[str] = []
        names = sorted(set(self._counters) | set(self._hist) | set(self._gauges) | set(self._help))
        for name in names:
            kind, text = self._help.get(name, ("untyped", ""))
            if text:
                out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")
            for labels, v in sorted(self._counters.get(name, {}).items()):
                out.append(f"{name}{_labels(labels)} {v:g}")
            if name in self._gauges:
                for labels, v in sorted(self._gauges[name]().items()):
                    out.append(f"{name}{_labels(labels)} {v:g}")
            for labels, h in sorted(self._hist.get(name, {}).items()):
                for b, count in zip(BUCKETS, h):
                    out.append(f"{name}_bucket{_labels(labels + (('le', f'{b:g}'),))} {count:g}")
                out.append(f"{name}_bucket{_labels(labels + (('le', '+Inf'),))} {h[-2]:g}")
                out.append(f"{name}_count{_labels(labels)} {h[-2]:g}")
                out.append(f"{name}_sum{_labels(labels)} {h[-1]:g}")
        return "\n".join(out) + "\n"
