"""Give the C heap's free pages back to the system after startup (glibc ``malloc_trim``).

Importing a service's dependencies allocates and frees a lot of scratch memory (bytecode being unmarshalled,
pydantic schemas being built); glibc keeps those freed pages mapped, about 10 MB of a service's idle RSS.
``malloc_trim(0)`` returns them. It runs once after startup and once after the first readiness check (which
builds the store's client on the cloud; ADR 0032). Elsewhere than glibc (musl, macOS) it is a no-op.
"""

from __future__ import annotations

import ctypes
import gc
import logging

log = logging.getLogger("workplace_roleplay.heap")


def release_free_memory() -> bool:
    """Collect garbage and return free heap pages to the system; False where there is no ``malloc_trim``."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
