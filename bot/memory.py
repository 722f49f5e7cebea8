"""Give the pages of memory a large build has freed back to the system.

Building an index allocates temporary arrays and tables that dwarf what it
keeps (at 100,000 services, arrays of tens of megabytes each). glibc keeps
freed heap memory for reuse and returns only the top of the heap; after the
first large array is freed it also raises its threshold for separate
mappings, so later large arrays land in the heap too. 80–115 MB stayed
resident after such a build, freed but never given back (a quarter of what
the process held for the index). `malloc_trim` hands those pages back, in
milliseconds. Where the C library has no `malloc_trim` (musl, macOS)
nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

__all__ = ["release_freed"]


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library this process already uses
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_freed() -> bool:
    """Return freed heap pages to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
