"""A handout: a map as a printable agenda of one or two A4 pages, for organizers to
prepare with and to hand out in the room.

The questions come in the order a walk meets them (breadth first from the start), each
with its rule in words and where each answer leads; then the outcomes. Hand-offs are
named by the other map's title, not opened. Only members' words: labels and titles,
never ids or condition syntax.

PDF is written with fpdf2 (pure Python, kept up, installs from PyPI with the project):
an HTML-to-PDF step would need a browser (chromium's --print-to-pdf is not on every
machine or CI) or WeasyPrint's system libraries. The text is set at FONT_SIZES, largest
first, until it fits MAX_PAGES pages; never below 8 pt.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from decision_map.io.loader import DecisionMap
from decision_map.model.conditions import said_tests, words
from decision_map.model.format import (
    Check,
    ChoiceQuestion,
    Handoff,
    Info,
    NumberQuestion,
    Outcome,
    TextQuestion,
)
from decision_map.model.graph import edges_of, node_label
from decision_map.model.timing import in_words, minutes_left, own_minutes, timed
from decision_map.rules.table import rule_in_words

MAX_PAGES = 2
FONT_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0)  # points, tried in turn until the handout fits
ASK_WIDTH = 160  # characters of a question kept (then "…"): a handout is an agenda
SAY_WIDTH = 90  # characters of something read out kept
MARGIN = 12  # millimetres around an A4 page
LEADING = 1.25  # line height over font size
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@dataclass
class Entry:
    """One stop on the agenda: a question (numbered), something read out, a check."""

    kind: str
    text: str
    rule: str = ""
    leads: list[str] = field(default_factory=list)
    number: int = 0
    minutes: int = 0  # its `time` (a hand-off: its map's longest route); 0: none given


@dataclass
class Handout:
    title: str
    entries: list[Entry]
    outcomes: list[str]
    total: int | None = None  # minutes on the longest route; None: the map gives no times

    def total_line(self) -> str:
        """ "Likely to take up to 2 hours 30 minutes (the longest route)." or nothing."""
        if self.total is None:
            return ""
        return f"Likely to take up to {in_words(self.total)}, on the longest route."


def took(minutes: int) -> str:
    """A step's time as the agenda shows it: " (20 min)", or nothing."""
    return f" ({minutes} min)" if minutes else ""


def _cut(text: str, width: int = ASK_WIDTH) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= width else one[: width - 1].rsplit(" ", 1)[0] + "…"


def _order(dm: DecisionMap) -> list[str]:
    """Node ids breadth first from the start, then any the walk cannot reach."""
    nodes = dm.model.nodes
    seen, queue = [dm.model.start], [dm.model.start]
    while queue:
        node = nodes.get(queue.pop(0))
        for e in edges_of(node) if node is not None else []:
            if e.target in nodes and e.target not in seen:
                seen.append(e.target)
                queue.append(e.target)
    return seen + [n for n in nodes if n not in seen]


def build_handout(dm: DecisionMap) -> Handout:
    """The agenda of `dm` in members' words."""
    nodes = dm.model.nodes
    order = _order(dm)
    numbers: dict[str, int] = {}
    for nid in order:
        if isinstance(nodes[nid], (ChoiceQuestion, NumberQuestion, TextQuestion)):
            numbers[nid] = len(numbers) + 1

    def name(target: str) -> str:
        node = nodes.get(target)
        if target in numbers:
            return f"question {numbers[target]}"
        if isinstance(node, Outcome):
            return f"“{node.outcome}”"
        if isinstance(node, Handoff):
            link = dm.handoffs.get(target)
            title = link.loaded.model.title if link and link.loaded else node_label(node)
            return f"the “{title}” map"
        return f"“{_cut(node_label(node), 60)}”" if node is not None else target

    entries: list[Entry] = []
    for nid in order:
        node = nodes[nid]
        if isinstance(node, Outcome):
            continue
        leads: list[str] = []
        for e in edges_of(node):
            if e.kind == "choice" and isinstance(node, ChoiceQuestion):
                leads.append(f"“{node.choice_label(e.value)}” → {name(e.target)}")
            elif e.kind == "branch" and isinstance(node, NumberQuestion):
                i = e.key[1] if len(e.key) > 1 and isinstance(e.key[1], int) else None
                said = said_tests(node.branches[i].when, node) if i is not None else e.label
                leads.append(f"{said} → {name(e.target)}")
            elif e.kind == "when" and isinstance(node, Check):
                i = e.key[1] if len(e.key) > 1 and isinstance(e.key[1], int) else None
                route = node.check[i] if i is not None else None
                said = (route.say or words(route.when, nodes)) if route else e.label
                leads.append(f"if {said} → {name(e.target)}")
            elif e.kind == "return" and isinstance(node, Handoff):
                link = dm.handoffs.get(nid)
                out = link.loaded.model.nodes.get(e.value) if link and link.loaded else None
                leads.append(f"“{getattr(out, 'outcome', e.value)}” → {name(e.target)}")
            elif e.kind in ("status", "otherwise"):
                leads.append(f"{e.label} → {name(e.target)}")
        if nid in numbers:
            assert isinstance(node, (ChoiceQuestion, NumberQuestion, TextQuestion))
            entries.append(Entry("question", _cut(node.ask),
                                 rule_in_words(node, dm.model.defaults), leads, numbers[nid],
                                 own_minutes(dm, nid)))
        elif isinstance(node, Info):
            entries.append(Entry("info", _cut(node.say, SAY_WIDTH),
                                 minutes=own_minutes(dm, nid)))
        elif isinstance(node, Check):
            entries.append(Entry("check", _cut(node_label(node), 120), leads=leads))
        elif isinstance(node, Handoff):
            entries.append(Entry("handoff", name(nid)[0].upper() + name(nid)[1:],
                                 leads=leads, minutes=own_minutes(dm, nid)))
    outcomes = [n.outcome + took(own_minutes(dm, nid))
                for nid in order if isinstance(n := nodes[nid], Outcome)]
    total = minutes_left(dm).get(dm.model.start, 0) if timed(dm) else None
    return Handout(dm.model.title, entries, outcomes, total)


