"""Pausing Python's cyclic garbage collector while a phase builds millions of small objects.

A round turns a pool of up to ~1.3M leads into as many pool leads, lead specs and outcomes
(tuples and dataclasses: containers the collector tracks). Every few thousand allocations the
collector runs, and its full passes walk every live object: a third of the round's Python time
at 200k leads, none of it finding garbage (those objects hold no cycles). Reference counting
still frees everything as usual; only cycles wait until the collector runs again.

The switch is process-wide (jobs may run in the web process): pauses nest and overlap across
threads, and the collector comes back when the last one ends, as it was before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
