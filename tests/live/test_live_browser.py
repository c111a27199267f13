"""The live room end to end in Debian's Chromium: a facilitator, a projector and five
members, each in their own browser context, walk the coalition map to an outcome with a
stand-aside, an objection with its reason, a vote again and a reload mid-vote. Every wait is
bounded; pages must raise no dialog and log no console error."""

from __future__ import annotations

import pytest
from browsing import People, claim, expect, press, shot, vote
from conftest import GROUP, PLAN

pytestmark = pytest.mark.browser


def step(fac, members: dict, votes: dict[str, dict], accept: bool = True,
         opened: bool = False) -> None:
    if not opened:
        press(fac, "Open the vote")
    for name, how in votes.items():
        vote(members[name], **how)
    expect(fac.locator("[data-count]")).to_have_text(str(len(votes)))
    press(fac, "Close the vote")
    for p in members.values():
        expect(p.locator(".sentence")).to_be_visible()
    if accept:
        press(fac, "Accept and go on")


def test_five_members_walk_the_coalition_map_to_an_outcome(browser, live_server):
    links = live_server.links
    people = People(browser)
    try:
        fac = people.page(links.facilitator)
        proj = people.page(links.projector, 1920, 1080)
        members = {}
        for name in GROUP:
            p = people.page(f"{live_server.base}/", 390, 844)
            p.get_by_label("The 6-character code on the screen").fill(links.code)
            p.get_by_role("button", name="Join").click()
            claim(p, name)
            members[name] = p
        expect(fac.locator(".members")).not_to_contain_text("not joined")

        # shared-goal, with a reload mid-vote that keeps identity and vote
        press(fac, "Open the vote")
        rosa = members["Rosa"]
        vote(rosa, "yes")
        shot(rosa, "live-member-phone")
        rosa.reload()
        expect(rosa.locator(".who")).to_contain_text("Rosa")
        expect(rosa.locator(".voted")).to_contain_text("yes")
        expect(rosa.locator('input[name="value"][value="yes"]')).to_be_checked()
        for name in GROUP[1:]:
            vote(members[name], "yes")
        expect(proj.locator("[data-count]")).to_have_text("5")
        expect(fac.locator('li[data-member="Dolores"]')).to_contain_text("Dolores: voted")
        shot(fac, "live-facilitator")
        press(fac, "Close the vote")
        expect(proj.locator(".sentence")).to_be_visible()
        expect(proj.locator(".proj-map img")).to_be_visible()
        shot(proj, "live-projector")
        press(fac, "Accept and go on")

        # on to red-lines: the plan's choice at each choice question, words at text ones
        for _ in range(30):
            key = fac.locator("#q").get_attribute("data-question")
            if key == "red-lines":
                break
            press(fac, "Open the vote")
            expect(members["Rosa"].locator("form.ballot")).to_be_visible()
            if members["Rosa"].locator("[data-one]").count():  # one types, the rest abstain
                votes = {n: {"value": "abstain"} for n in GROUP}
                votes["Rosa"] = {"text": "Clean air near the refinery by 2028"}
            elif members["Rosa"].locator('textarea[name="text"]').count():
                votes = {n: {"text": f"{n}: for clean air"} for n in GROUP}
            else:
                assert key in PLAN, f"the walk reached {key!r}, which the plan does not answer"
                votes = {n: {"value": PLAN[key]} for n in GROUP}
            step(fac, members, votes, opened=True)
        else:
            raise AssertionError("red-lines not reached within 30 questions")

        # red-lines, by consent: a stand-aside and an objection with its reason
        reason = "Not without our members' say <script>alert(1)</script>"
        votes = {"Rosa": {"value": "agree"}, "Malik": {"value": "agree"},
                 "Dolores": {"value": "agree"}, "Priya": {"value": "stand-aside"},
                 "Tom": {"value": "object", "reason": reason}}
        step(fac, members, votes, accept=False)
        expect(fac.locator(".members")).to_contain_text(reason)
        expect(members["Malik"].locator(".sentence")).to_contain_text("Tom")
        press(fac, "Vote again")
        votes["Tom"] = {"value": "agree"}
        step(fac, members, votes, accept=False, opened=True)  # voting again opens the vote
        expect(fac.locator("text=If you accept: This leads to the question")).to_be_visible()
        press(fac, "Accept and go on")

        assert fac.locator("#q").get_attribute("data-question") == "at-the-table"
        step(fac, members, {n: {"value": "no"} for n in GROUP})  # at-the-table
        # "not now" first asks what would reopen the question: one types it
        assert fac.locator("#q").get_attribute("data-question") == "what-would-reopen"
        words = {n: {"value": "abstain"} for n in GROUP}
        words["Rosa"] = {"text": "The tenants' union at the table; Rosa calls us in March"}
        step(fac, members, words)
        for p in [*members.values(), proj, fac]:
            expect(p.locator("h1")).to_contain_text("Not now")
        report = members["Tom"].get_by_role("link", name="Read the report")
        with members["Tom"].expect_navigation():
            report.click()
        expect(members["Tom"].locator("body")).to_contain_text("Not now")
        assert people.troubles == [], "\n".join(people.troubles)
    finally:
        people.close()


