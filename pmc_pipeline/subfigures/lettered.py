"""Even grids that the printed letters confirm: panels where cuts alone are too weak to trust.

Why: some compound figures give the cut search nothing it can trust. Fluorescence mosaics
on black hold black stretches inside the photographs that look like gutters; stacked charts
join at their frame lines; tiles meet edge to edge. The search then keeps them whole. Most
such figures print their panel letters, though, and letters are evidence independent of the
cuts: when the caption names n single-letter panels, the figure divides into an even grid
of n cells (rows x columns), most cells read as their own label in their top-left corner
and hardly any as another's, the caption, the grid and the printed letters all agree on
every panel. A wrong grid reads letters in the wrong cells, or none; so does a single figure
whatever its caption says. A wrong grid can also read a few right letters in its corners
while it holds the letters of other panels inside its cells (a column of panels of unequal
heights cut as two by two): letters like those read, in line with them, standing inside a
cell count against it. Cuts between cells snap to a gutter, else to a frame line (stacked
charts), near the even position: panels of one grid differ a little in size.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import string
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image

from .boxes import Box, Span
from .letters import CORNER_H, CORNER_W, Reading, letter_marks, reads_as, single_letters
from .roles import cell_sized, cuts_one_table, min_side
from .work import DARK, Work, background_lines, rule_lines, runs, to_figure, trim

SNAP = 0.3  # a cut is looked for this share of a cell's length either side of its even place
RULE = 0.6  # a dark line across this share of the figure is a frame line between charts
READ = 0.5  # cells that must read as their own label: at least this share and two, and ...
COLUMNS = 0.75  # ... this share for columns-first lettering; and ...
WRONG = 3  # ... this many times as many as read as another cell's label or stray in a cell
SIZE = 0.2  # a letter in line with another: this share of its height apart, at most
CASE = 1.5  # a lowercase letter's height differs from another's at most this many times
ANCHOR_PAD = 2  # work px: a cut before a printed panel letter goes this far before it
ZONE = 0.25  # share of a cell's width from its left in which its printed letter is read
_MAX_PANELS = 16
PROBED = 0.5  # share of cells reading their own letters, with none against, that confirms a
SURE_LEAST = 3  # grid counted from its corners' letters, and at least this many (or all)
_PROBE = 6  # the most rows (columns) of a grid whose corners are read to count its panels
UNREADABLE = {"I", "J"}  # labels no template reads (a bar, in either case): not asked to
ALPHABET = string.ascii_uppercase[:_MAX_PANELS]  # the letters an unnamed figure may print
# what the corners read, by axis (0: along the top row, 1: down the first column) and by
# the count of even cells cut that way, for the cells after the first
ProbeReads = dict[int, dict[int, list[str | None]]]


def lettered_grid(work: Work, corners: Corners) -> list[Box] | None:
    """The panels (figure px, in label order) of the even grid whose cells read as the
    caption's labels (``corners``: the figure's corners read for them, shared with the
    other tests of its letters) rows-first or columns-first; None when no grid reads
    clearly.

    Read twice: first each cell's corner, with cuts at gutters and frame lines; then, when
    no grid reads so, with the panel letters printed on the page as anchors for the cuts and
    read where they stand."""
    n = len(corners.labels)
    if not 2 <= n <= _MAX_PANELS or not single_letters(corners.labels):
        return None
    grids = _Grids(work, corners)
    found = grids.best(anchored=False)
    if found is None:
        letters = _panel_letters(grids.marks())
        if len(letters) >= 2:
            found = grids.best(anchored=True)
        if found is None and letters:  # a corner's letter cut by its crop, or read faintly
            found = grids.best(anchored=False, marked=True)
    return found


class Corners:
    """A figure's printed letters for its caption's labels, read once whatever asks: each
    corner (:func:`reads_as`), and the letters standing anywhere on it, on either ground.
    The divisions tried of one figure share most of their corners (the order test, the
    most-letters test and a search that refuses unread pieces read the same ones), and
    every test of them asks the same letters of the whole figure."""

    def __init__(self, gray: Image.Image, labels: list[str]) -> None:
        self.gray, self.labels = gray, labels
        self._read: dict[Box, Reading | None] = {}

    def read(self, box: Box) -> Reading | None:
        """A piece's corner letter (figure px), as :func:`reads_as` reads it."""
        if box not in self._read:
            self._read[box] = reads_as(self.gray, box, self.labels)
        return self._read[box]

    @functools.cached_property
    def marks(self) -> list[Reading]:
        """The letters like the labels standing alone anywhere, on a page and on photographs
        alike (white letters on black): a letter that refutes a piece is wanted wherever it
        stands, and one misread only keeps the figure whole."""
        return [
            m
            for ground in (0, 255)
            for m in letter_marks(self.gray, self.labels, ground, anywhere=True)
        ]


