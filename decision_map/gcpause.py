"""Pause Python's cyclic garbage collector while a map is built or checked.

Loading allocates hundreds of thousands of small containers (YAML nodes, positions,
pydantic models, graph attributes) and almost no cyclic garbage, so the collector's
passes over the growing heap cost more than the loading itself (2.2 s against 1.0 s for
the 10,000-node map; bench/notes.md). Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collector passes inside; restored as it was (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
