"""Freed heap memory is given back to the system after a build (`bot.memory`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.memory import release_freed

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process: 80 MB of large blocks freed between live ones, as an index build leaves its
# temporary arrays. glibc keeps them resident until they are released.
SCRIPT = """
import os
from bot.memory import release_freed

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

start = rss()
big = b"x" * (30 << 20)
del big  # glibc now keeps blocks of up to 30 MB in its heap rather than mapping each apart
blocks, pins = [], []
for i in range(20):
    blocks.append(b"x" * (4 << 20))
    pins.append(b"y" * (4096 + i))  # live blocks between them (each made at run time), so they stay apart
del blocks
freed = rss()
released = release_freed()
print(freed - start, rss() - start, released)
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_freed_heap_pages_are_given_back() -> None:
    if not release_freed():
        pytest.skip("this C library has no malloc_trim")
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, check=True, capture_output=True, text=True)
    kept, after, released = out.stdout.split()
    assert released == "True"
    assert int(kept) >= 60, "the freed blocks should still be resident before the release"
    assert int(after) <= 20, (kept, after)