class PiecesLettered:
    """The letters printed in the corners of a weak division's pieces (figure px, in label
    order), read once for both tests of them: ``every`` piece reads as its own label; or
    ``most`` do. A piece cut wrong holds an unread panel's letter inside it, or its corner
    reads another's; a letter too pale or small to read leaves a right piece unread, which
    alone should not cost the figure all its panels."""

    def __init__(self, corners: Corners, boxes: list[Box]) -> None:
        self.corners, self.boxes, self.labels = corners, boxes, corners.labels

    @functools.cached_property
    def reads(self) -> list[Reading | None]:
        """Each piece's corner letter; none where the labels are not single letters (no
        corner prints "A-C"), so neither test holds."""
        if not single_letters(self.labels):
            return [None] * len(self.boxes)
        return [self.corners.read(box) for box in self.boxes]

    @functools.cached_property
    def right(self) -> list[Reading]:
        """The letters that read as their own piece's label."""
        return [
            r for r, label in zip(self.reads, self.labels, strict=True) if r and r.label == label
        ]

    @property
    def every(self) -> bool:
        """Whether every piece reads as its own label."""
        return len(self.right) == len(self.labels)

    @functools.cached_property
    def most(self) -> bool:
        """Whether most pieces read as their own labels (READ of them, and two), none as
        another's, and no letter like theirs stands inside a piece away from its corner."""
        if self.every:
            return True
        # a letter read in a second corner besides its own is misread there (each is printed
        # once): it says nothing of that piece; any other letter read out of place refutes
        own = {r.label for r in self.right}
        pairs = zip(self.reads, self.labels, strict=True)
        if any(r and r.label != label and r.label not in own for r, label in pairs):
            return False
        readable = sum(label not in UNREADABLE for label in self.labels)
        if len(self.right) < max(2, math.ceil(READ * readable)):
            return False
        stray = _stray(self.corners.marks, self.right, self.boxes)
        return not {m.label for m in stray} - {r.label for r in self.right}


