"""Pausing Python's cyclic garbage collector while a snapshot is read and built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Objects pauses have handed to the oldest generation since collect_handed_off() last collected, and how many
# make a full collection worth its cost (0.5 s with a 100k-interface snapshot alive; a small one is ~10k objects).
_handed_off = 0
COLLECT_AFTER = 1_000_000


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading allocates millions of long-lived objects and no cycles worth collecting: the cyclic collector
    would rescan them over and over (most of load time on a 100k-interface estate). Usable as a decorator.

    On the way out, what was made during the pause goes straight to the oldest generation. Left young, the first
    allocation after the pause would scan all of it (0.9 s after reading L's JSON), and the middle generation
    would scan it again; in the oldest it waits for the next full collection, which still frees any cycle in it.
    Objects handed over this way do not count toward CPython's next full collection, so `load` calls
    `collect_handed_off` first: once a million objects have been handed over, snapshots dropped in a cycle
    (NetworkX graphs hold their own views) are freed before the next one is read.
    """
    global _handed_off
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:     # never unfreeze what someone else froze (e.g. before a fork)
                _handed_off += gc.get_count()[0]  # tracked objects made since the last young collection
                gc.freeze()                     # every generation into the permanent one, unscanned...
                gc.unfreeze()                   # ...and all of it back as the oldest
            gc.enable()


def collect_handed_off() -> bool:
    """Run a full collection once pauses have handed COLLECT_AFTER objects over since the last one; whether it
    ran. A process's first load, and loads of small snapshots, pay nothing."""
    global _handed_off
    if _handed_off < COLLECT_AFTER:
        return False
    _handed_off = 0
    gc.collect()
    return True
