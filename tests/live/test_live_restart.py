"""A server restart in the middle of a vote, in Debian's Chromium: members vote, the
`decision-map serve` process is killed (SIGKILL, no goodbye), a later `serve --room` on the
same SQLite file and port takes over, and the members' open pages catch up over the event
stream by themselves (Last-Event-ID) with no vote lost; the walk then reaches its outcome.
Every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from browsing import claim, expect, press, vote
from conftest import free_port

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms: the longest any one wait may take (a restart included)
ROOT = Path(__file__).resolve().parents[2]
PICNIC = ROOT / "tests" / "fixtures" / "step" / "picnic.yaml"
GROUP = ("Ana", "Ben", "Cy")


def serve(exe: str, cwd: Path, port: int, *args: str) -> tuple[subprocess.Popen, list[str]]:
    """`decision-map serve ARGS --port PORT`, answering; its process and printed lines."""
    proc = subprocess.Popen([exe, "serve", *args, "--port", str(port)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    assert lines[0].startswith("Facilitator: "), lines
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            return proc, lines
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, "no answer"
            time.sleep(0.2)


def test_members_catch_up_after_the_server_is_killed_and_started_again(browser, exe,
                                                                        tmp_path):
    port, db = free_port(), f"sqlite:///{tmp_path / 'room.sqlite3'}"
    proc, lines = serve(exe, tmp_path, port, str(PICNIC), "--group", ", ".join(GROUP),
                        "--database", db)
    room = lines[0].split("/r/")[1].split("/")[0]
    contexts, troubles = [], []

    def page(url: str):
        ctx = browser.new_context(viewport={"width": 390, "height": 844})
        ctx.set_default_timeout(WAIT)
        contexts.append(ctx)
        p = ctx.new_page()
        p.on("dialog", lambda d: (troubles.append(f"dialog: {d.message}"), d.dismiss()))
        p.on("pageerror", lambda e: troubles.append(f"page error: {e}"))
        p.goto(url)
        return p

    try:
        fac = page(lines[0].split()[1])
        members = {}
        for name in GROUP:
            p = page(lines[2].split()[1])
            claim(p, name)
            members[name] = p
        press(fac, "Open the vote")
        vote(members["Ana"], "yes")
        vote(members["Ben"], "no")
        expect(fac.locator("[data-count]")).to_have_text("2")

        proc.send_signal(signal.SIGKILL)  # no shutdown: whatever was committed is all
        proc.wait(timeout=10)
        proc, again = serve(exe, tmp_path, port, "--room", room, "--database", db)
        # the facilitator's key is new; the members' pages were never touched
        fac.goto(again[0].split()[1])
        expect(fac.locator('li[data-member="Ana"]')).to_contain_text("Ana: voted")
        expect(fac.locator('li[data-member="Ben"]')).to_contain_text("Ben: voted")
        expect(fac.locator('li[data-member="Cy"]')).to_contain_text("not voted")
        vote(members["Cy"], "no")  # the form loaded before the restart still posts
        expect(members["Ana"].locator("[data-count]")).to_have_text("3")  # over the stream
        press(fac, "Close the vote")
        for p in members.values():  # each page follows by itself: no reload
            expect(p.locator(".sentence")).to_be_visible()
        expect(members["Ana"].locator(".sentence")).to_contain_text("no")
        press(fac, "Accept and go on")
        for p in [*members.values(), fac]:
            expect(p.locator("h1")).to_contain_text("No picnic this year")
        assert troubles == [], "\n".join(troubles)
    finally:
        for c in contexts:
            c.close()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)


def test_the_paused_views_and_the_new_link_pass_axe_core(browser, exe, tmp_path):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    shots = os.environ.get("DM_LIVE_SCREENSHOTS")
    port = free_port()
    proc, lines = serve(exe, tmp_path, port, str(PICNIC), "--group", "Ana, Ben",
                        "--database", f"sqlite:///{tmp_path / 'room.sqlite3'}")
    contexts, found = [], {}

    def page(url: str, width: int = 1280, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        ctx.set_default_timeout(WAIT)
        contexts.append(ctx)
        p = ctx.new_page()
        p.goto(url)
        return p

    def check(p, name: str) -> None:
        result = axe.run(p)
        assert result.response["passes"], f"axe-core did not run on {name}"
        found[name] = [f"{v['id']}: {v['help']}" for v in result.response["violations"]]
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            p.screenshot(path=str(Path(shots) / f"live-{name}.png"), full_page=True)

    try:
        fac = page(lines[0].split()[1])
        ana = page(lines[2].split()[1], 390, 844)
        ana.get_by_label("Ana", exact=True).check()
        ana.get_by_role("button", name="This is me").click()
        proj = page(lines[1].split()[1], 1920, 1080)
        press(fac, "Open the vote")
        press(fac, "Pause: continue at the next meeting")
        expect(ana.locator(".paused")).to_be_visible()  # over the stream
        expect(proj.locator(".paused")).to_be_visible()
        check(fac, "facilitator-paused")
        check(ana, "member-paused")
        check(proj, "projector-paused")
        press(fac, "Resume the meeting")
        expect(ana.locator("form.ballot")).to_be_visible()
        press(fac, "New facilitator link")
        expect(fac.locator("h1")).to_have_text("A new facilitator link")
        check(fac, "new-facilitator-link")
        assert not any(found.values()), found
    finally:
        for c in contexts:
            c.close()
        proc.terminate()
        proc.wait(timeout=15)
