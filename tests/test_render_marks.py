"""Problems marked on their nodes (the preview page's picture): a red outline and the
codes in the box, named in SVG so a page can find them; nothing else changes."""

from __future__ import annotations

from pathlib import Path

from decision_map_render.draw import picture

from decision_map.io.loader import load_map

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "maps" / "coalition-formation.yaml"


def test_marked_nodes_are_outlined_with_their_codes_and_the_rest_is_as_before():
    dm = load_map(str(MAP))
    plain = picture(dm, None, "svg").data.decode()
    marked = picture(dm, None, "svg", marks={"existing-coalition": "DM101 DM103"}).data.decode()
    assert 'class="node problem"' not in plain and "DM101" not in plain
    assert marked.count('class="node problem"') == 1
    box = marked.split('class="node problem"', 1)[1].split("</g>\n</g>", 1)[0]
    assert 'stroke="#c5221f"' in box and 'stroke-width="3"' in box
    assert "Is there already a coalition" in box and "⚠ DM101 DM103" in box
    assert marked.count("<g id=\"node") == plain.count("<g id=\"node")


def test_a_mark_on_a_node_the_map_lacks_draws_nothing_more():
    dm = load_map(str(MAP))
    plain = picture(dm, None, "svg").data
    assert picture(dm, None, "svg", marks={"no-such-node": "DM101"}).data == plain
