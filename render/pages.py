"""A poster split into A4 pages: the whole picture at a size its text can be read.

Fitting the coalition map's path onto one A4 sheet shrinks its text to 1-2 pt. A poster
keeps the drawing at 100 % (the smallest text, edge labels, is 9 pt, over the 8 pt floor)
and cuts it into A4 tiles, top row first, each overlapping its neighbours by MARGIN
points so they can be taped together. Graphviz's own `page` attribute splits only
PostScript, so the single-page PDF Graphviz draws is cut with pypdf (pure Python, one
of the project's dependencies): every page shows the same drawing through a different A4 window.
"""

from __future__ import annotations

import io
import math

from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .draw import DEFAULT_LIMITS, DrawLimits, picture

A4 = (595.0, 842.0)  # points, portrait
MARGIN = 28.0  # points of overlap between neighbouring pages, to tape them together
MAX_PAGES = 64  # a poster larger than this many pages is refused (a summary is smaller)


class PosterTooBig(ValueError):
    """The drawing would take more than MAX_PAGES pages."""


def tiles(width: float, height: float, page: tuple[float, float] = A4,
          overlap: float = MARGIN) -> list[tuple[float, float, float, float]]:
    """The A4 windows (left, bottom, right, top) covering a width × height drawing, top
    row first, each overlapping the next by `overlap` points.

    >>> len(tiles(595, 842))
    1
    >>> len(tiles(1000, 842))
    2
    """
    step_x, step_y = page[0] - overlap, page[1] - overlap
    cols = max(1, math.ceil((width - overlap) / step_x))
    rows = max(1, math.ceil((height - overlap) / step_y))
    out = []
    for r in range(rows):
        top = height - r * step_y
        for c in range(cols):
            left = c * step_x
            out.append((left, top - page[1], left + page[0], top))
    return out


def split_pdf(pdf: bytes, page: tuple[float, float] = A4) -> bytes:
    """A one-page PDF cut into pages of `page` size (see tiles())."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    src = PdfReader(io.BytesIO(pdf)).pages[0]
    box = src.mediabox
    x0, y0 = float(box.left), float(box.bottom)
    windows = tiles(float(box.width), float(box.height), page)
    if len(windows) > MAX_PAGES:
        raise PosterTooBig(f"the picture would take {len(windows)} pages, more than "
                           f"{MAX_PAGES}: draw it --around a step, or with --focus")
    out = PdfWriter()
    for left, bottom, right, top in windows:
        p = out.add_page(src)
        rect = RectangleObject((x0 + left, y0 + bottom, x0 + right, y0 + top))
        p.mediabox = rect
        p.cropbox = rect
    buf = io.BytesIO()
    out.write(buf)
    return buf.getvalue()


def poster(dm: DecisionMap, trace: Trace | None = None, focus: bool | None = None,
           limits: DrawLimits = DEFAULT_LIMITS) -> bytes:
    """The map (and the path of `trace`) as a PDF of A4 pages, drawn at 100 %."""
    return split_pdf(picture(dm, trace, "pdf", focus, limits).data)
