"""What the stepper's pseudo-terminal tests share: the group they walk with, the prompts
they wait for, and one answer at a prompt."""

from __future__ import annotations

import pexpect

GROUP = "Ana, Ben, Cy"
ACCEPT = "accept and go on"
READY = "Enter when the room is ready"


def say(child: pexpect.spawn, pattern: str, reply: str) -> None:
    """Wait for `pattern` on the stepper's screen, then type `reply` and Enter."""
    child.expect(pattern)
    child.sendline(reply)
