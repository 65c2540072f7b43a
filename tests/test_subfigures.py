"""Subfigures: panel separation, sub-caption splitting, alignment, detector seam, panel rows."""

from __future__ import annotations

import hashlib
import io
import json
import random

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from pmc_pipeline.images import (
    ImageUnreadableError,
    dhash64,
    hash_thumbnail,
    normalise_image,
    phash64,
)
from pmc_pipeline.keys import InvalidKeyError
from pmc_pipeline.subfigures import (
    CaptionSplit,
    DetectorError,
    align,
    decide_split,
    load_detector,
    split_caption,
    split_figure,
    work,
)
from pmc_pipeline.subfigures.boxes import reading_order, rows_first_sure

# ---- synthetic figures ---------------------------------------------------------------------


def chart(w: int, h: int, seed: int) -> Image.Image:
    """A bar chart: axes, bars, tick labels, on white."""
    rng = random.Random(seed)
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.line([(30, 10), (30, h - 25), (w - 10, h - 25)], fill="black", width=2)
    n, font = 6, ImageFont.load_default(size=12)
    bw = (w - 50) // n
    for i in range(n):
        top = h - 25 - rng.randint(20, h - 50)
        d.rectangle([35 + i * bw + 4, top, 35 + (i + 1) * bw - 4, h - 26], fill=(80, 80, 200))
        d.text((35 + i * bw + 6, h - 20), f"g{i}", fill="black", font=font)
    return im


def photo(w: int, h: int, seed: int, base: int) -> Image.Image:
    """A smooth random texture around grey level ``base`` (a micrograph stand-in)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    a = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), np.int16)
    return Image.fromarray(np.clip(a // 2 + base, 0, 255).astype(np.uint8))


def grid(tiles: list[Image.Image], cols: int, gutter: int, colour: str) -> tuple[Image.Image, list]:
    """Tiles of one size in a grid; returns the figure and each panel's box: the tile less
    its white margin on white (no splitter can tell that from a gutter), the tile on black."""
    w, h = tiles[0].size
    rows = (len(tiles) + cols - 1) // cols
    fig = Image.new("RGB", (cols * w + (cols + 1) * gutter, rows * h + (rows + 1) * gutter), colour)
    boxes = []
    for k, tile in enumerate(tiles):
        x, y = gutter + (k % cols) * (w + gutter), gutter + (k // cols) * (h + gutter)
        fig.paste(tile, (x, y))
        x0, y0, x1, y1 = content_box(tile) if colour == "white" else (0, 0, w, h)
        boxes.append((x + x0, y + y0, x + x1, y + y1))
    return fig, boxes


def before_blots() -> list[str]:
    """The development families before western blots joined them: the generated figures
    the older tests were found on are drawn from these (a longer list draws others)."""
    from tests.fixtures.synthetic_figures import SINGLE_FAMILIES

    return [f for f in SINGLE_FAMILIES["dev"] if f != "western_blot"]


def dev_compound(seed: int, index: int, families: list[str] | None = None, today: bool = False):
    """A generated development compound as it was drawn before uneven columns joined the
    layouts (a longer list draws others), or from today's layouts when ``today``."""
    from tests.fixtures.synthetic_figures import LAYOUT_FAMILIES, _compound

    layouts = [f for f in LAYOUT_FAMILIES["dev"] if today or f != "uneven_columns"]
    return _compound("dev", seed, index, families, layouts)


def dev_single(seed: int, index: int):
    """A generated development single as it was drawn when its test was written."""
    from tests.fixtures.synthetic_figures import _single

    return _single("dev", seed, index, before_blots())


def generated_table() -> Image.Image:
    """A generated table whose rows are parted by gaps as wide as a panel gutter (found
    split in two on the development set): rows of a table are no panels."""

    fig = dev_single(11, 203)
    assert fig.family == "table_image"
    return fig.image.convert("RGB")


def content_box(tile: Image.Image) -> tuple[int, int, int, int]:
    """The tile less its white margin: no splitter can tell that margin from a gutter."""
    ink = np.asarray(tile.convert("L")) < 240
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def jpeg(img: Image.Image, quality: int = 85) -> Image.Image:
    """Round trip through JPEG, as every figure is stored: the splitter sees the noise."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def jpeg_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def assert_panels(found, truth, min_iou: float = 0.85) -> None:
    assert len(found) == len(truth), (found, truth)
    for f, t in zip(found, truth, strict=True):  # same order: reading order
        assert iou(f, t) >= min_iou, (f, t)


def assert_split_as_drawn(fig, boxes, labels, min_iou: float = 0.7) -> None:
    """A generated compound's accepted panels are its true panels (IoU 0.7, or
    ``min_iou``), each with its printed label."""
    assert_panels(boxes, [p.box for p in fig.panels], min_iou)
    assert labels == [p.label for p in fig.panels]


def naming(n: int) -> str:
    """A caption naming n panels, (A) to the nth letter."""
    return "Figure. " + " ".join(f"({chr(65 + k)}) Part {k}." for k in range(n))


def decided(img: Image.Image, n: int) -> list:
    """The accepted panels of a figure whose caption names n panels (none for n < 2); []
    when kept whole."""
    decision = decide_split(img.convert("L"), split_caption(naming(n)))
    return decision.boxes if decision.accepted else []


# ---- panel separation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gutter", "colour", "min_iou"),
    [(14, "white", 0.85), (14, "black", 0.85), (2, "white", 0.85), (3, "white", 0.85)],
)
def test_grid_of_charts_is_split_in_reading_order(gutter, colour, min_iou):
    fig, truth = grid([chart(220, 170, k) for k in range(6)], 3, gutter, colour)
    assert_panels(decided(jpeg(fig), 6), truth, min_iou)


def test_abutting_photographs_are_split_at_seams():
    fig, truth = grid([photo(200, 180, 1, 10), photo(200, 180, 2, 120)], 2, 0, "white")
    assert_panels(decided(jpeg(fig), 2), truth)


@pytest.mark.parametrize("line", ["white", "black"])
def test_photographs_split_at_a_thin_separator_line(line):
    fig, truth = grid([photo(200, 180, 3, 60), photo(200, 180, 4, 70)], 2, 1, line)
    assert_panels(decided(jpeg(fig), 2), truth)


def test_tall_panel_beside_two_stacked_reads_tall_upper_lower():
    fig = Image.new("RGB", (470, 400), "white")
    truth = []
    for tile, (x, y) in [
        (chart(220, 376, 1), (12, 12)),
        (chart(220, 182, 2), (244, 12)),
        (chart(220, 182, 3), (244, 206)),
    ]:
        fig.paste(tile, (x, y))
        x0, y0, x1, y1 = content_box(tile)
        truth.append((x + x0, y + y0, x + x1, y + y1))
    assert_panels(decided(jpeg(fig), 3), truth)


def test_single_chart_with_title_axis_label_and_legend_stays_whole():
    fig = Image.new("RGB", (420, 330), "white")
    fig.paste(chart(360, 240, 7), (40, 40))
    d = ImageDraw.Draw(fig)
    font = ImageFont.load_default(size=16)
    d.text((120, 8), "Title of the chart", fill="black", font=font)
    d.text((70, 300), "legend: blue bars = counts", fill="black", font=font)
    d.text((4, 150), "y", fill="black", font=font)
    assert decided(jpeg(fig), 2) == []  # even when its caption names two panels


def test_single_photograph_stays_whole():
    assert decided(jpeg(photo(400, 300, 5, 40)), 2) == []


def test_panel_letters_fold_into_their_panels():
    fig, truth = grid([chart(240, 180, k) for k in range(4)], 2, 40, "white")
    d = ImageDraw.Draw(fig)
    font = ImageFont.load_default(size=22)
    for k, (x, y, _, _) in enumerate(truth):
        d.text((x, y - 30), "ABCD"[k], fill="black", font=font)  # alone in the gutter row
    assert_panels(decided(jpeg(fig), 4), truth, min_iou=0.8)


def test_a_colour_bar_is_not_a_panel():
    fig = Image.new("RGB", (400, 300), "white")
    fig.paste(photo(300, 260, 6, 40), (10, 20))
    fig.paste(Image.linear_gradient("L").resize((16, 260)).convert("RGB"), (340, 20))
    assert decided(jpeg(fig), 2) == []


@pytest.mark.parametrize(
    "index", [22, 5, 113], ids=["heatmap-colour-bar", "bars-legend-outside", "lines-legend"]
)
def test_a_chart_is_not_split_from_its_own_legend_or_colour_bar(index):
    """Generated single charts (development set) that a caption naming two panels had split
    into the chart and its framed legend or labelled colour bar: a piece under 8% of the area of
    the largest is no panel of it."""

    fig = dev_single(5, index)
    assert fig.family in ("heatmap_colorbar", "grouped_bars_legend", "line_legend")
    assert decided(jpeg(fig.image.convert("RGB")), 2) == []


@pytest.mark.parametrize(
    ("index", "family", "n"),
    [(179, "microscopy", 2), (232, "histogram", 3)],
    ids=["grey-stretch-in-a-photograph", "grid-lines-on-a-grey-ground"],
)
def test_one_picture_is_not_cut_inside_when_a_caption_asks_for_panels(index, family, n):
    """Generated singles (development set) cut under captions naming n panels: a
    photograph filling its figure at a smooth mid-grey stretch (a figure's mid-grey ground
    is no page, so a wide cut there needs even pieces too), and a histogram at the grid
    lines of its grey plot area (alike on both sides: no seam between photographs)."""

    fig = dev_single(5, index)
    assert fig.family == family
    assert decided(jpeg(fig.image.convert("RGB")), n) == []


@pytest.mark.parametrize("index", [25, 43, 48])
def test_a_table_is_not_cut_between_its_rows_when_a_caption_asks_for_panels(index):
    """Generated tables (development set) that a caption naming two panels had cut between
    two rows: both pieces are lines of text whose column gaps stand at the same places,
    so they are rows of one table."""

    fig = dev_single(0, index)
    assert fig.family == "table_image"
    assert decided(jpeg(fig.image.convert("RGB")), 2) == []


@pytest.mark.parametrize(("index", "n"), [(63, 2), (128, 3), (128, 4), (266, 2), (266, 3)])
def test_a_blot_is_not_cut_between_its_strips_when_a_caption_asks_for_panels(index, n):
    """Generated western blots (development set) that a caption naming panels had cut
    between their strips: the strips either side of the cut span the same lanes, are
    about one depth and stand closer than a strip is deep, so they are one blot."""
    from tests.fixtures.synthetic_figures import _single

    fig = _single("dev", 0, index)
    assert fig.family == "western_blot"
    assert decided(jpeg(fig.image.convert("RGB")), n) == []


@pytest.mark.parametrize(
    ("index", "family"), [(130, "spanning"), (310, "column"), (472, "row"), (490, "spanning")]
)
def test_western_blots_are_panels(index, family):
    """A western blot is stacked strips under lines of +/- and beside protein names: its
    strips are filled bands many lines deep, which no line of text is, so it is a panel,
    not a block of labels. Compounds holding blots split into their true panels."""
    fig, decision, boxes, labels = _generated_split(index, blots=True)
    assert fig.family == family and "western_blot" in {p.kind for p in fig.panels}
    assert decision.reason == "accepted"
    assert_split_as_drawn(fig, boxes, labels)


def test_two_tables_of_their_own_columns_are_two_panels():
    """Two different tables stacked under a caption naming (A) and (B): their columns do
    not line up, so they stay two panels."""

    tables = [dev_single(0, i).image.convert("RGB") for i in (25, 48)]
    fig = Image.new("RGB", (max(t.width for t in tables), sum(t.height for t in tables) + 40))
    fig.paste("white", (0, 0, *fig.size))
    fig.paste(tables[0], (0, 0))
    fig.paste(tables[1], (0, tables[0].height + 40))
    assert len(decided(jpeg(fig), 2)) == 2


def test_two_tables_of_one_template_a_wide_gutter_apart_are_two_panels():
    """The same table twice, one over the other, 120 px apart, under a caption naming (A)
    and (B): their columns line up as rows of one table's do, but no table leaves a blank
    gap many lines deep between its rows (development seed 1, a spanning compound of such
    tables, had been refused as one table)."""

    table = dev_single(0, 25).image.convert("RGB")
    fig = Image.new("RGB", (table.width, 2 * table.height + 120), "white")
    fig.paste(table, (0, 0))
    fig.paste(table, (0, table.height + 120))
    truth = [(0, 0, table.width, table.height), (0, table.height + 120, *fig.size)]
    assert_panels(decided(jpeg(fig), 2), truth, 0.7)


def test_grey_image_modes_and_large_images_work():
    fig, truth = grid([chart(500, 400, k) for k in range(4)], 2, 20, "white")
    big = fig.resize((fig.width * 2, fig.height * 2))  # 2080 px: reduced before cutting
    truth2 = [tuple(2 * v for v in b) for b in truth]
    assert_panels(decided(jpeg(big).convert("L"), 4), truth2)


def test_a_real_heatmap_of_profiles_is_not_cut_between_its_rows(corpus_dir):
    """A real PCA plot over a heatmap of black and grey profile rows (PLOS ONE), under a
    caption naming (A) and (B): the gutter between them holds the letter B, and the cuts
    had split the heatmap between two rows instead. Those rows are long filled bands of
    one span and depth, close together: strips of one block, so the figure stays whole."""
    assert decided(Image.open(corpus_dir / "pone.0178565" / "g003.png"), 2) == []


def test_one_letter_read_down_the_columns_leaves_rows_first_unsure():
    """Three columns of blots lettered A-B, C, D-E down the columns (development seed 7):
    only A, D and E read, one moved panel too few to take the columns' order, and
    rows-first gave the middle column's panel C's label to D's. D reads where down the
    columns puts it, as no other letter reads in its own place: each panel takes the whole
    caption rather than another's sub-caption."""
    fig, decision, boxes, labels = _extracted_split(7, 97, today=True)
    assert fig.family == "uneven_columns" and fig.order == "columns"
    assert decision.accepted and len(boxes) == 5
    assert labels == [None] * 5


