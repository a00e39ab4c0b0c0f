"""Building millions of plain objects without paying the cyclic garbage collector for them."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the block builds a large dataset.

    Rows are dicts, tuples and lists that form no cycles: reference counting frees them,
    and the cyclic collector would only walk them, again and again. A full collection
    walks every object alive and runs whenever those have grown by a quarter, so building
    N rows with it on costs O(N log N) walking: 12 % of ``seeds check`` at x100 (2.7 million
    rows), more at every larger scale. A nested use leaves the collector as the outer one
    found it; objects of the block that do form cycles are collected once it is over.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
