"""Ballot modes and the projector's picture in Debian's Chromium: the facilitator chooses a
secret ballot on the page before opening the vote, five phones vote, the projector shows a
count and no name, and its picture is the map around the current step, legible at
1920 × 1080. Every wait is bounded; pages must raise no dialog and log no console error."""

from __future__ import annotations

import pytest
from browsing import People, claim, expect, press, shot, vote
from conftest import GROUP

pytestmark = pytest.mark.browser


def test_a_secret_ballot_in_the_browser_and_the_map_around_the_step(browser, live_server):
    from decision_map_render.around import MIN_PX, svg_size

    links = live_server.links
    people = People(browser)
    try:
        fac = people.page(links.facilitator)
        proj = people.page(links.projector, 1920, 1080)
        members = {}
        for name in GROUP:
            p = people.page(links.join, 390, 844)
            claim(p, name)
            members[name] = p

        # the projector's picture before any vote: the map around the first question
        img = proj.locator(".proj-map img")
        expect(img).to_be_visible()
        svg = proj.request.get(f"{live_server.base}/r/{links.room}/map.svg").body()
        assert b"Now: " in svg, "the projector should draw the map around the current step"
        assert svg_size(svg).text_px() >= MIN_PX
        assert proj.evaluate("document.querySelector('.proj-map img').naturalWidth") > 0

        found: dict[str, list[str]] = {}
        check = axe_checker(found)
        check(fac, "facilitator choosing the ballot")
        fac.get_by_label("Ballot").select_option("secret")
        press(fac, "Open the vote")
        expect(fac.locator(".mode")).to_contain_text("Secret ballot")
        for name in GROUP:
            expect(members[name].locator(".mode")).to_contain_text("does not protect against")
        for name, value in zip(GROUP, ("yes", "yes", "no", "yes", "abstain"), strict=True):
            vote(members[name], value)
        expect(members["Rosa"].locator(".voted")).to_contain_text("Your secret vote is in")
        members["Rosa"].get_by_text("What secret promises").click()
        check(members["Rosa"], "member under a secret ballot")
        expect(proj.locator("[data-count]")).to_have_text("5")
        expect(fac.locator('li[data-member="Tom"]')).to_contain_text("Tom: voted")
        shot(members["Rosa"], "live-member-secret")
        text = proj.locator("body").inner_text()
        assert "Secret ballot: no names are shown." in text
        assert not [n for n in GROUP if n in text], "the projector shows no names"
        press(fac, "Close the vote")
        expect(proj.locator(".sentence")).to_contain_text("3 of 4 cast votes")
        expect(proj.locator(".tally")).to_be_visible()
        assert not [n for n in GROUP if n in proj.locator("body").inner_text()]
        shot(fac, "live-facilitator-secret")
        check(proj, "projector at a secret close")
        check(fac, "facilitator at a secret close")
        press(fac, "Accept and go on")

        # the next step: the picture follows, the path so far folded into a list
        expect(proj.locator("#q")).to_have_attribute("data-question", "charter-shared-goal")
        expect(img).to_be_visible()
        proj.wait_for_function(
            "() => { const i = document.querySelector('.proj-map img');"
            " return i && i.complete && i.naturalWidth > 0; }")
        svg = proj.request.get(f"{live_server.base}/r/{links.room}/map.svg").body()
        assert b"The path so far:" in svg and svg_size(svg).text_px() >= MIN_PX
        shot(proj, "live-projector-step2")
        # the roster opened to latecomers: the join page takes a new name
        fac.get_by_text("Who is in the room").click()
        press(fac, "Let members add their name")
        late = people.page(links.join, 390, 844)
        expect(late.get_by_label("Not on the list? Add your name")).to_be_visible()
        check(late, "join with an open roster")
        assert not any(found.values()), found
        assert people.troubles == [], "\n".join(people.troubles)
    finally:
        people.close()


def axe_checker(found: dict[str, list[str]]):
    """Run axe-core on a page and keep what it finds under a name (skips without it)."""
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_sync.Axe()

    def check(page, name: str) -> None:
        result = axe.run(page)
        assert result.response["passes"], f"axe-core did not run on {name}"
        found[name] = [f"{v['id']}: {v['help']}" for v in result.response["violations"]]

    return check