def _real_split(corpus_dir, article: str, file: str):
    """A real corpus figure split as the split stage sees it: extract's row (its real
    caption, its normalised image)."""
    from pmc_pipeline.config import Config
    from pmc_pipeline.errors import ErrorLog
    from pmc_pipeline.stages.extract import figure_rows

    folder = corpus_dir / article
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    source = {"pmcid": "PMC1", "version": 1, "pmid": None, "doi": None, "license_code": None}
    rows, _ = figure_rows(source, "article.nxml", files, Config(), ErrorLog("extract", 0))
    row = next(r for r in rows if r["file"] == file)
    return split_figure(row, row["image"])


def test_a_real_figure_lettered_down_its_columns_is_left_unaligned(corpus_dir):
    """eLife 46793 fig. 8: A and B down the left column, C to F down the right, whose
    letters stand in the gutter beside their panels, in no panel's corner. Only A and B
    read, too few to take the columns' order, and rows-first paired the right column's
    first two panels and B with the labels B, C, D. But B reads where down the columns
    puts it: the order is not sure, and each panel takes the whole caption."""
    result = _real_split(corpus_dir, "elife-46793-v1", "fig8.jpg")
    assert result.decision.accepted and len(result.rows) == 6
    assert [r["label"] for r in result.rows] == [None] * 6


def test_real_single_figures_are_not_split(corpus_dir):
    classes = json.loads((corpus_dir / "subfigures" / "figure_classes.json").read_text())
    for n in (0, 2):  # on wide gutters alone, or when the caption names two panels
        split = [p for p in classes["single"] if decided(Image.open(corpus_dir / p), n)]
        assert split == [], n


def test_real_compound_figures_are_split(corpus_dir):
    classes = json.loads((corpus_dir / "subfigures" / "figure_classes.json").read_text())
    found = {
        p: len(decided(Image.open(corpus_dir / p), v["panels_approx"]))
        for p, v in classes["compound"].items()
    }
    accepted = {p: n for p, n in found.items() if n}
    assert len(accepted) >= 0.5 * len(found), found


# ---- the splitter's fast paths give what the plain computations give ----------------------


def _plain_blank_level(sub, axis):
    """The blank-line rule written out with float means over every line."""
    light = sub.max(axis=axis)
    spread = light - sub.min(axis=axis)
    mean = sub.mean(axis=axis, dtype=np.float32)
    return (spread < 10) | ((spread < 40) & (light - mean < 2.0)), light


def _plain_longest_runs(mask, axis):
    lines = mask if axis == 1 else mask.T
    out = []
    for line in lines:
        best = run = 0
        for v in line:
            run = run + 1 if v else 0
            best = max(best, run)
        out.append(best)
    return np.array(out)


@pytest.mark.parametrize("seed", range(4))
def test_blank_lines_and_runs_match_plain_computation(seed):
    rng = np.random.default_rng(seed)
    base = rng.integers(200, 256, (60, 1), dtype=np.int16)  # pale lines, JPEG-like ripple
    sub = np.clip(base + rng.integers(-20, 6, (60, 80)), 0, 255).astype(np.uint8)
    sub[::7] = 255
    for row, dips in enumerate((1, 2, 3), start=1):  # means of light - 1, 2, 3: the boundary
        sub[row] = 250
        sub[row, : 8 * dips] = 240
    for axis in (0, 1):
        fast, plain = work._blank_level(sub, axis), _plain_blank_level(sub, axis)
        assert np.array_equal(fast[0], plain[0]) and np.array_equal(fast[1], plain[1])
    mask = rng.random((40, 70)) < 0.8
    for axis in (0, 1):
        longest = _plain_longest_runs(mask, axis).max()
        runs = work.Runs(mask)
        for length in (longest + 1, longest, longest - 3, 60, 5):  # asked in any order
            assert runs.has(length, axis) == (longest >= length)


def test_small_helpers_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    for value in (0, 10, 16, 17, 128, 238, 239, 255):
        expected = np.abs(a.astype(np.int16) - value) > 16
        assert np.array_equal(work.unlike(a, value, 16), expected)
    for n in (7, 8, 63, 64):
        values = rng.integers(0, 256, n).astype(np.uint8)
        assert work.median(values) == np.median(values)
        assert work.median(values / 7.0) == np.median(values / 7.0)
    mask = a > 100
    assert work.share(mask) == mask.mean()
    assert np.array_equal(work.share(mask, 0), mask.mean(axis=0))


# ---- captions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "labels"),
    [
        ("Effect of X. (A) Control cells. (B) Treated cells.", ["A", "B"]),
        ("Effect of X. A, Control cells. B, Treated cells.", ["A", "B"]),
        ("Effect of X. A. Control cells. B. Treated cells.", ["A", "B"]),
        ("Effect of X. A: Control cells. B: Treated cells.", ["A", "B"]),
        ("Effect of X. A) Control cells. B) Treated cells.", ["A", "B"]),
        ("Lesion. a Clear cells (200x). b Stained cells.", ["A", "B"]),
        ("Effect of X. (a–c) Control at days 1-3. (d) Treated.", ["A", "B", "C", "D"]),
        ("Effect of X. (A-C) Control. (D) Treated.", ["A", "B", "C", "D"]),
        ("Effect of X. (A and B) Control. (C, D) Treated.", ["A", "B", "C", "D"]),
        ("Figure 1A. Control cells. Figure 1B. Treated cells.", ["A", "B"]),
        ("Effect of X. Left: control cells. Right: treated cells.", ["LEFT", "RIGHT"]),
        ("Effect of X. Top: control cells. Bottom: treated cells.", ["TOP", "BOTTOM"]),
        ("Effect of X. (i) Control. (ii) Treated. (iii) Washed.", ["I", "II", "III"]),
        ("Effect of X. (A) Overview. (B1) Control. (B2) Treated.", ["A", "B1", "B2"]),
        ("Staining of normal (A), benign (B) and malignant (C) tissue.", ["A", "B", "C"]),
        ("Cells. (A) Control. (B) Treated. (D) Washed.", ["A", "B", "D"]),  # a gap: refused later
        # a unit past a gap, inside a sentence, is no label (generated captions: "(g)" had
        # made A-E and G, whose gap refused the whole figure)
        (
            "Mice. (a) Scan. (b) Counts. (c) Scores. (d) Stain. (e) Body weight (g) at day 7.",
            ["A", "B", "C", "D", "E"],
        ),
        (
            "Mice. a, Body weight (g) per group. b, Volume. c-d, Scores. e, Colonies.",
            ["A", "B", "C", "D", "E"],
        ),
        # ... and right after the sequence, inside a clause, where the panels open with
        # their labels (development seed 2 #26: "f, ..." then "body weight (g) in")
        (
            "Mice. a, Scan. b, Counts. c, Scores. d, Stain. e, Time. f, Body weight (g) in rats.",
            ["A", "B", "C", "D", "E", "F"],
        ),
        (
            "Mice. (A) Scan. (B) Counts. (C) Scores. (D) Stain. (E) Time. (F) Weight (g) in rats.",
            ["A", "B", "C", "D", "E", "F"],
        ),
        (
            "Mice. (a) Scan. (b) Counts. (c) Scores. (d) Stain. (e) Time. (f) Weight (g) in rats.",
            ["A", "B", "C", "D", "E", "F"],
        ),
        # a label before a lowercase word that looks like one ("p62") is still a label
        # (development seeds 3 #74 and 4 #234 had lost A-B and B)
        ("Mice. A, Cells. B, p62 expression in liver. C, TGF. D, mTOR.", ["A", "B", "C", "D"]),
        ("Mice. A-B, p62 expression. C, KRAS. D, Colonies (n) in muscle.", ["A", "B", "C", "D"]),
        ("Mice. a, p62 mRNA levels. b, Time course. c, Histogram.", ["A", "B", "C"]),
        # a last panel named in passing keeps its label (real captions: pbio.1001315,
        # PMC10335194, elife-04953)
        ("Mice. (A) Scan. (B) Counts. (C) Stain as in (D) and (E).", ["A", "B", "C", "D", "E"]),
        ("Mice. (A) Scan; (B) counts; (C) scores; and (D) comparison of X.", ["A", "B", "C", "D"]),
        # ... and labels all named in passing, or a list whose word comes first (real
        # captions of the panel annotation samples: PMC2766886, 1476-4598-2-34)
        (
            "Mass. A 65-year-old woman. CT (B) shows a mass. MRI (C) shows fat. MRI (D) confirms.",
            ["A", "B", "C", "D"],
        ),
        (
            "H&E. (A-D) shows BPH. Staining for CD34 (anti-CD34, E-H) at magnification * 200.",
            ["A", "B", "C", "D", "E", "F", "G", "H"],
        ),
        ("Mice. (A) Scan. (B) Counts. (C) Stain. The graph in (D) shows X.", ["A", "B", "C", "D"]),
    ],
)
def test_caption_label_forms(caption, labels):
    assert split_caption(caption).labels == labels


@pytest.mark.parametrize(
    "caption",
    [
        "A549 cells were treated with vitamin A for 2 h (A549 cells). *p < 0.05.",
        "Levels of vitamin A in plasma (n = 5). Values are means (SD); P < 0.05.",
        "Growth at 37 (C) of strain A and strain B, a dose of 5 mg.",
        "E. coli cells grown in LB. Bar, 10 um.",
        "A case with high-level infiltration and a case with low infiltration.",
        "Binding was measured as in (see Figure 2 (a)) with the (N) and (C) termini.",
    ],
)
def test_caption_false_labels_are_not_labels(caption):
    split = split_caption(caption)
    assert split.items == []
    assert split.preamble == split.caption


def test_sub_captions_are_preamble_plus_own_part():
    split = split_caption("Drug effects on cells. (A) Control cells. (B, C) Treated cells.")
    assert split.preamble == "Drug effects on cells."
    assert split.items == [
        ("A", "Drug effects on cells. Control cells."),
        ("B", "Drug effects on cells. Treated cells."),
        ("C", "Drug effects on cells. Treated cells."),
    ]


