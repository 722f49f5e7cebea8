"""The detector's densities: over a message's nearest on each side, so a side's size moves no margin."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.model import CrisisExample
from bot.safety.detector import DangerDetector, _density


def _reference(sims: list[float], tau: float, near: int) -> float:
    """τ·log of the mean of exp(cos/τ) over the `near` largest cosines, written out."""
    top = sorted(sims, reverse=True)[:near]
    return tau * math.log(sum(math.exp(s / tau) for s in top) / len(top))


@settings(max_examples=200, deadline=None)
@given(sims=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=1, max_size=120),
       near=st.integers(min_value=1, max_value=60), tau=st.sampled_from([0.005, 0.02, 0.1]))
def test_density_is_the_log_mean_exp_of_the_nearest(sims: list[float], near: int, tau: float) -> None:
    got = _density(np.asarray(sims, dtype=np.float64), tau, near)
    assert math.isclose(got, _reference(sims, tau, near), rel_tol=1e-9, abs_tol=1e-9)


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_ordinary_messages_far_from_the_message_move_no_margin() -> None:
    """More knowledge examples elsewhere (a council's new services) must not tip a message
    towards an alarm: with a mean over the whole side, every margin rose by τ·log N."""
    rng = np.random.default_rng(7)
    danger, ordinary = _unit(rng, 80), _unit(rng, 120)
    examples = [CrisisExample(f"d{i}", "danger", kind="suicide") for i in range(80)]
    message = _unit(rng, 1)[0]
    far = -np.tile(message, (5000, 1)) + 0.01 * _unit(rng, 5000)  # nowhere near the message
    far /= np.linalg.norm(far, axis=1, keepdims=True)
    small = DangerDetector(examples, danger, ordinary, near=50)
    large = DangerDetector(examples, danger, np.concatenate([ordinary, far.astype(np.float32)]), near=50)
    assert small.read(message).margin == large.read(message).margin
