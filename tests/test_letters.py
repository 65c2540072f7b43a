"""Printed panel letters: columns-first lettering is read from the pixels, rows-first kept;
a corner letter is read strictly, alone; the stored letter shapes are current."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pmc_pipeline.subfigures import glyphs
from pmc_pipeline.subfigures.boxes import Box, reading_order
from pmc_pipeline.subfigures.letters import (
    letter_marks,
    order_contradicted,
    printed_order,
    reads_as,
)

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


def test_letters_in_neither_order_contradict_the_pairing() -> None:
    """Letters printed neither rows-first nor columns-first (an irregular layout's own
    order): three corners read as other labels, each a different one, so no pairing by
    order is sure; rows-first lettering, one row, and misreadings (one letter read twice)
    do not contradict it."""
    labels = ["A", "B", "C", "D"]
    fig, boxes = _grid(2, 2, ["A", "C", "D", "B"])
    assert printed_order(fig, boxes, labels) is None
    assert order_contradicted(fig, boxes, labels)
    fig, boxes = _grid(2, 2, ["A", "B", "C", "D"])
    assert not order_contradicted(fig, boxes, labels)
    fig, boxes = _grid(1, 4, ["A", "C", "D", "B"])
    assert not order_contradicted(fig, boxes, labels)
    fig, boxes = _grid(2, 2, ["A", "D", "D", "B"])
    assert not order_contradicted(fig, boxes, labels)


def test_labels_that_are_not_single_letters_are_kept() -> None:
    fig, boxes = _grid(2, 2, ["A", "C", "B", "D"])
    assert printed_order(fig, boxes, ["A1", "A2", "B1", "B2"]) is None


def _corner(text: str, *, font: str | None = None, size: int = 24) -> Image.Image:
    """A 200 x 160 white panel with ``text`` in its top-left corner."""
    im = Image.new("L", (200, 160), 255)
    face = ImageFont.truetype(font, size) if font else ImageFont.load_default(size=size)
    ImageDraw.Draw(im).text((6, 4), text, fill=0, font=face)
    return im


@pytest.mark.parametrize("text", ["A", "(a)", "a.", "B"])
def test_a_lone_corner_letter_reads_as_its_label(text) -> None:
    reading = reads_as(_corner(text), (0, 0, 200, 160), ["A", "B", "C"])
    assert reading is not None and reading.label == text.strip("().").upper()
    assert reading.x >= 6 and reading.y >= 4 and 8 <= reading.height <= 30


@pytest.mark.parametrize("text", ["curcumin", "Cells", "6", "8"])
def test_letters_of_words_and_digits_do_not_read_as_labels(text) -> None:
    """The "c" of a legend word has neighbours; a tick digit matches a digit better than
    "b" or "B" (a strict reading must beat every letter and digit)."""
    assert reads_as(_corner(text), (0, 0, 200, 160), ["A", "B", "C"]) is None


def test_serif_letters_read_in_the_stored_serif_shapes() -> None:
    """A serif B read against one sans face alone read as A."""
    pytest.importorskip("matplotlib")
    serif = str(glyphs.matplotlib_fonts() / "STIXGeneral.ttf")
    reading = reads_as(_corner("B", font=serif, size=26), (0, 0, 200, 160), ["A", "B"])
    assert reading is not None and reading.label == "B"


@pytest.mark.parametrize(
    ("face", "text", "size"),
    [("DejaVuSerif-Bold.ttf", "(a)", 20), ("DejaVuSerif-Bold.ttf", "(a)", 14),
     ("DejaVuSerif.ttf", "B", 14)],
)  # fmt: skip
def test_slab_serif_letters_read_against_the_computer_modern_shapes(face, text, size) -> None:
    """DejaVu Serif (the benchmark's face, none of the stored ones) has slab serifs that
    neither STIX nor a sans face draws: its bold "a" and its "B" at 14 px read as nothing.
    Computer Modern's roman and bold shapes, stored beside them, read them."""
    pytest.importorskip("matplotlib")
    font = str(glyphs.matplotlib_fonts() / face)
    reading = reads_as(_corner(text, font=font, size=size), (0, 0, 200, 160), list("ABCDEFGH"))
    assert reading is not None and reading.label == text.strip("().").upper()


@pytest.mark.parametrize(
    ("face", "text", "size"),
    [("DejaVuSerif-Bold.ttf", "B", 20), ("DejaVuSerif-Bold.ttf", "(e)", 20),
     ("DejaVuSans-Bold.ttf", "D", 14)],
)  # fmt: skip
def test_a_bold_letter_whose_counters_blur_shut_reads_at_its_deepest_ink(face, text, size):
    """A bold letter's narrow counters fill with the grey of its antialiased edges at the
    usual ink level, so a "B" matches H about as well as B, and reads as nothing; its
    deepest ink alone opens them, and it reads."""
    pytest.importorskip("matplotlib")
    font = str(glyphs.matplotlib_fonts() / face)
    reading = reads_as(_corner(text, font=font, size=size), (0, 0, 200, 160), list("ABCDEFGH"))
    assert reading is not None and reading.label == text.strip("().").upper()


def test_letter_marks_count_letters_on_the_page_not_on_photographs() -> None:
    """A letter on the page is a mark; the same letter on a textured photograph is not (an
    arrowhead or a cell there may read as a letter too)."""
    rng = np.random.default_rng(0)
    im = Image.new("L", (400, 200), 255)
    im.paste(Image.fromarray(rng.integers(60, 200, (200, 200), dtype=np.uint8)), (200, 0))
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=24)
    draw.text((40, 80), "B", fill=0, font=font)
    draw.text((280, 80), "B", fill=0, font=font)
    marks = letter_marks(im, ["A", "B"], ground=255)
    assert [(m.x < 200) for m in marks] == [True]


def test_stored_letter_shapes_match_the_fonts() -> None:
    """``make glyphs`` output is current: every character in every face and stroke, the
    shape the font draws now (a pixel's rasterisation difference between releases aside)."""
    pytest.importorskip("matplotlib")
    fresh = glyphs.rendered(glyphs.matplotlib_fonts())
    for char in glyphs.CHARS:
        stored = glyphs.shapes(char)
        assert len(stored) == len(glyphs.FACES) * len(glyphs.STROKES)
    with np.load(glyphs.STORE) as data:
        stored = dict(data)
    assert stored.keys() == fresh.keys()
    for key, shape in fresh.items():
        old = stored[key]
        assert abs(old.shape[0] - shape.shape[0]) <= 1 and abs(old.shape[1] - shape.shape[1]) <= 1


def test_a_bold_letter_against_a_black_gutter_edge_reads() -> None:
    """A photograph's corner whose top and left edges are a black gutter left in the box,
    with a bold letter set close to it: the ground is the photograph (light), the gutter's
    edge is cleared, and the bold letter, filling its box as a blob would, holds counters."""
    im = Image.new("L", (200, 160), 190)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 199, 2), fill=0)
    draw.rectangle((0, 0, 2, 159), fill=0)
    draw.text((5, 4), "B", fill=0, font=ImageFont.load_default(size=18), stroke_width=1)
    reading = reads_as(im, (0, 0, 200, 160), ["A", "B", "C"])
    assert reading is not None and reading.label == "B"


def test_a_filled_blob_in_a_corner_reads_as_no_letter() -> None:
    im = Image.new("L", (200, 160), 255)
    ImageDraw.Draw(im).ellipse((8, 6, 24, 26), fill=0)
    assert reads_as(im, (0, 0, 200, 160), ["A", "B", "C", "D", "O"]) is None
