"""Pausing Python's cyclic garbage collector while a snapshot is read and built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading allocates millions of long-lived objects and no cycles worth collecting: the cyclic collector
    would rescan them over and over (most of load time on a 100k-interface estate). Usable as a decorator."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