HOSTILE = '''id: hostile
title: "<script>alert('title')</script> map"
version: "1"
start: q
nodes:
  q:
    ask: "<script>alert('ask')</script> Shall we? \\"><img src=x onerror=alert('img')>"
    help: "[click](javascript:alert('link')) <a href=\\"javascript:alert(2)\\">x</a>"
    rule: consensus
    choices:
      yes: {next: done, label: "\\"><img src=x onerror=alert('label')>"}
      no: done
  done:
    outcome: "<script>alert('outcome')</script> done"
    verdict: done
'''


def test_a_hostile_map_raises_no_dialog_and_no_console_error(browser, starter, tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    srv = starter(f"sqlite:///{tmp_path / 'h.sqlite3'}", map_path=path, group=["Ana", "Ben"])
    people = People(browser)
    try:
        fac = people.page(srv.links.facilitator)
        proj = people.page(srv.links.projector, 1920, 1080)
        ana = people.page(srv.links.join, 390, 844)
        ana.get_by_label("Ana", exact=True).check()
        ana.get_by_role("button", name="This is me").click()
        press(fac, "Open the vote")
        vote(ana, "yes")
        expect(ana.locator("h1")).to_contain_text("<script>alert('ask')</script>")
        expect(ana.locator("form.ballot")).to_contain_text("<img src=x onerror=")
        press(fac, "Close the vote")
        expect(proj.locator(".sentence")).to_be_visible()
        press(fac, "Accept and go on")
        for p in (fac, proj, ana):
            expect(p.locator("h1")).to_contain_text("<script>alert('outcome')</script> done")
            assert p.locator("img[src=x]").count() == 0
        assert people.troubles == [], "\n".join(people.troubles)
    finally:
        people.close()


def test_a_phone_that_was_offline_catches_up_and_votes_by_keyboard(browser, starter,
                                                                   tmp_path):
    srv = starter(f"sqlite:///{tmp_path / 'k.sqlite3'}", group=["Ana", "Ben"])
    people = People(browser)
    try:
        fac = people.page(srv.links.facilitator)
        ana = people.page(srv.links.join, 390, 844)
        ana.get_by_label("Ana", exact=True).check()
        ana.get_by_role("button", name="This is me").click()
        expect(ana.locator(".wait")).to_be_visible()
        ana.context.set_offline(True)
        press(fac, "Open the vote")
        ana.wait_for_timeout(500)  # offline while the vote opens (a fixed, short pause)
        ana.context.set_offline(False)
        # the stream reconnects by itself and the page catches up
        expect(ana.locator("form.ballot")).to_be_visible()
        expect(ana.locator("#live")).to_contain_text("The vote is open")
        # keyboard only: Tab to the choices, arrows pick one, Enter sends the form
        ana.keyboard.press("Tab")
        for _ in range(10):
            if ana.evaluate("document.activeElement.name") == "value":
                break
            ana.keyboard.press("Tab")
        ana.keyboard.press("Space")
        ana.keyboard.press("ArrowDown")
        ana.keyboard.press("Enter")
        expect(ana.locator(".voted")).to_contain_text("no")
        assert [t for t in people.troubles if "ERR_INTERNET_DISCONNECTED" not in t] == [], \
            "\n".join(people.troubles)
    finally:
        people.close()


def test_every_view_passes_axe_core(browser, starter, tmp_path):
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_sync.Axe()
    srv = starter(f"sqlite:///{tmp_path / 'a.sqlite3'}", group=["Ana", "Ben"])
    people = People(browser)
    try:
        fac = people.page(srv.links.facilitator)
        proj = people.page(srv.links.projector, 1920, 1080)
        ana = people.page(f"{srv.base}/", 390, 844)
        found: dict[str, list[str]] = {}

        def check(page, name: str) -> None:
            result = axe.run(page)
            assert result.response["passes"], f"axe-core did not run on {name}"
            found[name] = [f"{v['id']}: {v['help']}" for v in result.response["violations"]]

        check(ana, "home")
        ana.get_by_label("The 6-character code on the screen").fill(srv.links.code)
        ana.get_by_role("button", name="Join").click()
        check(ana, "join")
        ana.get_by_label("Ana", exact=True).check()
        ana.get_by_role("button", name="This is me").click()
        press(fac, "Open the vote")
        expect(ana.locator("form.ballot")).to_be_visible()
        check(ana, "member voting")
        check(fac, "facilitator open")
        check(proj, "projector open")
        vote(ana, "yes")
        press(fac, "Close the vote")
        expect(ana.locator(".sentence")).to_be_visible()
        check(ana, "member closed")
        check(fac, "facilitator closed")
        check(proj, "projector closed")
        assert not any(found.values()), found
    finally:
        people.close()
