"""Boxes of panels: the geometry every part of the splitter shares, and reading order."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
Span = tuple[int, int]  # [start, end) of lines along one axis


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
    rows: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b[1], b[0])):
        if rows and b[1] < min(r[3] for r in rows[-1]):
            rows[-1].append(b)
        else:
            rows.append([b])
    return [b for row in rows for b in sorted(row, key=lambda b: (b[0], b[1]))]
