"""What the live room's Chromium tests share: a browser context per person with their
troubles (dialogs, page errors, console errors) collected, pressing a facilitator's button,
voting on a member's page, claiming a name, and screenshots when asked for. Every wait is
bounded by WAIT."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

WAIT = 15_000  # ms: the longest any one wait in these tests may take
SHOTS = os.environ.get("DM_LIVE_SCREENSHOTS")  # a folder to save the screenshots in
expect.set_options(timeout=WAIT)


class People:
    """One browser context per person, with their troubles collected."""

    def __init__(self, browser) -> None:
        self.browser, self.contexts, self.troubles = browser, [], []

    def page(self, url: str, width: int = 1280, height: int = 900):
        ctx = self.browser.new_context(viewport={"width": width, "height": height})
        ctx.set_default_timeout(WAIT)
        self.contexts.append(ctx)
        p = ctx.new_page()
        p.on("dialog", lambda d: (self.troubles.append(f"dialog: {d.message}"), d.dismiss()))
        p.on("pageerror", lambda e: self.troubles.append(f"page error: {e}"))
        p.on("console", lambda m: m.type == "error" and self.troubles.append(
            f"console: {m.text}"))
        p.goto(url)
        return p

    def close(self) -> None:
        for c in self.contexts:
            c.close()


def shot(page, name: str) -> None:
    """Save the page as NAME.png in $DM_LIVE_SCREENSHOTS, when it is set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def press(fac, label: str) -> None:
    """Press a button that posts its form, and check the page it leads to shows no error."""
    with fac.expect_navigation():
        fac.get_by_role("button", name=label).click()
    errors = fac.locator(".error").all_inner_texts()
    assert not errors, f"{label}: {errors}"


def vote(page, value: str | None = None, *, text: str | None = None,
         reason: str | None = None) -> None:
    """Vote on the member's page once the form is there (it arrives over the stream)."""
    form = page.locator("form.ballot")
    expect(form).to_be_visible()
    if value is not None:
        form.locator(f'input[name="value"][value="{value}"]').check()
    if text is not None:
        form.locator('textarea[name="text"]').fill(text)
    if reason is not None:
        form.locator('textarea[name="reason"]').fill(reason)
    form.get_by_role("button").click()
    expect(page.locator(".voted")).to_be_visible()


def claim(page, name: str) -> None:
    """On the join page, say which name on the roster is me, and see my page say so."""
    page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="This is me").click()
    expect(page.locator(".who")).to_contain_text(name)