def test_a_sentence_opening_with_the_article_a_is_no_label():
    # real captions (PMC11471772, elife-46793, pbio.1001315): "A total of 12 axons ..." gave
    # its sentence to panel A, wherever it stood
    split = split_caption(
        "Axons. a Scan of axons. b Counts per mouse. A total of 12 axons were recorded."
    )
    assert dict(split.items) == {
        "A": "Axons. Scan of axons.",
        "B": "Axons. Counts per mouse. A total of 12 axons were recorded.",
    }


def test_postfix_labels_take_their_clause():
    split = split_caption("Patients with fever. Patient 6 (A), 16 years old; patient 7 (B), 9.")
    assert dict(split.items) == {
        "A": "Patients with fever. Patient 6, 16 years old",
        "B": "Patients with fever. patient 7, 9.",
    }


def test_markup_labels_are_trusted():
    caption = "Effect of X. A Control cells. B Treated cells with a marker."
    assert split_caption(caption, markup_labels=["A", "B"]).labels == ["A", "B"]
    assert split_caption(caption, markup_labels=["(A)", "B."]).items[1] == (
        "B",
        "Effect of X. Treated cells with a marker.",
    )


def test_caption_split_prostate_annotations_label_sets(corpus_dir):
    data = json.loads((corpus_dir / "subfigures/caption_split_prostate_sample.json").read_text())
    hits = sum(
        set(split_caption(e["caption"]).labels)
        == {s["label"]["text"].upper() for s in e["gt_subfigures"]}
        for e in data.values()
    )
    assert hits / len(data) >= 0.85


def test_caption_split_agrees_with_panelseg_labels(corpus_dir):
    """Printed labels of the NLM PanelSeg sample, compared case-insensitively."""
    data = json.loads((corpus_dir / "subfigures/panelseg_zou_sample.json").read_text())
    hits = sum(
        set(split_caption(e["caption"]).labels)
        == {s["label"]["text"].upper() for s in e["gt_subfigures"] if s.get("label")}
        for e in data.values()
    )
    print(f"panelseg label-set agreement: {hits}/{len(data)}")
    assert hits / len(data) >= 0.8


# ---- alignment -----------------------------------------------------------------------------


def test_align_pairs_in_order_when_counts_agree():
    split = split_caption("Cells. (A) Control. (B) Treated.")
    boxes = [(0, 0, 10, 10), (20, 0, 30, 10)]
    assert align(boxes, split) == [
        ((0, 0, 10, 10), "A", "Cells. Control.", True),
        ((20, 0, 30, 10), "B", "Cells. Treated.", True),
    ]


def test_align_gives_full_caption_when_counts_disagree():
    split = split_caption("Cells. (A) Control. (B) Treated.")
    boxes = [(0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10)]
    assert {(label, text, ok) for _, label, text, ok in align(boxes, split)} == {
        (None, split.caption, False)
    }
    assert align([], CaptionSplit("x", "x", [])) == []


# ---- detector seam -------------------------------------------------------------------------


def test_load_detector_none_is_the_classical_splitter():
    assert load_detector(None) is None


def test_local_python_detector_is_used(tmp_path):
    (tmp_path / "halves.py").write_text(
        "def detect(img):\n    w, h = img.size\n    return [(w // 2, 0, w, h), (0, 0, w // 2, h)]\n"
    )
    detector = load_detector(f"{tmp_path / 'halves.py'}:detect")
    caption = split_caption("(A) Left. (B) Right.")
    result = decide_split(Image.new("RGB", (100, 40), "white"), caption, detector=detector)
    assert result.boxes == [(0, 0, 50, 40), (50, 0, 100, 40)]  # sorted into reading order
    assert result.accepted
    caption = split_caption("(A) Left. (B) Middle. (C) Right.")
    result = decide_split(Image.new("RGB", (100, 40), "white"), caption, detector=detector)
    assert result.reason == "detector-mismatch" and not result.accepted


@pytest.mark.parametrize(
    "spec", ["missing.py:detect", "missing.pt", "no_such_module_xyz:detect", "no-colon-here"]
)
def test_load_detector_errors_are_clear(tmp_path, spec):
    with pytest.raises(DetectorError, match="not found|neither"):
        load_detector(str(tmp_path / spec) if spec.startswith("missing") else spec)


def test_torchscript_detector_needs_torch(tmp_path):
    try:
        import torch  # noqa: F401
    except ImportError:
        (tmp_path / "model.pt").write_bytes(b"not a model")
        with pytest.raises(DetectorError, match="needs torch"):
            load_detector(str(tmp_path / "model.pt"))
    else:
        pytest.skip("torch installed: the missing-torch message cannot be checked")


def test_detector_failures_become_detector_errors():
    def broken(img):
        raise RuntimeError("CUDA out of memory")

    caption = split_caption("(A) x. (B) y.")
    with pytest.raises(DetectorError, match="CUDA out of memory"):
        decide_split(Image.new("RGB", (50, 50)), caption, detector=broken)
    with pytest.raises(DetectorError, match="not"):
        decide_split(Image.new("RGB", (50, 50)), caption, detector=lambda img: [("a", "b")])


# ---- panel rows ----------------------------------------------------------------------------


def test_panel_rows_of_a_compound_figure():
    fig, truth = grid([chart(220, 170, k) for k in range(4)], 2, 14, "white")
    parent = {"key": "PMC123_F2", "caption": "Drugs. (A) One. (B) Two. (C) Three. (D) Four."}
    result = split_figure(parent, jpeg_bytes(fig))
    assert result.decision.accepted and result.decision.reason == "accepted"
    rows = result.rows
    assert [r["key"] for r in rows] == [f"PMC123_F2_p{k}" for k in range(4)]
    assert [r["label"] for r in rows] == ["A", "B", "C", "D"]
    assert rows[2]["subcaption"] == "Drugs. Three." and all(r["aligned"] for r in rows)
    for row, box in zip(rows, truth, strict=True):
        scaled = [v * s for v, s in zip(row["box"], (fig.width, fig.height) * 2, strict=True)]
        assert iou(scaled, box) >= 0.85
        assert all(0.0 <= v <= 1.0 for v in row["box"])
        img = Image.open(io.BytesIO(row["image"]))
        assert img.format == "JPEG" and img.mode == "RGB"
        assert (row["width"], row["height"]) == img.size
        assert row["sha256"] == hashlib.sha256(row["image"]).hexdigest()
        assert row["parent_key"] == "PMC123_F2"
        assert 0 <= row["phash"] < 2**64 and 0 <= row["dhash"] < 2**64


def test_panel_rows_hashes_match_the_crop():
    fig, _ = grid([photo(200, 180, 1, 10), photo(200, 180, 2, 120)], 2, 12, "white")
    caption = "Cells. (A) Control. (B) Treated."
    rows = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(fig)).rows
    crop = (
        Image.open(io.BytesIO(jpeg_bytes(fig)))
        .convert("RGB")
        .crop(
            tuple(
                round(v * s)
                for v, s in zip(rows[0]["box"], (fig.width, fig.height) * 2, strict=True)
            )
        )
    )
    thumb = hash_thumbnail(crop.convert("L"))
    assert bin(rows[0]["phash"] ^ phash64(thumb)).count("1") <= 4
    assert bin(rows[0]["dhash"] ^ dhash64(thumb)).count("1") <= 6
    assert [r["aligned"] for r in rows] == [True, True]
    assert rows[0]["subcaption"] == "Cells. Control."


def test_a_caption_without_labels_splits_only_at_wide_clean_gutters():
    """A caption that names no panels gives no count: the pixels alone must be overwhelming
    evidence (wide full-length gutters between panels), and each panel carries the whole
    caption, unaligned."""
    wide, truth = grid([chart(220, 170, 1), chart(220, 170, 2)], 2, 24, "white")
    result = split_figure({"key": "PMC1_F1", "caption": "Two charts."}, jpeg_bytes(wide))
    assert result.decision.accepted and result.decision.reason == "clean-gutters"
    assert_panels(result.decision.boxes, truth)
    assert [(r["label"], r["subcaption"], r["aligned"]) for r in result.rows] == [
        (None, "Two charts.", False)
    ] * 2
    assert all(r["image"] for r in result.rows)


@pytest.mark.parametrize(
    ("seed", "index", "family", "n"),
    [(8, 363, "row", 2), (8, 193, "spanning", 3), (9, 121, "grid", 6)],
    ids=["letters-over-a-row", "letter-over-a-spanning-layout", "legends-beside-their-charts"],
)
def test_what_annotates_a_panel_beyond_a_gutter_is_no_cut_between_panels(seed, index, family, n):
    """Generated compounds under captions naming no panels (development seeds 8, 9): a
    letter "(a)" over its panel, its gap wider than any within the panel, was taken for a
    gutter that did not stand out from them, and a legend beside its chart (markers and
    words in two columns) for a table, a panel of its own. Each joins its panel first."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == family and len(fig.panels) == n and not fig.caption_labels
    assert decision.reason == "clean-gutters"
    assert_split_as_drawn(fig, boxes, labels)


def test_titles_and_letters_beyond_a_gutter_join_their_panels():
    """Two charts side by side, each under its own title beyond a wide gap, under a caption
    naming no panels: a title is no panel and its gap no cut, so each joins its chart."""
    fig = Image.new("RGB", (520, 260), "white")
    draw = ImageDraw.Draw(fig)
    for k in range(2):
        x = 10 + k * 262
        draw.text((x + 60, 8), f"Measure {k}", fill="black", font=ImageFont.load_default(size=16))
        fig.paste(chart(240, 200, 7 + k), (x, 50))
    result = split_figure({"key": "PMC1_F1", "caption": "Two charts."}, jpeg_bytes(fig))
    assert result.decision.reason == "clean-gutters"
    assert_panels(result.decision.boxes, [(10, 8, 250, 250), (272, 8, 512, 250)], 0.7)


@pytest.mark.parametrize(
    "figure",
    [
        lambda: charts_in_a_row((10, 197)),
        lambda: grid([photo(200, 180, 1, 10), photo(200, 180, 2, 120)], 2, 24, "black")[0],
        lambda: grid([chart(220, 260, 3), chart(220, 72, 4)], 1, 24, "white")[0],  # uneven
        lambda: generated_table(),
        lambda: charts_in_a_row((10, 197, 408)),
        lambda: heatmap_over_charts(),
    ],
    ids=[
        "narrow-gutter",
        "dark-figure",
        "uneven-pieces",
        "table-rows",
        "two-charts-close",
        "heatmap-beside-its-colour-bar",
    ],
)
def test_a_caption_without_labels_keeps_a_compound_whole_without_clean_gutters(figure):
    """No count from the caption, and the wide gutters are no full account of the panels:
    too narrow, on black, pieces of very uneven length, rows of a table, or (as in a real
    eLife figure) a piece that parts again at a narrower gutter into two charts."""
    result = split_figure({"key": "PMC1_F1", "caption": "Two panels."}, jpeg_bytes(figure()))
    assert not result.decision.accepted and result.decision.reason == "no-caption-labels"
    assert result.rows == []


def photo_tiles(cols: int, rows: int, line: int, base: int = 40) -> tuple[Image.Image, list]:
    """Dark photographs edge to edge in a grid, parted by light lines ``line`` px wide."""
    w, h = 160, 140
    fig = Image.new("RGB", (cols * w + (cols - 1) * line, rows * h + (rows - 1) * line), "white")
    truth = []
    for k in range(rows * cols):
        x, y = (k % cols) * (w + line), (k // cols) * (h + line)
        fig.paste(photo(w, h, 40 + k, base), (x, y))
        truth.append((x, y, x + w, y + h))
    return fig, truth


@pytest.mark.parametrize(("cols", "rows", "line"), [(3, 1, 2), (3, 3, 3), (2, 2, 6)])
def test_photographs_parted_by_thin_light_lines_are_tiles_without_caption_labels(cols, rows, line):
    """An even grid of photographs parted by thin white lines, under a caption naming no
    panels: a straight light line right across the figure with photograph pressed against
    both sides is no part of one photograph, so the tiles are panels (whole caption)."""
    fig, truth = photo_tiles(cols, rows, line)
    result = split_figure({"key": "PMC1_F1", "caption": "Channels."}, jpeg_bytes(fig))
    assert result.decision.reason == "photo-tiles"
    assert_panels(result.decision.boxes, truth)
    assert {(r["label"], r["subcaption"]) for r in result.rows} == {(None, "Channels.")}


@pytest.mark.parametrize(("index", "n"), [(360, 6), (333, 4), (165, 5)], ids=["3x2", "row", "pale"])
def test_photographs_parted_by_lines_the_codec_greyed_are_tiles(index, n):
    """Generated mosaics (development seed 0) under captions naming no panels, parted by
    pale lines a pixel or two wide: after JPEG and the fit to 1024 px they are mid-grey, no
    longer light, but still ridges right across, lighter than the photographs on both
    sides; every tile is found."""
    fig, decision, boxes, labels = _extracted_split(0, index)
    assert not fig.caption_labels and len(fig.panels) == n
    assert decision.reason == "photo-tiles"
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)
    assert labels == [None] * n


@pytest.mark.parametrize(("seed", "index", "n"), [(1, 291, 4), (2, 186, 8)], ids=["row", "2x4"])
def test_a_tiles_edge_the_codec_blurred_is_no_light_stripe(seed, index, n):
    """Fluorescence mosaics on a page (development seeds 1 and 2) under captions naming no
    panels, parted by thin white lines: the codec blurs each tile's outermost pixel into
    the white beside it, so the edge column of the last tile read light over half its
    height, like a stripe of another grid, and the figure stayed whole. A tile's edge is
    no stripe: every tile is found."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == "mosaic_photos" and not fig.caption_labels and len(fig.panels) == n
    assert decision.reason == "photo-tiles"
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)
    assert labels == [None] * n