def unnamed_grid(work: Work, gray: Image.Image) -> list[Box] | None:
    """For a caption that names no panels: the even grid whose every cell reads as the
    letters A, B, C ... in order (figure px), as many as the figure prints on its page from
    an "A" at its top-left corner on. Letters on photographs edge to edge stand on no page:
    then the grid of the most cells that its corners' letters count (``_probed_shapes``),
    half its cells and some in every row and column reading right, none against, and the
    letter after its last printed nowhere: not on the page, nor in a corner where even cuts
    put a cell (a grid of the top row's letters, each cell two photographs tall, leaves the
    next row's out; a letter misread inside a photograph, away from the corners, refutes
    nothing). None unless a grid reads so: letters alone are then the count."""
    whole = to_figure(trim(work, (0, 0, *work.size)), work.scale, *gray.size)
    first = reads_as(gray, whole, list(ALPHABET))
    if first is None or first.label != "A":  # most figures: no letter, a quick no
        return None
    letters = _panel_letters(letter_marks(gray, list(ALPHABET), work.bg))
    printed = {m.label for m in letters} | {"A"}
    n = sum(1 for _ in itertools.takewhile(printed.__contains__, ALPHABET))
    grids = _Grids(work, Corners(gray, list(ALPHABET[: max(n, 2)])))
    if n >= 2:
        found = grids.best(anchored=False, sure=1.0) or grids.best(anchored=True, sure=1.0)
        if found is not None:
            return found
    reads = _probe_reads(grids)  # letters on photographs: none stands on the page
    shapes = _probed_shapes(reads)
    printed |= {read for axis in reads.values() for band in axis.values() for read in band if read}
    for k in sorted({rows * cols for rows, cols in shapes}, reverse=True):
        if k < len(ALPHABET) and ALPHABET[k] in printed:
            continue  # the next letter printed, if in a cell's corner: a panel left out
        found = grids.relabelled(list(ALPHABET[:k])).best(
            False, PROBED, row_counts={rows for rows, cols in shapes if rows * cols == k}
        )
        if found is not None:
            return found
    return None


def _probe_reads(grids: _Grids) -> ProbeReads:
    """What the corners read where even cuts put the cells after the first, for 2 to
    ``_PROBE`` cells along the top row and down the first column."""
    return {
        axis: {1: []} | {k: _edge_reads(grids, axis, k) for k in range(2, _PROBE + 1)}
        for axis in (0, 1)
    }


def _probed_shapes(reads: ProbeReads) -> set[tuple[int, int]]:
    """The shapes (rows, columns; 2 to 16 cells) of even grids whose top row and first
    column read as their letters in order, rows-first or columns-first, where even cuts
    put the cells' corners (``_probe_reads``): some letter read, none read against. Panel
    letters printed on photographs edge to edge stand on no page, so the letters found on
    it cannot count the panels; a few corners read tell the grids worth reading every cell
    of (a single photograph's corners read no letters in sequence)."""
    shapes = set()
    for rows, cols in itertools.product(range(1, _PROBE + 1), repeat=2):
        for down, across in ((cols, 1), (1, rows)):  # rows-first, then columns-first
            right = (_in_sequence(reads[1][rows], down), _in_sequence(reads[0][cols], across))
            if min(right) >= 0 and sum(right) >= 1 and 2 <= rows * cols <= _MAX_PANELS:
                shapes.add((rows, cols))
    return shapes


def _edge_reads(grids: _Grids, axis: int, k: int) -> list[str | None]:
    """What the corners of the cells after the first read along the top row (axis=0) or
    down the first column (axis=1) when the figure is cut into k even bands that way."""
    whole, scale, size = grids.whole, grids.work.scale, grids.gray.size
    reads: list[str | None] = []
    for s, e in _bands(whole, axis, k, *grids.lines[axis])[1:]:
        cell = (s, whole[1], e, whole[3]) if axis == 0 else (whole[0], s, whole[2], e)
        read = reads_as(grids.gray, to_figure(cell, scale, *size), list(ALPHABET))
        reads.append(None if read is None else read.label)
    return reads


def _in_sequence(reads: list[str | None], step: int) -> int:
    """How many corners read as the letters ``step`` apart after "A" (B, C ... along the
    top row of a grid lettered rows-first; D, G ... down its column for three columns);
    -1 when one reads as another letter (or the letters run past the alphabet's panels)."""
    if len(reads) * step >= len(ALPHABET):
        return -1
    wanted = [ALPHABET[j * step] for j in range(1, len(reads) + 1)]
    if any(read is not None and read != want for read, want in zip(reads, wanted, strict=True)):
        return -1
    return sum(read is not None for read in reads)


