"""The load test at its small size (5 rooms x 5 members, each with a facilitator and a
projector, every one holding an event stream to a real `decision-map serve`): every vote the
server took is in the closed count, and nothing fails. No timing is asserted: the machine is
shared; `make bench-live-load` records the figures at full size."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the live room's extra is not installed")

from bench.live_load import run  # noqa: E402


def test_five_rooms_of_five_walk_three_questions_with_no_lost_vote_and_no_error():
    out = run(rooms=5, members=5, questions=3, max_seconds=240)
    assert out["error_count"] == 0, out["errors"]
    assert out["questions_done"] == 15 and out["votes"] == 75
    assert out["lost_votes"] == 0
    assert out["streams"] == 35 and out["streams_max_open"] == 35
    assert len(out["close_seen_ms"]) == 4 and out["close_seen_ms"]["p50"] is not None