@pytest.mark.parametrize(
    ("seed", "index", "family", "n"),
    [(0, 211, "mosaic_photos", 9), (3, 126, "uneven_columns", 5)],
    ids=["bold-serif-on-black", "serif"],
)
def test_layouts_lettered_in_a_slab_serif_split_on_their_letters(seed, index, family, n):
    """A black 3x3 mosaic lettered "(a)" in a bold slab serif, and uneven columns lettered
    "A" in a slab serif (development seeds 0 and 3): cuts too weak, and too few of their
    letters read against the stored shapes to confirm them. Read against Computer Modern's
    serif shapes too, most do and none reads another's: each splits as drawn."""
    reason = assert_extracted_splits_as_drawn(seed, index, family, n, today=True)
    assert reason == "printed-letters"


@pytest.mark.parametrize(
    ("seed", "index", "family", "n"),
    [(0, 142, "uneven_columns", 7), (2, 51, "mosaic_photos", 8)],
    ids=["uneven-on-black", "mosaic-caption-naming-none"],
)
def test_layouts_whose_bold_letters_read_at_their_deepest_ink_split(seed, index, family, n):
    """Uneven columns on black, and a mosaic whose caption names no panels (development
    seeds 0 and 2), lettered in bold: too few letters read at the usual ink level, where a
    bold letter's counters blur shut, to confirm the weak cuts or to count the grid. Read
    at their deepest ink too, they do: each splits as drawn."""
    reason = assert_extracted_splits_as_drawn(seed, index, family, n, today=True)
    assert reason == "printed-letters"


def test_a_grid_short_of_a_letter_printed_on_a_photograph_is_kept_whole():
    """A 2x3 mosaic of fluorescence photographs (development seed 4) under a caption naming
    no panels, lettered "a." to "f." in white on the photographs: the top row's letters
    read as a grid of three cells, each spanning two photographs. No letter stands on the
    page, so the next letter's absence from the page proved nothing; "d." is printed, on a
    photograph, and a grid that leaves it out leaves a panel out: the figure stays whole."""
    fig, decision, boxes, labels = _extracted_split(4, 245, today=True)
    assert fig.family == "mosaic_photos" and not fig.caption_labels and len(fig.panels) == 6
    assert not decision.accepted and boxes == []


def test_dark_fluorescence_images_meet_at_a_seam_beside_a_bright_cell():
    """A tall fluorescence image beside two stacked ones, edge to edge (development seed 6),
    under a caption naming three panels: the stacked two meet where the upper one's bright
    cell stands white beside the seam, and where both grounds are black the line cannot
    step. Along the rest, wherever either side is lit, it steps: a seam, and the three
    panels are found. No letter is printed and the layout reads down as well as across,
    so each takes the whole caption."""
    fig, decision, boxes, labels = _extracted_split(6, 217, today=True)
    assert fig.family == "spanning" and len(fig.panels) == 3
    assert decision.accepted
    assert_panels(boxes, reading_order([p.box for p in fig.panels]), 0.7)
    assert labels == [None] * 3


def test_photo_tiles_need_even_tiles_of_photographs_only():
    """Tiles of uneven width, a pale photograph (too light to tell from the lines), or a
    light stripe half across a tile (another grid the lines missed): kept whole."""
    uneven = Image.new("RGB", (362, 140), "white")
    uneven.paste(photo(120, 140, 1, 40), (0, 0))
    uneven.paste(photo(240, 140, 2, 40), (122, 0))
    pale, _ = photo_tiles(3, 1, 2, base=150)
    striped, _ = photo_tiles(2, 1, 3)
    ImageDraw.Draw(striped).rectangle((60, 0, 64, 90), fill="white")
    for fig in (uneven, pale, striped):
        result = split_figure({"key": "PMC1_F1", "caption": "Channels."}, jpeg_bytes(fig))
        assert result.decision.reason == "no-caption-labels"


def heatmap_over_charts() -> Image.Image:
    """A generated column (development seed 1) of a heatmap beside its colour bar, a box
    plot, a bar chart and a table, its caption naming no panels: the colour bar stands
    behind a wide gutter, a short piece beside its long heatmap, and is no stack."""
    fig = dev_compound(1, 360)
    assert fig.family == "column" and not fig.caption_labels
    assert fig.panels[0].kind == "heatmap_colorbar"
    return fig.image.convert("RGB")


def charts_in_a_row(xs: tuple[int, ...]) -> Image.Image:
    """Charts in a row, pasted at ``xs``: a chart's content starts 30 px in and ends at 211,
    so (10, 197) leaves 6 px between two, and (10, 197, 408) a 30 px gutter before a third."""
    fig = Image.new("RGB", (xs[-1] + 232, 190), "white")
    for k, x in enumerate(xs):
        tile = Image.new("RGB", fig.size, "white")
        tile.paste(chart(220, 170, 30 + k), (x, 10))
        fig = ImageChops.darker(fig, tile)  # the white margins overlap, the charts do not
    return fig


def test_a_spanning_layout_splits_at_clean_gutters_without_caption_labels():
    """A wide chart beside two stacked ones, over a row of three, under a caption naming no
    panels: pieces side by side differ in length up to 3x (a spanning panel beside a
    stack), and no piece parts again into two panels, so all six are found."""
    fig, decision, boxes, labels = _generated_split(13, blots=True)
    assert fig.family == "spanning" and not fig.caption_labels and len(fig.panels) == 6
    assert decision.reason == "clean-gutters"
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)
    assert labels == [None] * 6


@pytest.mark.parametrize(
    ("seed", "index"),
    [(0, 247), (1, 257), (1, 78), (1, 332), (2, 145)],
    ids=[
        "rotated-labels",
        "three-rotated-bar-charts",
        "legend-outside",
        "legend-beyond-gutter",
        "blots-of-uneven-heights",
    ],
)
def test_charts_with_their_labels_and_legends_split_at_clean_gutters(seed, index):
    """Compounds under captions naming no panels, parted by wide gutters: a bar chart's
    slanted tick labels hang a pixel below its axis (no second panel), a legend beside its
    line chart is a fraction of its area, and a legend beyond a wide gutter is a third of
    its chart's width and no table: each joins its chart, and every panel is found. Rows
    one above another may differ in height up to 4x (a blot of five strips over one of
    two), where pieces side by side may differ 2x unless the shorter is a stack."""
    fig = dev_compound(seed, index)
    assert not fig.caption_labels
    rgb = fig.image.convert("RGB")
    result = split_figure({"key": "PMC1_F1", "caption": fig.caption}, jpeg_bytes(rgb))
    assert result.decision.reason == "clean-gutters"
    assert_panels(result.decision.boxes, [p.box for p in fig.panels], 0.7)