class _Grids:
    """The even grids of one figure, read for its caption's labels."""

    def __init__(self, work: Work, corners: Corners) -> None:
        self.work, self.corners = work, corners  # cells' corners read once, grids share them
        self.whole = trim(work, (0, 0, *work.size))
        # a box's cut lines, read once for every grid
        self.lines = {axis: _cut_lines(work, self.whole, axis) for axis in (0, 1)}
        self._marks: list[Reading] | None = None

    @property
    def gray(self) -> Image.Image:
        return self.corners.gray

    @property
    def labels(self) -> list[str]:
        return self.corners.labels

    def relabelled(self, labels: list[str]) -> _Grids:
        """The same figure's grids, read for other labels (its cut lines shared)."""
        other = copy.copy(self)
        other.corners, other._marks = Corners(self.gray, labels), None
        return other

    def marks(self) -> list[Reading]:
        """The letters printed on the page (read once, and only when needed)."""
        if self._marks is None:
            self._marks = letter_marks(self.gray, self.labels, self.work.bg)
        return self._marks

    def best(
        self,
        anchored: bool,
        sure: float = 0.0,
        marked: bool = False,
        row_counts: set[int] | None = None,
    ) -> list[Box] | None:
        """The grid whose cells read as most labels, clearly; cuts just before the printed
        panel letters when ``anchored``, and letters read where printed then or when
        ``marked`` (a letter right of a chart's tick labels lies past the corner read);
        when ``sure``, this share of the cells (and three, or all) must read as their own
        labels, none as another's (1.0: every cell); grids of ``row_counts`` rows only, if given."""
        work, labels, n = self.work, self.labels, len(self.labels)
        letters = _panel_letters(self.marks()) if anchored or marked else []
        anchors = _anchors(letters if anchored else [], work.scale)
        best: tuple[int, list[Box]] | None = None
        readable = sum(label not in UNREADABLE for label in labels)
        need = max(min(SURE_LEAST, readable), math.ceil(sure * readable)) if sure else None
        for rows, ys, xs in self._layouts(n, anchors, row_counts):
            cols = n // rows
            cells = [(x[0], y[0], x[1], y[1]) for y in ys for x in xs]
            if not all(cell_sized(work, c) for c in cells):  # letters vouch for what they hold
                continue
            cells = [trim(work, c) for c in cells]
            boxes = [to_figure(c, work.scale, *self.gray.size) for c in cells]
            read = [_mark_in(letters, b) or self.corners.read(b) for b in boxes]
            for order, share in _orders(rows, cols):  # order[k]: the cell that carries labels[k]
                hits = [k for k, c in enumerate(order) if (r := read[c]) and r.label == labels[k]]
                right = [read[order[k]] for k in hits]
                if sure and not self._counted(hits, order, rows, cols):
                    continue
                wrong = sum(r.label != labels[k] for k, c in enumerate(order) if (r := read[c]))
                if len(right) < (need or max(2, share * readable)) or len(right) < WRONG * wrong:
                    continue
                placed = [boxes[c] for c in order]
                stray = _stray(self.marks(), right, placed)
                if {m.label for m in stray} - {r.label for r in right}:
                    continue  # an unread panel's letter inside a cell: that panel is elsewhere
                if work.bg >= DARK and _misplaced(self.marks(), right, placed, labels):
                    continue  # another panel's letter printed in a cell's corner (on a page:
                    # letters on black stand over photographs, and read less surely)
                # anchored cuts follow the letters, so a grid that is wrong still reads right
                # in many corners: there, a letter in another's cell or inside one refuses it
                against = wrong + len(stray)
                clear = against == 0 if letters or sure else len(right) >= WRONG * against
                if clear and (best is None or len(right) > best[0]):
                    if cuts_one_table(work, cells):  # rows of one table: a row's word
                        break  # ("BMI", "CRP") reads as a label in a cell's corner
                    # (strips of one blot are not asked: stacked charts pass for them)
                    best = (len(right), placed)
        return None if best is None else best[1]

    def _counted(self, hits: list[int], order: list[int], rows: int, cols: int) -> bool:
        """Whether the labels read right (``hits``, label indices) confirm a grid that the
        letters alone count: some in every row and column of it, and the last letter it
        needs among them (the last but an unreadable one's bar). A grid twice too large
        reads its true panels' letters in half its cells, with none against, but no letter
        in the rows or columns it adds, nor the letters past the panels printed."""
        last = max(k for k, label in enumerate(self.labels) if label not in UNREADABLE)
        cells = [order[k] for k in hits]
        spread = len({c // cols for c in cells}) == rows and len({c % cols for c in cells}) == cols
        return spread and last in hits

    def _layouts(
        self, n: int, anchors: tuple[list[int], list[int]], row_counts: set[int] | None = None
    ) -> Iterator[tuple[int, list[Span], list[Span]]]:
        """Each even grid of n cells (rows, row bands, column bands), its cuts snapped to
        gutters and frame lines; then at their even places too: black stretches inside
        fluorescence photographs, and white ones inside stained sections on a page, draw
        the snapped cuts into a photograph, where only the letters can tell the even grid
        is right."""
        plain = {axis: np.zeros(len(self.lines[axis][0]), bool) for axis in (0, 1)}
        for rows in (
            r for r in range(1, n + 1) if n % r == 0 and (row_counts is None or r in row_counts)
        ):
            cols = n // rows
            ys = _bands(self.whole, 1, rows, *self.lines[1], anchors[1])
            xs = _bands(self.whole, 0, cols, *self.lines[0], anchors[0])
            even = (
                _bands(self.whole, 1, rows, plain[1], plain[1], anchors[1]),
                _bands(self.whole, 0, cols, plain[0], plain[0], anchors[0]),
            )
            grids = [(ys, xs)] + ([even] if even != (ys, xs) else [])
            for ys, xs in grids:
                if all(
                    e - s >= min_side(self.work, axis)
                    for axis, b in ((1, ys), (0, xs))
                    for s, e in b
                ):
                    yield rows, ys, xs  # else cells too small for panels


def _panel_letters(marks: list[Reading]) -> list[Reading]:
    """The marks of panel-letter size: panel letters are the largest single letters a figure
    prints (tick labels and legend letters are smaller), within CASE of the largest."""
    if not marks:
        return []
    tallest = max(m.height for m in marks)
    return [m for m in marks if m.height * CASE >= tallest]


def _anchors(marks: list[Reading], scale: float) -> tuple[list[int], list[int]]:
    """Where printed panel letters start, across (x) and down (y) the figure, in work px: a
    panel begins just before its letter, whether the letter stands in it or above it."""
    return (
        sorted(int(m.x / scale) - ANCHOR_PAD for m in marks),
        sorted(int(m.y / scale) - ANCHOR_PAD for m in marks),
    )


def _mark_in(marks: list[Reading], box: Box) -> Reading | None:
    """The panel letter printed nearest a cell's top-left, within its top CORNER_H and its
    left ZONE (a letter in a chart's frame stands right of the axis labels); None if none."""
    x0, y0, x1, _ = box
    reach = max(CORNER_W, ZONE * (x1 - x0))
    inside = [m for m in marks if 0 <= m.x - x0 <= reach and 0 <= m.y - y0 <= CORNER_H]
    return min(inside, key=lambda m: (m.x - x0) + (m.y - y0), default=None)


def _like_read(right: list[Reading]) -> Callable[[Reading], bool]:
    """Whether a letter on the page is like the panel letters read: about their size, and
    set in line with one of them. Tick labels and arrowheads seldom line up so."""
    low = min(r.height for r in right) / CASE  # "a" is shorter than "b" or "A", in one font
    high = max(r.height for r in right) * CASE

    def like(m: Reading) -> bool:
        near = SIZE * m.height
        lined = any(abs(m.x - r.x) <= near or abs(m.y - r.y) <= near for r in right)
        return low <= m.height <= high and lined

    return like


def _stray(marks: list[Reading], right: list[Reading], boxes: list[Box]) -> list[Reading]:
    """Letters like the panel letters read (their size, set in line with one of them), on
    the page inside a cell but away from its corner: the letter of a panel that a wrong grid
    holds in the middle of a cell. Tick labels and arrowheads seldom line up so."""
    like = _like_read(right)

    def stray_in(m: Reading, b: Box) -> bool:
        inside = b[0] <= m.x < b[2] and b[1] <= m.y < b[3]
        return inside and (m.x - b[0] > CORNER_W or m.y - b[1] > CORNER_H)

    return [m for m in marks if like(m) and m not in right and any(stray_in(m, b) for b in boxes)]


def _misplaced(
    marks: list[Reading], right: list[Reading], boxes: list[Box], labels: list[str]
) -> bool:
    """Whether a letter like the panel letters read (their size, in line with one) is
    printed on the page in a cell's corner as another cell's label: the corner read
    nothing clearly, but the page says that cell is another panel (a row of a chart cut
    at an even place, whose corner holds the next row's letter)."""
    like = _like_read(right)
    return any(
        like(m) and m.label != label and m.label in labels
        for m in marks
        for box, label in zip(boxes, labels, strict=True)
        if 0 <= m.x - box[0] <= CORNER_W and 0 <= m.y - box[1] <= CORNER_H
    )


def _orders(rows: int, cols: int) -> list[tuple[list[int], float]]:
    """Cells (rows-first indices) in label order, with the share that must read: rows-first,
    and columns-first (rarer, so held to more letters) when the grid has several rows and
    columns."""
    first = list(range(rows * cols))
    if rows == 1 or cols == 1:
        return [(first, READ)]
    return [(first, READ), ([i * cols + j for j in range(cols) for i in range(rows)], COLUMNS)]


def _cut_lines(work: Work, box: Box, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """A box's lines (rows for axis=1, columns for axis=0) where a cut may go: background
    (gutters), and dark frame lines on a light figure."""
    background = background_lines(work, box, axis)
    if work.bg < DARK:
        return background, np.zeros(len(background), bool)
    return background, rule_lines(work, box, axis, RULE)


def _bands(
    box: Box,
    axis: int,
    k: int,
    background: np.ndarray,
    dark: np.ndarray,
    anchors: Sequence[int] = (),
) -> list[Span]:
    """``box`` divided along rows (axis=1) or columns (axis=0) into k bands of about one
    length, in work px: each cut just before the printed panel letter (``anchors``, absolute
    work px) nearest its even place, else at the widest gutter (``background`` line run) near
    it, else at the ``dark`` frame line nearest it, else right there (tiles edge to edge)."""
    start, end = (box[1], box[3]) if axis == 1 else (box[0], box[2])
    length = end - start
    gutters = runs(background)
    edges = [start]
    for j in range(1, k):
        at = j * length / k
        lo, hi = int(at - SNAP * length / k), int(np.ceil(at + SNAP * length / k))
        gaps = [(s, e) for s, e in gutters if lo < e < length and 0 < s < hi]
        near = [a - start for a in anchors if lo < a - start < hi]
        if near:
            s = e = min(near, key=lambda a: abs(a - at))
        elif gaps:
            s, e = max(gaps, key=lambda g: (g[1] - g[0], -abs((g[0] + g[1]) / 2 - at)))
        elif (lines := np.flatnonzero(dark[max(lo, 0) : hi])).size:
            s = max(lo, 0) + int(lines[np.argmin(np.abs(lines + max(lo, 0) - at))])
            e = s + 1
        else:
            s = e = round(at)
        edges += [start + s, start + e]
    edges.append(end)
    return list(zip(edges[0::2], edges[1::2], strict=True))
