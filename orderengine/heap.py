"""Large transient buffers go back to the OS when freed, in every engine process.

glibc serves an allocation above its mmap threshold (128 KiB) with a mapping of its
own and unmaps it on free, but each such free raises the threshold to the freed size,
up to 32 MiB. From then on buffers of that size come from the heap, and the heap keeps
their pages after they are freed: a process's RSS holds the high-water mark of its
largest transient buffer, again and again. The simulator's journal compaction (a
pickle of the chain, 10-15 MB at 100 orders/s, and its base64) grew the simulator's RSS
by ~40 MB at the second compaction of a soak and kept it. A fixed threshold turns the
raise off, so those buffers are always mapped, and returned, on their own; a few
hundred more mmap calls a second at most, against memory that stays flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("orderengine.heap")

M_MMAP_THRESHOLD = -3  # glibc's malloc.h; setting it also disables the dynamic raise
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own default, held fixed


def map_large_buffers() -> bool:
    """Fix glibc's mmap threshold; False where the C library is not glibc (musl, macOS),
    whose allocators have no such raise to turn off."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1:
        log.warning("event=mallopt_refused option=M_MMAP_THRESHOLD")
        return False
    return True