@pytest.mark.parametrize(("seed", "index", "n"), [(0, 169, 9), (1, 368, 11)])
def test_columns_of_uneven_counts_split_at_clean_gutters(seed, index, n):
    """Columns of two or three charts each beside a full-height one, under captions naming
    no panels and parted by wide gutters: a column's short chart is a third of the tall
    one's height or less, still a stack of panels (up to 4x), and every panel is found
    (rows first: no letters say the figure reads down its columns)."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == "uneven_columns" and not fig.caption_labels and len(fig.panels) == n
    assert decision.reason == "clean-gutters"
    assert_panels(boxes, reading_order([p.box for p in fig.panels]), 0.7)
    assert labels == [None] * n


def test_a_small_table_beside_a_gutter_joins_no_chart():
    """A column under a caption naming no panels whose top piece is a small table: a
    table is a panel of its own, never a legend to join to the box plot below it. It is a
    third of the charts' height or less, still within a stack's 4x: four panels, the table
    one of them."""
    fig = dev_compound(1, 368)
    assert fig.panels[0].kind == "table_image" and not fig.caption_labels
    rgb = fig.image.convert("RGB")
    result = split_figure({"key": "PMC1_F1", "caption": fig.caption}, jpeg_bytes(rgb))
    assert result.decision.reason == "clean-gutters"
    assert_panels(result.decision.boxes, [p.box for p in fig.panels], 0.85)


def test_a_piece_holding_two_panels_at_a_wide_gutter_refuses_the_split():
    """A wide chart over two charts side by side, under a caption naming only (A) and (B):
    the cut between the rows gives two pieces, but the lower parts again at a wide gutter
    into two charts, so the caption names fewer panels than the figure holds: kept whole
    rather than a two-chart piece paired with one sub-caption."""
    fig = Image.new("RGB", (500, 400), "white")
    fig.paste(chart(480, 180, 1), (10, 10))
    fig.paste(chart(230, 180, 2), (10, 210))
    fig.paste(chart(230, 180, 3), (260, 210))
    result = split_figure({"key": "PMC1_F1", "caption": "(A) x. (B) y."}, jpeg_bytes(fig))
    assert result.decision.reason == "count-mismatch" and not result.decision.accepted


def test_a_spanning_layout_needs_a_third_level_of_cuts():
    """A tall panel beside two stacked ones, over a row of three: rows, then columns across
    the top row, then rows again across its right column."""
    fig = Image.new("RGB", (708, 620), "white")
    places = [(12, 12, 220, 376), (244, 12, 452, 182), (244, 206, 452, 182)]
    places += [(12 + k * 232, 400, 220, 200) for k in range(3)]
    truth = []
    for k, (x, y, w, h) in enumerate(places):
        tile = chart(w, h, 20 + k)
        fig.paste(tile, (x, y))
        x0, y0, x1, y1 = content_box(tile)
        truth.append((x + x0, y + y0, x + x1, y + y1))
    assert_panels(decided(jpeg(fig), 6), truth)


def _generated_split(index: int, blots: bool = False):
    """A generated development compound split as the split stage splits it: its truth and
    the accepted panels' boxes (figure px) and labels. Drawn as when the older tests were
    written unless ``blots`` (from today's development families, western blots too)."""
    fig = dev_compound(0, index, None if blots else before_blots())
    rgb = fig.image.convert("RGB")
    result = split_figure({"key": "PMC1_F1", "caption": fig.caption}, jpeg_bytes(rgb))
    size = (rgb.width, rgb.height) * 2
    accepted = [r for r in result.rows if r["decision"] == "accepted"]
    boxes = [tuple(v * s for v, s in zip(r["box"], size, strict=True)) for r in accepted]
    return fig, result.decision, boxes, [r["label"] for r in accepted]


def _extracted(seed: int, index: int, today: bool = False):
    """A generated development compound (of today's layouts when ``today``) and its split,
    as the split stage sees it after extraction (normalised, its long side fitted)."""
    return _split_extracted(dev_compound(seed, index, today=today))


def _split_extracted(fig, caption: str | None = None):
    """A generated figure split from its normalised JPEG, with its caption (or ``caption``)."""
    buf = io.BytesIO()
    fig.image.save(buf, "PNG")
    data = normalise_image(buf.getvalue()).jpeg
    return fig, split_figure({"key": "PMC1_F1", "caption": caption or fig.caption}, data)


def _extracted_split(seed: int, index: int, today: bool = False):
    """:func:`_extracted`: its truth, the decision, and the accepted panels' boxes
    (generated px) and labels."""
    fig, result = _extracted(seed, index, today)
    size = fig.image.size * 2
    boxes = [tuple(v * s for v, s in zip(r["box"], size, strict=True)) for r in result.rows]
    return fig, result.decision, boxes, [r["label"] for r in result.rows]


def assert_extracted_splits_as_drawn(
    seed: int, index: int, family: str, n: int, today: bool = False
) -> str:
    """A development figure of ``family`` and n panels (of today's layouts when ``today``)
    is accepted and split into its panels, each with its label; its decision's reason, for
    a test to hold to."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today)
    assert fig.family == family and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)
    return decision.reason


@pytest.mark.parametrize(
    ("index", "family", "n"),
    [(101, "shared_axes", 4), (22, "mosaic_photos", 9)],
    ids=["stacked-charts-on-shared-axes", "white-tiles-edge-to-edge"],
)
def test_printed_letters_split_an_even_grid_the_cuts_cannot(index, family, n):
    """Stacked charts meet at their frames, tiles abut: no cut search is trusted there,
    but the caption, an even grid and the letters printed in its cells agree."""
    fig, decision, boxes, labels = _generated_split(index)
    assert fig.family == family and len(fig.panels) == n
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    "split",
    [lambda: _generated_split(7), lambda: _extracted_split(1, 207)],
    ids=["development-seed-0", "development-seed-1-extracted"],
)
def test_dark_stretches_inside_fluorescence_photographs_are_no_gutters(split):
    """Black mosaics of six fluorescence photographs: the dark stretches between cells
    inside them are as dark as their gutters (in seed 1 one lies near the gutter between
    the rows and once drew the cut, left to the printed letters then), but carry the
    camera's noise floor where the gutters are drawn in flat black, so the cut search
    takes only the gutters and splits each as drawn."""
    fig, decision, boxes, labels = split()
    assert fig.family == "mosaic_photos" and len(fig.panels) == 6
    assert fig.background == "black"
    assert decision.reason == "accepted"
    assert_split_as_drawn(fig, boxes, labels)


def test_small_letters_with_faint_strokes_read_closed():
    """Mosaics of photographs lettered with small lowercase "a" or "a.": on a photograph
    the threshold breaks their thin strokes, and they match their own shape only with
    those gaps of a pixel closed (each glyph alone, so no neighbour joins it). Development
    seed 2: a white mosaic (the pale one that needed this too now parts at its seams)."""
    fig, decision, boxes, labels = _extracted_split(2, 74)
    assert fig.family == "mosaic_photos" and fig.letters in ("a", "a.")
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index"),
    [(0, 280), (2, 382), (2, 223), (2, 191)],
    ids=["serif-b-over-a-table", "column-of-tables", "coloured-mosaic", "black-mosaic"],
)
def test_serif_letters_whose_grey_hairlines_part_them_read_at_a_paler_level(seed, index):
    """Serif panel letters ("b.", "(a)") whose hairlines blur grey in JPEG: at the usual
    ink level the stem and the bowls are apart and read as J or 1; read down to a paler
    grey, they are whole again, and every piece of a weak or refused division reads its
    own letter (development seeds 0 and 2)."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


def test_body_text_read_at_the_paler_level_is_no_panel_letter():
    """Guards for the paler level: a grid of tables keeps its labels in reading order
    (pale, a table's small words run together and read as other labels), and a scatter
    plot under a caption naming four panels stays whole (its tick label 0 read as C)."""
    from dataclasses import replace

    from tests.fixtures.synthetic_figures import _single

    fig, decision, boxes, labels = _extracted_split(1, 389)
    assert decision.accepted and decision.ordered
    assert_split_as_drawn(fig, boxes, labels)
    named = " ".join(f"({chr(65 + k)}) Measure {k}." for k in range(4))
    single = replace(_single("dev", 0, 69), caption=f"Effects of treatment. {named}")
    assert not _split_extracted(single)[1].decision.accepted


def test_a_weak_uneven_division_whose_every_piece_reads_its_letter_is_accepted():
    """A wide scan over two smaller ones on black (development seed 1): the black inside
    the scans makes the cuts weak, and the pieces side by side are uneven, so the cuts alone
    are not trusted; but each of the three pieces prints its own letter, (A), (B), (C), in
    its top-left corner: caption, cuts and letters agree on every panel."""
    fig, decision, boxes, labels = _extracted_split(1, 21)
    assert fig.family == "spanning" and len(fig.panels) == 3
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(4, 15, 6), (2, 289, 4)],
    ids=["scans-on-black-lettered-down-columns", "tall-panel-beside-stacked-ones"],
)
def test_a_weak_division_most_of_whose_pieces_read_their_letters_is_accepted(seed, index, n):
    """Spanning layouts (development seeds 4 and 2): the cuts are weak and the pieces
    uneven, and one or two corners read no letter (a pale serif "a." on colour, a letter
    on a scan's grey), but most read their own, none another's, and no letter like theirs
    stands inside a piece: the panels split, each with its label."""
    assert assert_extracted_splits_as_drawn(seed, index, "spanning", n) == "printed-letters"


def test_a_letter_misread_in_a_second_corner_does_not_refuse_a_weak_division():
    """Eight charts and scans in uneven columns lettered down them (development seed 0),
    cut at thin gutters too uneven to trust: seven corners read their own letter, and B's,
    crowded by its heatmap's dendrogram, reads as H, which the last piece reads as its own.
    A letter is printed once, so that reading is a misreading, no evidence against the
    division: the panels split, each with its label."""
    fig, decision, boxes, labels = _extracted_split(0, 127, today=True)
    assert fig.family == "uneven_columns" and len(fig.panels) == 8
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


def test_letters_printed_beside_their_panels_go_with_them():
    """Six panels in uneven columns (development seed 2), each letter "(A)" printed above
    its panel a few pixels off it: in the last column the gap under "(F)" is wider than
    the gutter over it, so the letter went with the flowchart above, the division took the
    blot's first rows with it, and the role rules refused it. A strip of letters joins the
    panel it stands over: the cut goes above the letter, and the figure splits as drawn."""
    fig, decision, boxes, labels = _extracted_split(2, 304, today=True)
    assert fig.family == "uneven_columns" and len(fig.panels) == 6
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_letters_above_scans_on_black_go_with_them():
    """Nine scans on black in uneven columns, each lettered inside its top-left corner
    above the scan's dark field (development seed 0): one over another, the thin gutter
    between two scans and the dark gap under a letter look alike, and the cut under the
    letter left it on the scan above, where no corner read it. A strip of letters joins
    the panel below it on a dark figure too: most corners then read their own letter."""
    fig, decision, boxes, labels = _extracted_split(0, 290, today=True)
    assert fig.family == "uneven_columns" and fig.background == "black"
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


def test_letters_abutting_a_photograph_go_with_their_panels():
    """An ultrasound scan the figure's height beside three charts in a column (development
    seed 0), the letters "B.", "C.", "D." printed in a gutter a pixel wide, touching the
    scan: no blank line runs between scan and letters, so the only cut was past them, the
    letters went with the scan and no chart's corner read its letter. A strip of letters
    that abuts a photograph's dense edge is cut from it there: the figure splits as drawn."""
    fig, decision, boxes, labels = _extracted_split(0, 224, today=True)
    assert fig.family == "uneven_columns" and fig.gutter == "thin" and len(fig.panels) == 4
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_chart_s_tallest_bar_is_no_photograph_that_letters_abut():
    """A grouped bar chart, its legend beside it (held-out seed 1, found when checking the
    rule above on it): the tallest bar's edge is dense as a photograph's, and what stands
    between it and the blank before the legend read as a strip of letters, so the chart
    was cut from its legend under a caption naming two panels. A photograph inks its lines
    right across the piece; a bar does not, and the chart stays whole."""
    from tests.fixtures.synthetic_figures import _single

    fig, result = _split_extracted(_single("heldout", 1, 165), naming(2))
    assert fig.family == "grouped_bars_legend"
    assert not result.decision.accepted


