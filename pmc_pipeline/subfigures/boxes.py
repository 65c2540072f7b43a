"""Boxes of panels: the geometry every part of the splitter shares, and reading order."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
Span = tuple[int, int]  # [start, end) of lines along one axis
TOUCH = 2  # px: boxes that overlap this little only meet (pieces cut at a seam, each
# rounded outward to whole figure pixels): no overlap that puts them in one row


def area(b: Box) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def reading_order(boxes: list[Box]) -> list[Box]:
    """Rows top to bottom, left to right within a row.

    A box joins the current row when its top lies above the bottom of every box in it, so
    a tall panel beside two stacked ones reads tall, upper, lower.
    """
    rows = groups([(b[1], b[3], b[0]) for b in boxes])
    return [boxes[i] for row in rows for i in row]


def groups(spans: list[tuple[int, int, int]], straddled: bool = False) -> list[list[int]]:
    """Indices of (start, end, other) spans grouped along one axis (rows, or columns): an
    item joins the current group when it starts before every member ends (by more than
    ``TOUCH``), or, ``straddled``, before any does (bands that no item straddles); groups
    sorted by start, members by the other axis."""
    out: list[list[int]] = []
    ends: list[int] = []
    last = max if straddled else min
    for i in sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][2])):
        if out and spans[i][0] < ends[-1] - TOUCH:
            out[-1].append(i)
            ends[-1] = last(ends[-1], spans[i][1])
        else:
            out.append([i])
            ends.append(spans[i][1])
    return [sorted(g, key=lambda i: (spans[i][2], spans[i][0])) for g in out]


def rows_first_sure(boxes: list[Box]) -> bool:
    """Whether the layout alone says the panels read rows-first: they part into bands one
    above another (no panel straddles the gap between two), each sure in turn; or, where no
    gap runs right across, into columns of one count each (a grid whose rows are a little
    out of line) or that read alike down or across (a tall panel at the left beside stacked
    ones). Columns of different counts with no band across them that read otherwise down
    than across (a tall panel at the right of stacked ones) are lettered down their columns
    as often as across: the order is then a guess."""
    if len(boxes) < 2:
        return True
    rows = _bands(boxes, 1)
    if len(rows) > 1:
        return all(rows_first_sure(band) for band in rows)
    columns = _bands(boxes, 0)
    # a grid cut column by column (its rows a little out of line), or no cut right across
    # either way (a pinwheel): rows-first, as ever
    if len(columns) < 2 or len({len(c) for c in columns}) == 1:
        return True
    down = [box for column in columns for box in reading_order(column)]
    return down == reading_order(boxes) and all(rows_first_sure(c) for c in columns)


def _bands(boxes: list[Box], axis: int) -> list[list[Box]]:
    """Boxes in bands along one axis (rows: 1, columns: 0) that no box straddles."""
    lo, hi = (1, 3) if axis == 1 else (0, 2)
    spans = [(b[lo], b[hi], b[1 - lo]) for b in boxes]  # start, end, start across
    return [[boxes[i] for i in band] for band in groups(spans, straddled=True)]
