"""Pausing Python's cyclic garbage collector while a snapshot is read and built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading allocates millions of long-lived objects and no cycles worth collecting: the cyclic collector
    would rescan them over and over (most of load time on a 100k-interface estate). Usable as a decorator.

    On the way out, what was made during the pause goes straight to the oldest generation. Left young, the first
    allocation after the pause would scan all of it (0.9 s after reading L's JSON), and the middle generation
    would scan it again; in the oldest it waits for the next full collection, which still frees any cycle in it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:     # never unfreeze what someone else froze (e.g. before a fork)
                gc.freeze()                     # every generation into the permanent one, unscanned...
                gc.unfreeze()                   # ...and all of it back as the oldest
            gc.enable()
