"""Two facilitators in Debian's Chromium: each gives a name in the field on their page; the
second presses "Close the vote" on a page the stream has not refreshed yet, and their page
comes back saying who closed it. A name half typed survives the page's refresh when the room
moves. Both views pass axe-core."""

from __future__ import annotations

import pytest
from browsing import WAIT, People, expect, press, shot, vote

pytestmark = pytest.mark.browser


def name_myself(page, name: str) -> None:
    """Type `name` into the field (or finish it) and save it."""
    page.get_by_label("Your name, shown to co-facilitators").fill(name)
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Your name, shown to co-facilitators")).to_have_value(name)


def test_the_second_facilitator_is_told_who_closed_the_vote(browser, starter, tmp_path):
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_sync.Axe()
    srv = starter(f"sqlite:///{tmp_path / 'n.sqlite3'}", group=["Ana", "Cy"])
    people = People(browser)
    try:
        ben = people.page(srv.links.facilitator)
        # Zoë's page hears nothing from the room: as if she pressed before it refreshed
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(WAIT)
        people.contexts.append(ctx)
        ctx.route("**/events", lambda route: route.abort())
        zoe = ctx.new_page()
        zoe.goto(srv.links.facilitator)
        # Ben is halfway through his name when Ana joins and his page refreshes: he keeps
        # what he typed, and where
        field = ben.get_by_label("Your name, shown to co-facilitators")
        field.fill("Be")
        ana = people.page(srv.links.join, 390, 844)
        ana.get_by_label("Ana", exact=True).check()
        ana.get_by_role("button", name="This is me").click()
        expect(ben.locator('li[data-member="Ana"]')).not_to_contain_text("not joined")
        expect(field).to_have_value("Be")
        expect(field).to_be_focused()
        field.press_sequentially("n")
        name_myself(ben, "Ben")
        name_myself(zoe, "Zoë")
        press(ben, "Open the vote")
        vote(ana, "yes")
        zoe.reload()  # the open vote, with Ana's vote in
        shot(zoe, "names-1-field")
        press(ben, "Close the vote")
        with zoe.expect_navigation():
            zoe.get_by_role("button", name="Close the vote").click()
        expect(zoe.locator(".error")).to_have_text(
            "The vote was already closed by Ben; this page shows the room as it is now.")
        expect(zoe.get_by_role("button", name="Accept and go on")).to_be_visible()
        shot(zoe, "names-2-lost-race")
        found = {}
        for page, view in ((ben, "facilitator with a name"), (zoe, "lost race")):
            result = axe.run(page)
            assert result.response["passes"], f"axe-core did not run on {view}"
            found[view] = [f"{v['id']}: {v['help']}" for v in result.response["violations"]]
        assert not any(found.values()), found
        assert not people.troubles, people.troubles  # Ben's and Ana's pages
    finally:
        people.close()
