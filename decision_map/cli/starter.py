"""The small valid map `decision-map new` writes, for an author to start from."""

from __future__ import annotations

STARTER = """\
# yaml-language-server: $schema={schema}
id: {map_id}
title: A first decision map
version: "0.1"
description: Edit the questions, rules and outcomes; run `decision-map check` after each change.
start: shared-goal
defaults:
  rule: majority
nodes:
  shared-goal:
    ask: Do we share a goal that none of us can reach alone?
    choices:
      yes: go-ahead
      no: not-now
    otherwise: not-now        # a tie or no majority lands here
    help: A coalition forms around a goal bigger than what divides us.
  go-ahead:
    ask: Shall we plan a first joint action?
    rule: consensus
    choices:
      yes: first-action
      no: not-now
    on_block: shared-goal     # a block sends us back to the goal
    otherwise: not-now
    help: Consensus lets anyone stand aside or block, with a reason.
  first-action:
    outcome: Plan a first joint action
    verdict: act
    text: "{{{{ group | length }}}} people agreed to act together."
    next_steps:
      - Pick a date and a facilitator for the planning meeting.
  not-now:
    outcome: Not now
    verdict: not-now
    next_steps:
      - Write down what would make you ask again, and when.
"""


def starter_map(map_id: str, schema: str) -> str:
    """The starter text; `schema` is the path or URL of the JSON Schema for editors."""
    return STARTER.format(map_id=map_id, schema=schema)