@pytest.mark.parametrize(("seed", "index", "n"), [(1, 275, 6), (3, 117, 3)])
def test_pieces_whose_corner_reads_no_letter_are_searched_again(seed, index, n):
    """Spanning layouts lettered in their corners (development seeds 1 and 3) whose best
    division cuts a photograph or a chart at a seam beside the true gutter: that piece's
    corner reads no letter while the others read theirs. Searched again without pieces
    that read none, the division's every piece reads its own letter: split as drawn."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == "spanning" and len(fig.panels) == n
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "family", "n"),
    [(0, 384, "uneven_columns", 5), (1, 295, "mosaic_photos", 12)],
    ids=["scans-in-columns", "photo-mosaic"],
)
def test_gutters_the_reduced_copy_loses_are_cut(seed, index, family, n):
    """Photographs on a page parted by a white line two pixels thick (development seeds 0
    and 1): halved for the search, the line averages with the photographs' dark edges into
    grey, and no seam runs there (dark meets dark), so no cut was found and the figure
    stayed whole. The unreduced figure's blank lines give the cut: it splits as drawn."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == family and fig.gutter == "thin" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"), [(2, 348, 5), (4, 131, 4)], ids=["no-letters", "letters-a"]
)
def test_a_legend_beside_its_chart_is_no_strip_of_letters(seed, index, n):
    """Rows of charts with legends outside their axes (development seeds 2 and 4): a
    legend's markers stand in a narrow strip of short runs at the chart's top, like a
    letter, but its words follow past a small gap, not a panel, and a wide gutter is no
    gap a letter stands off its panel by: the cuts stay at the gutters."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == "row" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_letter_on_the_page_above_a_dark_photograph_reads_on_the_page():
    """A column of a scan, a heatmap and a table (development seed 2), "A" printed on the
    white page just above the black scan: the scan fills most of the panel's corner, whose
    ground is then dark, but the letter's own nook of it is white; read as dark ink there,
    every piece reads its letter and the column splits."""
    assert_extracted_splits_as_drawn(2, 116, "grid", 3)


def test_a_letter_on_a_photograph_inside_a_piece_refuses_a_weak_division():
    """A wide photograph over two (development seed 2). Cut wrongly down the middle, as a
    faint seam once cut it, two corners read "A" and "C", the third nothing, but the white
    "B" on the lower-left photograph stands inside the first piece, away from its corner:
    the letters refuse that division. The seams where the photographs meet are found now,
    the bright cells white beside them notwithstanding, and the figure splits right."""
    from pmc_pipeline.subfigures.lettered import Corners, PiecesLettered

    fig = dev_compound(2, 391)
    buf = io.BytesIO()
    fig.image.save(buf, "PNG")
    gray = Image.open(io.BytesIO(normalise_image(buf.getvalue()).jpeg)).convert("L")
    wrong = [(2, 2, 310, 500), (310, 2, 617, 218), (310, 218, 617, 500)]
    assert not PiecesLettered(Corners(gray, ["A", "B", "C"]), wrong).most
    fig, decision, boxes, labels = _extracted_split(2, 391)
    assert fig.family == "spanning" and len(fig.panels) == 3
    assert decision.accepted and labels == ["A", "B", "C"]
    assert_panels(boxes, [p.box for p in fig.panels], 0.85)


def test_a_pale_letter_inside_a_cell_refuses_an_even_grid():
    """A spanning layout of six (development seed 3) cut as an even 2 x 3 grid: three of
    its corners read bold serif letters at the paler level, but panel c's letter, read
    at that level too, stands inside a cell: the grid is refused and the figure kept whole."""
    fig, decision, _, _ = _extracted_split(3, 99)
    assert fig.family == "spanning" and len(fig.panels) == 6
    assert not decision.accepted


def test_a_short_table_in_a_tall_column_of_lettered_panels_is_a_panel():
    """A column of four panels (development seed 0): the table "C." takes under a tenth of
    the figure's height, less than a panel must span. Its printed letter vouches for its
    cell, and its rules make it a piece the cut search tries however short: either way the
    column splits into its four panels, each with its label."""
    fig, decision, boxes, labels = _extracted_split(0, 367)
    assert fig.family == "column" and len(fig.panels) == 4
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(1, 49, 8), (1, 333, 9)],
    ids=["scans-on-black-thin-gutters", "fluorescence-on-black-wide-gutters"],
)
def test_black_gutters_are_told_from_the_black_inside_photographs(seed, index, n):
    """Photographs on black (development set): the dark stretches inside them pass for
    gutters, so the cut search divides them in the wrong places and the figure stays whole.
    Where only the border's exact black is background, the gutters alone remain: the
    figure splits into its n panels."""
    fig, decision, boxes, _ = _extracted_split(seed, index)
    assert fig.background == "black" and len(fig.panels) == n
    assert decision.accepted
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)


def test_panels_that_meet_at_a_seam_are_read_in_rows():
    """Pieces cut at a seam, each rounded outward to whole pixels, overlap by a pixel: they
    only meet, so the panel below is no member of the row above."""
    boxes = [(0, 0, 304, 360), (0, 359, 290, 702), (303, 0, 584, 360), (583, 0, 871, 360)]
    assert reading_order(boxes) == [boxes[0], boxes[2], boxes[3], boxes[1]]


@pytest.mark.parametrize(
    ("boxes", "sure"),
    [
        ([(0, 0, 40, 40), (50, 0, 90, 40), (0, 50, 40, 90), (50, 50, 90, 90)], True),  # grid
        ([(0, 0, 90, 40), (0, 50, 30, 90), (35, 50, 90, 90)], True),  # rows of 1 and 2
        ([(0, 0, 40, 90), (50, 0, 90, 40), (50, 50, 90, 90)], True),  # tall at the left
        ([(0, 0, 40, 40), (0, 50, 40, 90), (50, 0, 90, 90)], False),  # tall at the right
        ([(0, 0, 40, 30), (0, 40, 40, 90), (50, 0, 90, 55), (50, 65, 90, 75)], True),
        (
            [(0, 0, 40, 30), (0, 40, 40, 90), (50, 0, 90, 50), (50, 60, 90, 70), (50, 80, 90, 90)],
            False,
        ),  # uneven columns
    ],
    ids=["grid", "rows", "tall-left", "tall-right", "rows-out-of-line", "uneven-columns"],
)
def test_rows_first_is_sure_only_where_the_layout_reads_alike_down_its_columns(boxes, sure):
    """Bands one above another read rows-first; columns with no band across them that read
    otherwise down than across may be lettered either way."""
    assert rows_first_sure(boxes) is sure


def test_an_unread_panels_letter_inside_a_cell_refuses_the_grid():
    """Six tables in a spanning layout (development seed 1): an even 2 x 3 grid reads
    "a)", "e)" and "f)" in its corners, half the panels, but the letter "c)" stands inside
    one of its cells, away from the corner: that panel is not where the grid puts it (the
    figure splits as drawn by the cut search instead, searched again without its pieces
    that read no letter: ``test_pieces_whose_corner_reads_no_letter_are_searched_again``)."""
    from pmc_pipeline.subfigures import decode_figure
    from pmc_pipeline.subfigures.lettered import Corners, lettered_grid
    from pmc_pipeline.subfigures.work import working_copy

    fig = dev_compound(1, 275)
    assert fig.family == "spanning" and len(fig.panels) == 6
    buf = io.BytesIO()
    fig.image.save(buf, "PNG")
    gray = decode_figure(normalise_image(buf.getvalue()).jpeg, "L")
    labels = split_caption(fig.caption).labels
    assert lettered_grid(working_copy(gray), Corners(gray, labels)) is None


@pytest.mark.parametrize(
    ("index", "family", "n"),
    [(230, "mosaic_photos", 4), (522, "mosaic_photos", 9), (76, "shared_axes", 3)],
    ids=["black-mosaic-lettered-down-columns", "black-mosaic-3x3", "letters-inside-chart-frames"],
)
def test_printed_letters_anchor_the_cuts_where_corners_read_too_few(index, family, n):
    """Cut at the dark stretch nearest its even place, a black mosaic's cell starts past its
    letter; stacked charts print their letters inside the frame, right of the axis labels,
    beyond the corner read. Cuts just before the letters printed on the page, and letters
    read where they stand, split them; every label lands on its own panel."""
    fig, decision, boxes, labels = _generated_split(index)
    assert fig.family == family and len(fig.panels) == n
    assert decision.reason == "printed-letters"
    assert_split_as_drawn(fig, boxes, labels)


def test_letters_alone_split_a_figure_whose_caption_names_no_panels():
    """A row of three charts lettered A, B, C under a caption that names no panels: every
    cell of the even grid reads its letter in order, so the letters give the count; the
    panels carry the whole caption, unaligned."""
    fig, decision, boxes, labels = _generated_split(225)
    assert fig.family == "row" and not fig.caption_labels and len(fig.panels) == 3
    assert decision.reason == "printed-letters"
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)
    assert labels == [None] * 3


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(2, 128, 9), (0, 160, 9), (1, 31, 4)],
    ids=["white-tiles-3x3", "black-mosaic-3x3", "black-column-of-4"],
)
def test_letters_on_photographs_count_the_panels_of_a_caption_naming_none(seed, index, n):
    """Photographs edge to edge, lettered on the photographs, under a caption that names no
    panels: no letter stands on the page to count them, so corners where even cuts put the
    cells are read. The grid whose letters fill every row and column and reach its last
    letter is split (the 3 x 3 grids read about half their letters: serif B and G read as
    nothing); the column of four is not taken for a 4 x 2 grid whose added column reads
    no letter."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert fig.family in ("mosaic_photos", "column") and not fig.caption_labels
    assert len(fig.panels) == n and decision.reason == "printed-letters"
    assert_panels(boxes, [p.box for p in fig.panels], 0.7)
    assert labels == [None] * n


def test_one_lettered_chart_under_a_caption_naming_no_panels_stays_whole():
    fig = Image.new("RGB", (520, 380), "white")
    fig.paste(chart(500, 360, 3), (10, 10))
    ImageDraw.Draw(fig).text((14, 12), "A", fill="black", font=ImageFont.load_default(size=22))
    result = split_figure({"key": "PMC1_F1", "caption": "Effects of treatment."}, jpeg_bytes(fig))
    assert not result.decision.accepted and result.rows == []


def test_an_even_grid_with_a_panel_letter_inside_a_cell_loses_to_the_right_one():
    """A column of four panels, the first a short table: the 2 x 2 grid reads A and C in two
    corners, but B and D stand in line with them inside its cells, so it is refused; the
    4 x 1 grid, whose cell the table's letter vouches for, reads every label in its place
    (as the cut search, trying the ruled table as a piece however short, cuts it too)."""
    fig, decision, boxes, labels = _generated_split(576)
    assert fig.family == "column" and len(fig.panels) == 4
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_panels_whose_letters_contradict_their_order_carry_the_whole_caption():
    """Six charts found right whose printed letters run neither rows-first nor down the
    columns (A D B over E C F: an irregular layout's own order): rows-first would pair four
    of them with another panel's sub-caption, so each carries the whole caption."""
    fig = Image.new("RGB", (980, 510), "white")
    draw, font = ImageDraw.Draw(fig), ImageFont.load_default(size=24)
    for k, letter in enumerate("ADBECF"):
        x, y = (k % 3) * 330, (k // 3) * 260
        fig.paste(chart(310, 240, k), (x + 10, y + 10))
        draw.text((x + 14, y + 12), letter, fill="black", font=font)
    caption = "Effects of treatment. " + " ".join(
        f"({c}) Measure {k}." for k, c in enumerate("ABCDEF")
    )
    result = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(fig))
    assert result.decision.accepted and not result.decision.ordered
    assert len(result.rows) == 6
    assert {(r["label"], r["aligned"]) for r in result.rows} == {(None, False)}
    assert {r["subcaption"] for r in result.rows} == {caption}


def test_a_single_chart_with_its_letter_is_not_split_by_letters():
    """One chart lettered "a" under a caption naming (a) and (b): one letter is no grid."""
    fig = Image.new("RGB", (520, 380), "white")
    fig.paste(chart(500, 360, 3), (10, 10))
    ImageDraw.Draw(fig).text((14, 12), "a", fill="black", font=ImageFont.load_default(size=22))
    caption = "Effects of treatment. (a) Measure 0. (b) Measure 1."
    result = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(fig))
    assert not result.decision.accepted


def test_rejected_candidates_are_kept_without_images():
    fig, _ = grid([chart(220, 170, 1), chart(220, 170, 2)], 2, 14, "white")
    caption = "Drugs. (A) One. (B) Two. (D) Four."  # a gap: the caption split missed a label
    result = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(fig))
    assert result.decision.reason == "label-gaps" and result.rows == []
    stacked = Image.new("RGB", (400, 300), "white")
    stacked.paste(photo(400, 140, 1, 10), (0, 0))
    stacked.paste(photo(400, 140, 2, 120), (0, 160))
    caption = "Cells. (A) One. (B) Two. (C) Three."  # three labels, two panels
    result = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(stacked))
    assert not result.decision.accepted
    assert all(r["decision"] == "rejected" and r["image"] is None for r in result.rows)


def test_panel_rows_empty_for_a_single_panel():
    result = split_figure(
        {"key": "PMC1_F1", "caption": "(A) x. (B) y."}, jpeg_bytes(chart(300, 200, 1))
    )
    assert result.rows == [] and not result.decision.accepted
    assert result.caption_labels == 2


