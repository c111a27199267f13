"""Hypothesis strategies shared by the property tests: generated valid maps (every node
kind but hand-off, loops allowed; bench/gen.py's random_map, picked by draws), and the
words and groups the tests vote with."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

from bench import gen

# ---------------------------------------------------------------- the valid-map generator

# Valid maps come from the project's one generator, bench/gen.py (random_map), each pick a
# Hypothesis draw so that failing examples shrink.
valid_maps = gen.map_strategy
WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
    min_size=1, max_size=30,
).map(str.strip).filter(bool)
TEXT = st.one_of(WORDS, st.sampled_from(gen.TRICKY_TEXT))
MEMBERS = st.lists(
    st.one_of(st.sampled_from(["Ana", "Ben", "Cy", "Dee", "Émile", "Ümit", "李", "O'Neil"]),
              WORDS),
    min_size=1, max_size=8, unique_by=str.strip,
)


def dump(m: dict[str, Any]) -> str:
    return yaml.safe_dump(m, sort_keys=False, allow_unicode=True)