# ---------------------------------------------------------------- HTML

CSS = """
@page { size: A4; margin: 14mm; }
body { font: 10pt/1.35 Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 46rem; }
h1 { font-size: 16pt; margin: 0 0 .5rem; } h2 { font-size: 12pt; margin: 1rem 0 .3rem; }
ol.agenda { padding-left: 0; list-style: none; } .agenda li { margin: 0 0 .45rem;
break-inside: avoid; } .rule { color: #444; } .leads { color: #333; font-size: 9pt; }
.info, .check, .handoff { font-style: italic; color: #333; }
"""


def handout_html(dm: DecisionMap) -> str:
    """The handout as one self-contained HTML page (print it, or open it on a screen)."""
    h = build_handout(dm)
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(h.title)}: agenda</title><style>{CSS}</style></head><body>",
           f"<h1>{e(h.title)}</h1>",
           *([f'<p class="total">{e(h.total_line())}</p>'] if h.total_line() else []),
           "<h2>The questions, in order</h2>",
           '<ol class="agenda">']
    for x in h.entries:
        leads = f'<div class="leads">{e(" · ".join(x.leads))}</div>' if x.leads else ""
        if x.kind == "question":
            out.append(f"<li><b>{x.number}. {e(x.text)}</b>{e(took(x.minutes))} "
                       f'<span class="rule">{e(x.rule)}</span>{leads}</li>')
        else:
            prefix = {"info": "Read out: ", "check": "Decided from earlier answers: ",
                      "handoff": "Hand-off: "}[x.kind]
            out.append(f'<li class="{x.kind}">{e(prefix + x.text + took(x.minutes))}'
                       f"{leads}</li>")
    out += ["</ol>", "<h2>The outcomes</h2>", "<ul>"]
    out += [f"<li>{e(o)}</li>" for o in h.outcomes]
    out += ["</ul>", "</body></html>", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- PDF


def _latin(text: str) -> str:
    """Text for fpdf2's built-in Helvetica (Latin-1) when no Unicode font is found."""
    table = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-",
                           "…": "...", "→": "->", "·": "-"})
    return text.translate(table).encode("latin-1", "replace").decode("latin-1")


def _pdf(h: Handout, size: float):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    fonts = [Path(f) for f in FONT_FILES]
    if all(f.exists() for f in fonts):
        pdf.add_font("body", "", str(fonts[0]))
        pdf.add_font("body", "B", str(fonts[1]))
        family, fix = "body", str
    else:
        family, fix = "helvetica", _latin
    pdf.add_page()
    line = size * 0.3528 * LEADING  # points to millimetres, with leading

    def para(text: str, style: str = "", pt: float = size, indent: float = 0) -> None:
        pdf.set_font(family, style, pt)
        pdf.set_x(MARGIN + indent)
        pdf.multi_cell(0, pt * 0.3528 * LEADING, fix(text), new_x="LMARGIN", new_y="NEXT")

    para(h.title, "B", size + 5)
    if h.total_line():
        para(h.total_line())
    pdf.ln(line / 2)
    para("The questions, in order", "B", size + 2)
    for x in h.entries:
        if x.kind == "question":
            para(f"{x.number}. {x.text}{took(x.minutes)}", "B")
        else:
            prefix = {"info": "Read out: ", "check": "Decided from earlier answers: ",
                      "handoff": "Hand-off: "}[x.kind]
            para(prefix + x.text + took(x.minutes))
        below = " — ".join(t for t in (x.rule, " · ".join(x.leads)) if t)
        if below:  # the rule and where each answer leads, on one paragraph
            para(below, indent=4)
        pdf.ln(line / 6)
    pdf.ln(line / 2)
    para("The outcomes", "B", size + 2)
    for o in h.outcomes:
        para(f"• {o}", indent=2)
    return pdf


def handout_pdf(dm: DecisionMap) -> bytes:
    """The handout as PDF: at the largest of FONT_SIZES that fits MAX_PAGES A4 pages
    (the smallest when none does)."""
    h = build_handout(dm)
    pdf = None
    for size in FONT_SIZES:
        pdf = _pdf(h, size)
        if pdf.pages_count <= MAX_PAGES:
            break
    assert pdf is not None
    return bytes(pdf.output())