def test_panel_rows_with_a_detector():
    def halves(img):
        w, h = img.size
        return [(0, 0, w // 2, h), (w // 2, 0, w, h)]

    rows = split_figure(
        {"key": "PMC1_F1", "caption": "(A) x. (B) y."},
        jpeg_bytes(chart(300, 200, 1)),
        detector=halves,
    ).rows
    assert [r["box"] for r in rows] == [[0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 1.0, 1.0]]
    assert [r["subcaption"] for r in rows] == ["x.", "y."]


def test_panel_rows_errors():
    with pytest.raises(ImageUnreadableError):
        split_figure({"key": "PMC1_F1", "caption": "(A) x. (B) y."}, b"not an image")
    fig, _ = grid([chart(220, 170, k) for k in range(2)], 2, 14, "white")
    with pytest.raises(InvalidKeyError):
        split_figure({"key": "bad key", "caption": "(A) x. (B) y."}, jpeg_bytes(fig))


# ---- generated figures: a small seeded slice of what bench/ measures by the thousand ---------


@pytest.fixture(scope="module")
def generated_slice():
    """Held-out figures (other seeds, families the rules were not tuned on), split as the
    split stage splits them: from the normalised JPEG, with their captions."""
    from tests.fixtures.synthetic_figures import iter_generate

    return [_split_extracted(fig) for fig in iter_generate("heldout", 12, 12, seed=3)]


def test_generated_single_figures_yield_no_panels(generated_slice):
    singles = [(f.name, r.decision) for f, r in generated_slice if not f.compound]
    assert len(singles) == 12
    assert [(name, d.reason) for name, d in singles if d.accepted] == []


def test_generated_compounds_accepted_panels_are_right(generated_slice):
    """Precision first: every accepted panel matches a true panel (IoU >= 0.7) and carries
    the label the caption gives that panel; rejected candidates have no image."""
    accepted = 0
    for fig, result in generated_slice:
        if not fig.compound:
            continue
        size = (fig.image.width, fig.image.height) * 2  # boxes are fractions of the figure
        for row in result.rows:
            if row["decision"] != "accepted":
                assert row["image"] is None
                continue
            accepted += 1
            box = [v * s for v, s in zip(row["box"], size, strict=True)]
            true = max(fig.panels, key=lambda p: iou(box, p.box))
            assert iou(box, true.box) >= 0.7, (fig.name, row["key"])
            if row["aligned"]:
                assert row["label"] == true.label, (fig.name, row["key"])
    assert accepted >= 6


@pytest.mark.parametrize(
    ("index", "n"),
    [(118, 2), (321, 2), (398, 4)],
    ids=["two-traces-side-by-side", "two-bar-charts-side-by-side", "four-bar-charts-in-a-row"],
)
def test_charts_sharing_an_axis_split_at_the_frame_lines_where_they_meet(index, n):
    """Subplots sharing an axis touch: no blank line parts them, only the frame line where
    one chart meets the next, with the shared axis running on through it and tick labels
    beyond. Under the caption's count, the search cuts there."""
    fig, decision, boxes, labels = _generated_split(index, blots=True)
    assert fig.family == "shared_axes" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_stacked_charts_split_at_frame_lines_greyed_at_their_edges():
    """Four traces stacked with no space between them (development seed 0): each bottom
    axis line is a black row with a grey row of anti-aliasing either side. The clean side
    of a frame line is read past that grey row, so the frames where the charts meet cut."""
    fig, decision, boxes, labels = _extracted_split(0, 120)
    assert fig.family == "shared_axes" and len(fig.panels) == 4
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(2, 10, 3), (1, 85, 3), (1, 145, 2), (1, 25, 2)],
    ids=["three-traces", "three-boxed-traces", "two-bar-charts", "tick-past-the-axis"],
)
def test_stacked_charts_whose_axes_stop_short_of_the_next_split_there(seed, index, n):
    """Charts stacked a few pixels apart (development seeds 1, 2): a tick label stands at
    the frame line where two meet, as at a zero line across one chart, but each chart's
    own y axis stops a pixel or a few short of the next one's frame, then runs on (its
    dark ink: the grey of anti-aliasing may fill the gap), the line beginning at a tick
    mark that juts out past it. A zero line crosses an axis that runs on through it."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert fig.family == "shared_axes" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(3, 201, 4), (2, 83, 3), (1, 127, 4), (3, 155, 2)],
    ids=["four-traces-stacked", "three-traces-stacked", "four-bar-charts-in-a-row", "two-traces"],
)
def test_charts_whose_labels_keep_two_pitches_split_at_the_line_between(seed, index, n):
    """Charts meeting at a frame line with a tick label standing on it, as at a zero line
    across one chart, and the axis running on through (development seeds 1-3): the labels
    nearest the line are spaced unevenly across it, one chart's ticks then the other's,
    where one axis keeps one pitch through a zero line. The figure splits there."""
    assert_extracted_splits_as_drawn(seed, index, "shared_axes", n)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(0, 196, 4), (3, 371, 2)],
    ids=["four-bar-charts-stacked", "two-bar-charts-stacked"],
)
def test_a_shared_axis_is_found_past_a_tick_mark_jutting_along_the_frame_line(seed, index, n):
    """Bar charts stacked (development seeds 0 and 3): the frame line where two meet begins
    at a tick mark that juts out past their y axis, so the axis running on through both
    charts stands a few pixels in from the line's end; it is looked for there too."""
    assert_extracted_splits_as_drawn(seed, index, "shared_axes", n)


def test_charts_framed_each_a_few_pixels_apart_split_once_between_them():
    """Four traces in a row, each in its own frame, the frames 3 px apart (development
    seed 3): both frame lines where two charts meet are found, and taken as one cut, so
    no sliver between them becomes a piece and the row splits into its four charts."""
    assert_extracted_splits_as_drawn(3, 51, "shared_axes", 4)


@pytest.mark.parametrize(("index", "n"), [(33, 4), (240, 3)], ids=["four-traces", "three-bars"])
def test_charts_sharing_an_axis_split_at_their_frames_under_a_caption_naming_none(index, n):
    """Subplots sharing an axis under a caption that names no panels (development seed 5):
    no gutter parts them, but the frame lines where they meet do, repeated across an even
    stack, as no line within one chart is. The figure splits into as many charts as those
    lines part, each with the whole caption."""
    fig, decision, boxes, labels = _extracted_split(5, index, today=True)
    assert fig.family == "shared_axes" and len(fig.panels) == n and not fig.caption_labels
    assert decision.reason == "framed-charts"
    assert_split_as_drawn(fig, boxes, labels)


