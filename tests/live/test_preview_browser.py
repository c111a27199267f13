"""`decision-map watch --preview` end to end: the real console script as a process on a
copy of a shipped map, its page in Debian's Chromium, real saves. A typo'd `next` shows
as a marked node and a located problem, a half-written save keeps the last good picture,
the fix clears them all. Every wait is bounded; the page must log no console error (a
CSP violation is one)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MAPS = ROOT / "maps"
# this interpreter's own console script first: another on PATH may be another checkout's
EXE = next((str(p) for p in [Path(sys.executable).parent / "decision-map"] if p.exists()),
           shutil.which("decision-map") or "decision-map")
WAIT = 10_000  # ms: the longest any one wait may take (the spec's figure is 1 s: bench)
START_S = 30.0  # seconds for the watch to print its preview address
SHOTS = os.environ.get("DM_LIVE_SCREENSHOTS")  # a folder to save the screenshots in
TYPO = ("      no: power-map\n", "      no: powr-map\n")  # at existing-coalition



def copy_maps(tmp_path: Path) -> Path:
    """The coalition map, the two maps it hands off to, and their scenarios."""
    (tmp_path / "scenarios").mkdir()
    for name in ("coalition-formation.yaml", "working-through-dissent.yaml",
                 "common-ground.yaml"):
        shutil.copy(MAPS / name, tmp_path / name)
        shutil.copy(MAPS / "scenarios" / name, tmp_path / "scenarios" / name)
    return tmp_path / "coalition-formation.yaml"


class Watch:
    """`decision-map watch --preview` as a process, its output collected by a thread."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {**os.environ, "NO_COLOR": "1", "DECISION_MAP_CACHE": str(cwd / "cache")}
        self.proc = subprocess.Popen([EXE, "watch", *args], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s: {self.lines}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise AssertionError("watch did not stop within 15 s of Ctrl-C") from None
        return self.proc.returncode


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_preview_marks_a_broken_next_keeps_the_picture_through_a_broken_save_and_clears(
        tmp_path, browser):
    map_file = copy_maps(tmp_path)
    good = map_file.read_text(encoding="utf-8")
    assert TYPO[0] in good, "the coalition map changed: pick another `next` to break"
    line = good[:good.index(TYPO[0])].count("\n") + 1
    watch = Watch(tmp_path, map_file.name, "--preview", "--port", str(free_port()))
    troubles: list[str] = []
    try:
        url = watch.wait_for(r"preview: (http://127\.0\.0\.1:\d+/)", START_S).group(1)
        watch.wait_for(r"= 0 error\(s\), 0 warning\(s\); \d+ of \d+ case\(s\) pass", START_S)
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        ctx.set_default_timeout(WAIT)
        page = ctx.new_page()
        page.on("pageerror", lambda e: troubles.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and troubles.append(
            f"console: {m.text}"))
        page.goto(url)
        problems, picture = page.locator("#problems"), page.locator("#picture")
        expect(problems).to_contain_text("No problems.")
        expect(picture.locator("svg")).to_have_count(1)
        expect(page.locator("#scenarios")).to_contain_text("case(s) pass; coverage")
        expect(page.locator("#scenarios li.fail")).to_have_count(0)
        expect(picture.locator(".node.problem")).to_have_count(0)

        # 1. a typo'd next: the problem listed, located, linked, and its node marked
        map_file.write_text(good.replace(*TYPO, 1), encoding="utf-8")
        saved = time.monotonic()
        item = problems.locator("li.problem.error", has_text="DM101").first
        expect(item).to_contain_text("next node 'powr-map' does not exist")
        marked = picture.locator(".node.problem", has_text="DM101")
        expect(marked.first).to_be_visible()
        seen = time.monotonic() - saved
        print(f"\npreview: the marked problem was on the page {seen:.2f} s after the save")
        expect(item).to_contain_text("marked on existing-coalition")
        where = item.locator("a.where")
        expect(where).to_have_text(f"{map_file.name}:{line}:11")
        href = where.get_attribute("href")
        assert href == f"vscode://file{os.path.realpath(map_file)}:{line}:11", href
        expect(marked.first).to_contain_text("Is there already a coalition")
        expect(page.locator("#scenarios")).to_contain_text("Not run: the map has")
        expect(page).to_have_title(re.compile(r"^\d+ error\(s\): "))
        shot(page, "preview-broken-next")

        # 2. a half-written save: its located error, the last good picture kept
        map_file.write_text(good[:good.index("nodes:")] + "nodes: [\n", encoding="utf-8")
        expect(problems.locator("li.problem.error", has_text="DM001")).to_have_count(1)
        expect(page.locator("#picture-note")).to_contain_text(
            "the picture is from the last save that did")
        expect(picture.locator("svg")).to_have_count(1)
        expect(marked.first).to_be_visible()
        shot(page, "preview-half-written")

        # 3. the fix: every problem and mark gone, the cases pass again
        map_file.write_text(good, encoding="utf-8")
        expect(problems).to_contain_text("No problems.")
        expect(picture.locator(".node.problem")).to_have_count(0)
        expect(page.locator("#picture-note")).to_have_text("")
        expect(page.locator("#scenarios")).to_contain_text("case(s) pass; coverage")
        expect(page.locator("#scenarios li.fail")).to_have_count(0)
        shot(page, "preview-fixed")
        assert not troubles, troubles
        ctx.close()
    finally:
        code = watch.stop()
    assert code == 0, watch.lines
    assert "stopped watching" in watch.lines, watch.lines
