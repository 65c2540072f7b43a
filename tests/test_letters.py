"""Printed panel letters: columns-first lettering is read from the pixels, rows-first kept."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from pmc_pipeline.subfigures.boxes import Box, reading_order
from pmc_pipeline.subfigures.letters import printed_order

PANEL = (220, 170)
GUTTER = 20


def _grid(
    rows: int, cols: int, printed: list[str] | None, *, dark: bool = False
) -> tuple[Image.Image, list[Box]]:
    """A rows x cols grid of simple shapes; ``printed[k]`` is drawn in the top-left corner of
    the k-th panel in rows-first order. Returns the grey figure and its boxes rows-first."""
    w, h = PANEL
    fig = Image.new("L", (cols * (w + GUTTER), rows * (h + GUTTER)), 255)
    draw = ImageDraw.Draw(fig)
    font = ImageFont.load_default(size=26)
    boxes: list[Box] = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = c * (w + GUTTER), r * (h + GUTTER)
            box = (x0, y0, x0 + w, y0 + h)
            ink = 255 if dark else 0
            if dark:
                draw.rectangle((x0, y0, x0 + w - 1, y0 + h - 1), fill=30)
            draw.ellipse((x0 + 60, y0 + 50, x0 + 180, y0 + 150), outline=ink, width=3)
            draw.rectangle((x0 + 90, y0 + 80, x0 + 150, y0 + 120), fill=128)
            if printed:
                draw.text((x0 + 6, y0 + 4), printed[len(boxes)], fill=ink, font=font)
            boxes.append(box)
    return fig, reading_order(boxes)


def test_columns_first_letters_give_the_column_order() -> None:
    fig, boxes = _grid(2, 2, ["A", "C", "B", "D"])
    assert printed_order(fig, boxes, ["A", "B", "C", "D"]) == [0, 2, 1, 3]


def test_columns_first_lower_case_white_on_dark() -> None:
    fig, boxes = _grid(2, 3, ["(a)", "(c)", "(e)", "(b)", "(d)", "(f)"], dark=True)
    labels = ["A", "B", "C", "D", "E", "F"]
    assert printed_order(fig, boxes, labels) == [0, 3, 1, 4, 2, 5]


def test_rows_first_letters_are_kept() -> None:
    for dark in (False, True):
        fig, boxes = _grid(2, 2, ["A", "B", "C", "D"], dark=dark)
        assert printed_order(fig, boxes, ["A", "B", "C", "D"]) is None


def test_one_row_and_unlettered_figures_are_kept() -> None:
    fig, boxes = _grid(1, 4, ["A", "C", "B", "D"])
    assert printed_order(fig, boxes, ["A", "B", "C", "D"]) is None
    fig, boxes = _grid(2, 2, None)
    assert printed_order(fig, boxes, ["A", "B", "C", "D"]) is None


def test_labels_that_are_not_single_letters_are_kept() -> None:
    fig, boxes = _grid(2, 2, ["A", "C", "B", "D"])
    assert printed_order(fig, boxes, ["A1", "A2", "B1", "B2"]) is None