def test_two_charts_at_one_frame_line_stay_whole_under_a_caption_naming_none():
    """Two bar charts side by side at one frame line (development seed 5), no panels
    named: one line across a chart may be a line within it (a reference line, a forest
    plot's line of no effect), so without a count the figure stays whole."""
    fig, decision, _, _ = _extracted_split(5, 279, today=True)
    assert fig.family == "shared_axes" and len(fig.panels) == 2 and not fig.caption_labels
    assert not decision.accepted and decision.reason == "no-caption-labels"


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(1, 8, 4), (4, 108, 2)],
    ids=["four-charts-stacked", "two-traces-side-by-side"],
)
def test_two_frames_a_pixel_or_few_apart_cut_though_data_touch_both(seed, index, n):
    """Charts each in its own frame, set a pixel or a few apart (development seeds 1 and 4,
    today's layouts), where the tests of a single frame line refuse: a trace runs into the
    frames on both sides of the gap, or a tick label stands at the line's end and the
    labels keep one pitch across it. The double line itself, two frame lines of one extent
    with blank ground between, is the frames meeting: the figure splits there."""
    fig, decision, boxes, labels = _extracted_split(seed, index, today=True)
    assert fig.family == "shared_axes" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(2, 12, 3), (2, 194, 3), (0, 6, 3)],
    ids=["bars-stacked", "traces-stacked", "long-flat-traces"],
)
def test_stacked_charts_are_cut_at_their_frame_lines_alone(seed, index, n):
    """Charts stacked a pixel apart, whose n - 1 frame lines where they meet are all the
    cuts needed: a blank gutter between two bars inside one chart scores higher than a
    frame line, so the search cut the chart there and refused the uneven pieces. The frame
    lines alone divide the figure into its charts, which may be longer and flatter than a
    panel cut at a gutter (development seeds 0, 2)."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert fig.family == "shared_axes" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_chart_with_a_zero_line_stays_whole_under_a_caption_naming_two_panels():
    """A trace about zero, its dark zero line right across the chart at the middle, the
    tick label "0" at its end, the y axis running on through it: one chart, whatever the
    caption names."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    x = np.linspace(0, 10, 200)
    ax.plot(x, 3 * np.sin(x), color="black", lw=1)
    ax.axhline(0, color="black", lw=1.5)
    ax.set_ylim(-4, 4)
    ax.set_ylabel("Signal (a.u.)")
    ax.set_xlabel("Time (s)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    caption = "(A) Signal in controls. (B) Signal after treatment."
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    result = split_figure({"key": "PMC1_F1", "caption": caption}, jpeg_bytes(image))
    assert not result.decision.accepted and result.rows == []


@pytest.mark.parametrize(
    ("index", "n"), [(375, 4), (383, 8)], ids=["photos-in-a-column", "tiles-on-black"]
)
def test_bold_letters_pressed_into_photo_corners_split_the_grid(index, n):
    """Bold black letters set close to a tile's corner on a black figure: the corner's edge is
    the black gutter (its ground is the photograph), the letter fills its box as a blob
    would but holds counters. Read so, the letters confirm the grid."""
    fig, decision, boxes, labels = _generated_split(index, blots=True)
    assert fig.background == "black" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_slanted_word_is_no_drawing_but_an_outlined_box_is():
    """At a working copy's scale a slanted tick label's glyphs touch into one blob as big
    as a drawing's, but it is only as thick as a line of text; a flowchart box's outline
    spreads both ways."""
    from pmc_pipeline.subfigures.roles import _has_blob

    word = np.zeros((60, 60), dtype=bool)
    for k in range(50):
        word[55 - k : 59 - k, k : k + 6] = True  # a band 5 px deep, rising at 45 degrees
    box = np.zeros((60, 60), dtype=bool)
    box[10:40, 5:55] = True
    box[12:38, 7:53] = False
    assert not _has_blob(word, 10, 20)
    assert _has_blob(box, 10, 20)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(2, 89, 3), (1, 389, 9), (2, 305, 6), (0, 175, 6), (1, 7, 4), (2, 47, 6)],
    ids=[
        "table-lettered-beside-a-chart",
        "grid-of-small-tables",
        "tables-of-one-template",
        "short-tables-in-a-spanning-layout",
        "short-table-under-a-tall-column",
        "short-tables-beside-a-tall-heatmap",
    ],
)
def test_ruled_tables_are_panels_however_short(seed, index, n):
    """Tables drawn as images, ruled over and under their header and at their foot: a lone
    letter beside one kept its rules short of the spanning length, and its lines of text
    made it a block of labels; a short one beside a large chart, or in a tall figure, was
    refused as too small; two tables of one template with a third between them were taken
    for rows of one table; one shorter than the least side a panel takes of a tall figure
    was never searched as a piece. Their rules make them panels (development seeds 0-2)."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert "table_image" in [p.kind for p in fig.panels] and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_wide_flat_chart_is_no_block_of_labels():
    """A scatter plot twice as wide as usual, its axis titles behind gutters of their own:
    its strips are all long and thin, as lines of labels are, but the plot's strip is
    deeper than text and its y axis crosses it (development seed 1)."""
    fig, decision, boxes, labels = _extracted_split(1, 124)
    assert fig.panels[0].kind == "scatter_legend" and len(fig.panels) == 4
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(0, 269, 2), (1, 85, 2), (1, 260, 4), (2, 253, 4)],
    ids=["framed-legend", "framed-legend-serif", "zebra-table", "zebra-table-2"],
)
def test_a_framed_legend_or_one_table_stays_whole_under_a_caption_naming_panels(seed, index, n):
    """Guards for the table rules: a framed legend beside its chart has two rules, not
    three (read against the figure's white, not its frame's grey, which would make its
    text lines runs); a single table cut into rows and a piece beside another stays one
    table, though a third piece stands between its top and its foot (development seeds
    0-2)."""
    from dataclasses import replace

    from tests.fixtures.synthetic_figures import _single

    named = " ".join(f"({chr(65 + k)}) Measure {k}." for k in range(n))
    fig = replace(_single("dev", seed, index), caption=f"Effects of treatment. {named}")
    _, result = _split_extracted(fig)
    assert not result.decision.accepted


@pytest.mark.parametrize(
    ("seed", "index", "n"),
    [(2, 103, 12), (1, 341, 4)],
    ids=["stained-sections-edge-to-edge", "column-of-charts"],
)
def test_a_lettered_grid_is_read_at_its_even_cuts_on_a_page_too(seed, index, n):
    """Photographs edge to edge on a white page, lettered down the columns: white
    stretches inside the stained sections are blank lines a cut snaps to, so the grid cut
    there reads few letters; cut at its even places, every cell reads its own (development
    seeds 1-2; the column of charts, whose short table the cut search now tries as a
    piece, is cut right by the search itself)."""
    fig, decision, boxes, labels = _extracted_split(seed, index)
    assert fig.background == "white" and len(fig.panels) == n
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_three_blots_side_by_side_are_cut_between_them_not_under_the_short_one():
    """Three western blots in a row, the middle one short: the row cut through the taller
    two and the wide blank stretch under the short one outscored the even gutters between
    the blots, and its top piece held all three. Searched columns first too, the blots
    part (development seed 2)."""
    fig, decision, boxes, labels = _extracted_split(2, 5)
    assert fig.family == "row" and len(fig.panels) == 3
    assert decision.accepted
    assert_split_as_drawn(fig, boxes, labels)


def test_a_lettered_grid_is_refused_where_another_panels_letter_stands_in_a_cell_corner():
    """A wide chart over three panels in a row, lettered on the page: cut at even places
    into four rows, the first and last rows' corners read "a" and (a tick label) "d",
    while the third row's corner holds the page's "b." that it does not read. That letter
    says the row is panel b, not c: the grid is refused (held-out seed 1, found when
    checking it; the figure stays whole)."""
    from tests.fixtures.synthetic_figures import _compound

    fig, result = _split_extracted(_compound("heldout", 1, 22))
    assert len(fig.panels) == 4
    assert not result.decision.accepted


@pytest.mark.parametrize(
    ("seed", "index", "family", "n"),
    [(0, 16, "row", 4), (1, 209, "mosaic_photos", 4)],
    ids=["section-beside-fluorescence", "tiles-on-colour"],
)
def test_photographs_meeting_where_white_stands_beside_them_in_places_split_there(
    seed, index, family, n
):
    """Photographs edge to edge (development seeds 0 and 1), a stained section's white
    lumen touching the seam along part of it: where photographs stand on both sides the
    grey steps all along, so it is a seam, as an axis with white along one whole side is
    not."""
    assert_extracted_splits_as_drawn(seed, index, family, n)


@pytest.mark.parametrize(
    ("seed", "index"), [(2, 115), (4, 338)], ids=["lettered-row", "unlettered-row"]
)
def test_a_small_blot_whose_labels_take_half_its_width_is_a_panel(seed, index):
    """A row of five panels ending in a western blot (development seeds 2 and 4) whose lane
    and size labels take half its width: no run spans half of it, but its strips, filled
    bands of one span each closer to the next than it is deep, are a blot's, so the row
    splits at its gutters."""
    assert_extracted_splits_as_drawn(seed, index, "row", 5)


@pytest.mark.parametrize(("seed", "index"), [(4, 395), (1, 137)], ids=["scans", "fluorescence"])
def test_a_tall_photograph_beside_two_is_cut_at_the_seam_that_runs_all_along(seed, index):
    """A tall photograph beside two stacked ones, edge to edge (development seeds 4 and
    1): the seam between the columns steps all down the figure, the one between the stacked
    photographs only across their column and on through the tall one in places. Divided
    at the seam along all its line first, the tall one stays whole."""
    assert_extracted_splits_as_drawn(seed, index, "spanning", 3)


def test_a_legend_s_colour_patches_are_no_blot_strips():
    """A stacked area chart's framed legend (development seed 1): its colour patches are
    bands of one span, but a line of text apart, not a blot's strips, so under a caption
    naming two panels the legend is no panel and the chart stays whole."""
    from dataclasses import replace

    from tests.fixtures.synthetic_figures import _single

    fig = _single("dev", 1, 265)
    assert fig.family == "stacked_area"
    fig = replace(fig, caption="Effects of treatment. (A) Measure 0. (B) Measure 1.")
    _, result = _split_extracted(fig)
    assert not result.decision.accepted


def test_development_uneven_columns_are_lettered_down_their_columns():
    """The development set's uneven columns, a layout the held-out set never draws: columns
    holding different counts of panels, the truth lettered down each column in turn (a
    split read rows-first pairs such panels with other panels' sub-captions)."""
    from tests.fixtures.synthetic_figures import LAYOUT_FAMILIES, _compound

    assert "uneven_columns" not in LAYOUT_FAMILIES["heldout"]
    figs = [f for f in (_compound("dev", 0, i) for i in range(6)) if f.family == "uneven_columns"]
    assert len(figs) == 2
    for fig in figs:
        assert fig.order == "columns"
        columns: list[list] = []
        for panel in fig.panels:  # in label order: a panel starts a column or joins the last
            x0, _, x1, _ = panel.box
            if columns and x0 < columns[-1][-1].box[2] and x1 > columns[-1][-1].box[0]:
                assert panel.box[1] > columns[-1][-1].box[1]
                columns[-1].append(panel)
            else:
                assert not columns or x0 >= columns[-1][-1].box[0]
                columns.append([panel])
        assert len(columns) >= 2 and len({len(c) for c in columns}) >= 2


def test_letters_read_strictly_tell_uneven_columns_lettered_down_them():
    """Three heatmaps down the first column and a tall one beside them (development seed 4),
    lettered A-C down the column and D beside: the loose corner reading (the glyphs nearest
    each corner, read as the likeliest label) reads none of the heatmaps' small letters set
    right in their corners, which left the order unsure, every panel with the whole caption.
    Where a corner's strict reading reads a letter it overrules the loose one, and each
    panel takes its own label."""
    fig, decision, boxes, labels = _extracted_split(4, 288, today=True)
    assert fig.family == "uneven_columns" and fig.order == "columns" and fig.letters == "A"
    assert decision.accepted and decision.ordered
    assert [p.label for p in fig.panels] == ["A", "B", "C", "D"]
    assert_split_as_drawn(fig, boxes, labels, 0.9)


def test_a_weak_division_whose_every_corner_reads_strictly_is_kept_in_that_order():
    """Three radiographs down a column and a tall one beside them on black (development seed
    3), cut at seams, too uneven to trust: every piece reads its own letter down the
    columns when corners are read strictly, while the loose reading takes the tall panel's
    "d" (beside a radiograph's "R" marker) for a "b". Every letter agreeing accepts it."""
    fig, decision, boxes, labels = _extracted_split(3, 178, today=True)
    assert fig.family == "uneven_columns" and fig.order == "columns" and fig.background == "black"
    assert decision.accepted and decision.reason == "printed-letters" and decision.ordered
    assert [p.label for p in fig.panels] == ["A", "B", "C", "D"]
    assert_split_as_drawn(fig, boxes, labels, 0.75)


def test_uneven_columns_without_letters_are_split_unaligned():
    """Six tables in columns of different counts (development seed 0), no letters printed,
    under a caption naming (A)-(F): its author lettered them down the columns, which a split
    read rows-first pairs with other panels' sub-captions. The layout does not say which
    order holds, so every panel is kept with the whole caption."""
    fig, result = _extracted(0, 64, today=True)
    assert fig.family == "uneven_columns" and fig.letters == "none" and fig.caption_labels
    accepted = [r for r in result.rows if r["decision"] == "accepted"]
    assert len(accepted) == len(fig.panels) == 6
    assert all(r["label"] is None and r["subcaption"] == fig.caption for r in accepted)


def test_photographs_meeting_in_one_column_are_cut_where_charts_beside_them_have_white():
    """A 3x3 grid drawn without gutters (development seed 2): in the first column two
    photographs meet edge to edge, while beside them charts stand in white. The line between
    the rows is no gutter (the photographs cross it) and no seam right across (white beside
    them): photographs meeting along part of it and nothing else crossing it cut it."""
    reason = assert_extracted_splits_as_drawn(2, 339, "grid", 9, today=True)
    assert reason == "accepted"


def test_a_bar_outline_beside_its_fill_is_no_seam_in_a_chart():
    """Dark bars of a chart under a caption naming two panels (development seed 1): a bar's
    outline steps to its fill all down the bar, which stands on the axis, so the line
    between them steps along most of what crosses it, as between two photographs; but past
    the outline is white, no photograph: no cut, the chart stays whole."""
    fig = dev_single(1, 0)
    assert fig.family == "bar_rotated"
    assert decided(jpeg(fig.image), 2) == []


def _single_named(seed: int, index: int, n: int):
    """A generated development single (today's families) as the split stage sees it after
    extraction, under a caption naming n panels: its family and decision."""
    from tests.fixtures.synthetic_figures import _single

    fig, result = _split_extracted(_single("dev", seed, index), naming(n))
    return fig.family, result.decision


def test_a_legend_boxed_in_beside_its_chart_is_no_panel():
    """A line chart with its legend boxed in beside it, a gutter between (development seed
    1): the frame runs right across the legend as an axis runs across a chart, but inside it
    stand only lines of text, so the legend is no panel and the chart stays whole under a
    caption naming two panels."""
    family, decision = _single_named(1, 30, 2)
    assert family == "line_legend"
    assert not decision.accepted


@pytest.mark.parametrize("index", [109, 136, 166, 255])
def test_a_colour_bar_beside_its_heatmap_is_no_panel(index):
    """Heatmaps with their colour bar standing off behind a gutter (development seed 1): the
    bar runs right down its piece, as a photograph would, but it is narrow and beside it
    stand only its ticks and title, so it is no panel, framed or not."""
    family, decision = _single_named(1, index, 2)
    assert family == "heatmap_colorbar"
    assert not decision.accepted


@pytest.mark.parametrize("index", [35, 94, 110, 162])
def test_a_table_is_not_cut_between_its_rows(index):
    """Tables drawn as images (development seed 1) under a caption naming two panels: the
    gap between two rows is the only cut, and both halves are lines of text whose columns
    stand where the whole table's do, so the table stays whole. Among them: a small table
    whose rules run into its header (no blank row between), one shading every other row,
    and one cut under its header and first row (two lines above the cut)."""
    family, decision = _single_named(1, index, 2)
    assert family == "table_image"
    assert not decision.accepted


def test_an_even_grid_of_a_tables_rows_is_no_lettered_split():
    """A table (development seed 2 #267) under a caption naming three panels: no gutter
    search divides it, but an even grid of three rows does read as lettered, the words
    starting its rows ("BMI", "CRP") taken for panel letters; its cells are rows of one
    table, so the grid is refused and the table stays whole."""
    family, decision = _single_named(2, 267, 3)
    assert family == "table_image"
    assert not decision.accepted


@pytest.mark.parametrize("index", [40, 56, 191])
def test_a_legend_cut_off_by_the_figure_edge_is_no_panel(index):
    """Charts with their legend beside them, cut off by the figure's edge (development seed
    1): its frame is open on one side (or it is filled grey, its corners rounded), so no
    closed frame marks it, but inside stand only entries (a marker or a swatch and words)
    one above the other, so it is no panel and the chart stays whole."""
    family, decision = _single_named(1, index, 2)
    assert family in ("line_legend", "stacked_area")
    assert not decision.accepted


def test_a_bar_top_on_a_grey_plot_ground_is_no_seam():
    """A grouped bar chart on a grey plot ground (development seed 1 #146): the ground
    leaves little white, as photographs do, and the top of one bar steps across its line
    as two photographs meeting would; but one flat grey fills most of it, a chart's ground,
    so no seam is sought there and the chart stays whole."""
    family, decision = _single_named(1, 146, 2)
    assert family == "grouped_bars_legend"
    assert not decision.accepted


@pytest.mark.parametrize(("seed", "index"), [(1, 144), (2, 43)])
def test_an_ultrasound_scan_is_not_cut_at_the_edge_of_a_dark_blob_inside_it(seed, index):
    """Ultrasound scans with a dark blob inside (development seeds 1 and 2): the blob's flat
    top or bottom steps across a row as a faint seam does, where two dark fluorescence
    images meet in a few lit places. But the scan's speckle runs on across that row, lit
    on both sides and unstepped, along most of it: one photograph, which stays whole."""
    family, decision = _single_named(seed, index, 2)
    assert family == "photo_gray"
    assert not decision.accepted


@pytest.mark.parametrize(("index", "n"), [(234, 3), (283, 4)])
def test_a_heatmap_is_not_cut_between_rows_of_its_cells(index, n):
    """Heatmaps beside their colour bars (development seed 5), under captions naming 3 and
    4 panels: a row of cells meets the next with a grey step along the whole line, as two
    photographs edge to edge do, and was cut there (and then between columns). But both
    sides of that line are flat fills, not textures: a heatmap's cells, which stays whole."""
    family, decision = _single_named(5, index, n)
    assert family == "heatmap_colorbar"
    assert not decision.accepted


@pytest.mark.parametrize("index", [122, 236])
def test_a_fluorescence_image_is_not_cut_along_a_dark_band_between_cells(index):
    """Fluorescence images filling the figure (development seed 2): a band without cells
    runs down the middle, dark as the border, but at the camera's noise floor, which a
    gutter drawn in black does not carry, so it is no gutter and the image stays whole."""
    family, decision = _single_named(2, index, 2)
    assert family == "microscopy"
    assert not decision.accepted


def test_a_stained_section_filling_the_figure_is_not_cut_along_its_pale_ground():
    """A stained section filling the figure (development seed 1), its border the tissue's
    pink: a band without nuclei runs right across it, every pixel of the ground's grey, but
    mottled as no page is, so it is no gutter and the photograph stays whole."""
    family, decision = _single_named(1, 113, 2)
    assert family == "microscopy"
    assert not decision.accepted
