"""The grey working copy of a figure and the line measures the layout search cuts on.

Why: every rule of the splitter asks the same few questions of the same pixels (is this line
blank? of the background colour? where are the gutters?), so they are answered once per
figure on a copy reduced to about ``WORK_SIDE`` px, memoised, in uint8 without widening.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .boxes import Box, Span

WORK_SIDE = 512  # the longer side is reduced by an integer factor to between this and 2x
_NOISE = 10  # grey levels of a blank line spread less than this (JPEG noise), or less
_BLANK_SPREAD = 40  # than this when its mean is within _RINGING of its lightest grey
_RINGING = 2.0  # (ringing beside an edge moves few pixels; a pale fill moves many)
MIN_GUTTER = 2  # figure pixels; thinner blank lines are gaps between text lines
WHITE = 240  # blank lines this light are background on a light figure
_BG_TOL = 24  # blank lines this close to the border colour are background, when
_EXACT_TOL = 3  # grey levels off the border colour that a gutter drawn in it may show (JPEG)
_UNIFORM_BORDER = 0.8  # this much of the border has that colour
DARK = 128  # a border darker than this makes a dark figure, where white is content
PAGE = 200  # a figure's ground this light is a page (white, pale colour): a mid-grey "ground" is
# a photograph filling the figure, whose smooth grey stretches are no gutters however wide
LINE_MAX = 3  # a blank band of another colour at most this thick (work px) is a separator
CONTENT = 16  # a pixel this far from its background is content (pale photos too)


@dataclass
class Work:
    """The grey working copy of a figure, what the rules measure against, and memos."""

    a: np.ndarray  # uint8 (h, w)
    bg: int  # border colour: the figure's background
    scale: float  # figure pixels per work pixel
    min_gutter: int  # work pixels
    background: np.ndarray  # _background_levels(bg)
    panels: dict[Box, bool] = field(default_factory=dict)  # is_panel verdicts
    structure: dict[Box, bool] = field(default_factory=dict)  # of trimmed boxes
    tables: dict[Box, bool] = field(default_factory=dict)  # small_table verdicts
    trims: dict[Box, Box] = field(default_factory=dict)
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    seams: dict[tuple[Box, int, bool], list[tuple[int, float]]] = field(default_factory=dict)
    steps: dict[int, np.ndarray] = field(default_factory=dict)  # seams' photo steps, per axis
    frames: dict[tuple[Box, int], list[tuple[int, int]]] = field(default_factory=dict)
    # the cut search's: content pixels summed down (axis 0) and across (axis 1, transposed), of the
    # working copy and (``True``) of the unreduced figure; and the cuts of a box (box, axis,
    # cuts needed, faint seams, frame lines) -> (start, end, strength)
    summed: dict[tuple[bool, int], np.ndarray] = field(default_factory=dict)
    cuts: dict[tuple[Box, int, int, bool, bool], list[tuple[int, int, float]]] = field(
        default_factory=dict
    )
    # per line (axis, cross interval): [(start, end, blank, light)] of the lines computed
    levels: dict[tuple[int, int, int], list[tuple[int, int, np.ndarray, np.ndarray]]] = field(
        default_factory=dict
    )
    full: Image.Image | None = None  # the figure's grey before reduction; None: not reduced

    def blank_level(self, region: Box, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_blank_level` of a region's lines (rows for axis=1, columns for axis=0).

        A line's verdict depends only on its own pixels, so lines of a region already
        measured across the same extent (a piece cut from it along that axis) are sliced
        from the memo, not read again.
        """
        x0, y0, x1, y1 = region
        start, end = (y0, y1) if axis == 1 else (x0, x1)
        known = self.levels.setdefault((axis, *((x0, x1) if axis == 1 else (y0, y1))), [])
        for s, e, blank, light in known:
            if s <= start and end <= e:
                return blank[start - s : end - s], light[start - s : end - s]
        blank, light = _blank_level(self.a[y0:y1, x0:x1], axis)
        known.append((start, end, blank, light))
        return blank, light

    def content(self, box: Box) -> np.ndarray:
        """Pixels of a box unlike its own background (its border colour: a white panel on a
        black figure has a white background)."""
        x0, y0, x1, y1 = box
        sub = self.a[y0:y1, x0:x1]
        local = int(median(np.concatenate([sub[0], sub[-1], sub[:, 0], sub[:, -1]])))
        if abs(local - self.bg) <= _BG_TOL:
            local = self.bg
        elif local >= WHITE:
            local = 255
        else:  # a panel on its own coloured ground: rare, measured for this box only
            return unlike(sub, local, CONTENT)
        if local not in self.masks:
            self.masks[local] = unlike(self.a, local, CONTENT)
        return self.masks[local][y0:y1, x0:x1]

    @property
    def size(self) -> tuple[int, int]:
        return self.a.shape[1], self.a.shape[0]


def working_copy(img: Image.Image) -> Work:
    full = img if img.mode == "L" else img.convert("L")
    factor = max(1, max(full.size) // WORK_SIDE)
    gray = full.reduce(factor) if factor > 1 else full
    a = np.asarray(gray, dtype=np.uint8)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    bg = int(median(border))
    if np.mean(np.abs(border.astype(np.int16) - bg) <= _BG_TOL) < _UNIFORM_BORDER:
        bg = 255  # panels reach the border: no background of its own, white only
    scale = img.size[0] / a.shape[1]
    gutter = max(1, round(MIN_GUTTER / scale))
    return Work(a, bg, scale, gutter, _background_levels(bg), full=full if factor > 1 else None)


def exact_copy(work: Work) -> Work:
    """The working copy with background only within ``_EXACT_TOL`` of the border colour
    (fresh memos, but the lines' blank levels, which depend on their pixels alone): on a
    dark figure, black gutters are the border's black exactly, while the dark stretches
    inside fluorescence photographs carry the camera's noise floor."""
    levels = _background_levels(work.bg, _EXACT_TOL)
    return Work(
        work.a, work.bg, work.scale, work.min_gutter, levels, levels=work.levels, full=work.full
    )


def median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D array, by one partial sort: np.median's own overhead is
    several times this on the short arrays (borders, neighbourhoods) it is asked about."""
    k = values.size // 2
    if values.size % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return (float(part[k - 1]) + float(part[k])) / 2


def commonest_grey(a: np.ndarray, tol: int = 0) -> tuple[int, float]:
    """The grey level most pixels of a uint8 array hold, and the share within ``tol`` of
    it: a region's own ground (a filled legend's, a chart's plot area)."""
    counts = np.bincount(a.ravel(), minlength=256)
    level = int(counts.argmax())
    near = counts[max(0, level - tol) : level + tol + 1].sum()
    return level, float(near / max(1, a.size))


def unlike(a: np.ndarray, value: int, tol: int) -> np.ndarray:
    """|a - value| > tol for uint8 without widening: one wrapping subtraction, one compare."""
    lo, hi = value - tol, value + tol
    if lo <= 0:
        return a > hi
    if hi >= 255:
        return a < lo
    return a - np.uint8(lo) > 2 * tol


def to_figure(box: Box, scale: float, w: int, h: int) -> Box:
    x0, y0, x1, y1 = box
    return (
        max(0, int(x0 * scale)),
        max(0, int(y0 * scale)),
        min(w, int(np.ceil(x1 * scale))),
        min(h, int(np.ceil(y1 * scale))),
    )


def trim(work: Work, region: Box) -> Box:
    """Shrink a region to its content: drop blank background lines at its edges.

    Only background (white or the border colour) is margin: the smooth dark edge of a
    photograph or a panel's frame line is content.
    """
    if region not in work.trims:
        x0, y0, x1, y1 = region
        rows = _content_lines(work, region, 1)
        cols = _content_lines(work, region, 0)
        if len(rows) and len(cols):
            trimmed = (x0 + int(cols[0]), y0 + int(rows[0]))
            work.trims[region] = (*trimmed, x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
        else:
            work.trims[region] = region
    return work.trims[region]


def _content_lines(work: Work, region: Box, axis: int) -> np.ndarray:
    return np.flatnonzero(~background_lines(work, region, axis))


def background_lines(work: Work, region: Box, axis: int) -> np.ndarray:
    """Lines of a region (rows for axis=1, columns for axis=0) that are blank background."""
    blank, light = work.blank_level(region, axis)
    return blank & work.background[light]


def _background_levels(bg: int, tol: int = _BG_TOL) -> np.ndarray:
    """Which grey levels are background: the figure's border colour, and white unless the
    figure is dark (a white panel on black is the panel, margin included). A table of all
    256 levels, looked up per line."""
    level = np.arange(256)
    near = np.abs(level - bg) <= tol
    return near | (level >= WHITE) if bg >= DARK else near


def _blank_level(sub: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Blank lines (rows for axis=1, columns for axis=0) and each line's lightest grey.

    A line is blank when its grey levels spread less than ``_NOISE``, or less than
    ``_BLANK_SPREAD`` while its mean stays within ``_RINGING`` of its lightest grey: JPEG
    ringing beside an edge moves a few pixels, a pale fill next to white moves many. Means
    are taken of those unsure lines only, as exact integer sums.
    """
    light = sub.max(axis=axis)
    spread = light - sub.min(axis=axis)
    blank = spread < _NOISE
    unsure = np.flatnonzero(~blank & (spread < _BLANK_SPREAD))
    if unsure.size:
        lines = sub[unsure] if axis == 1 else sub[:, unsure]
        n = sub.shape[axis]
        total = lines.sum(axis=axis, dtype=np.int32)
        blank[unsure] = light[unsure].astype(np.int32) * n - total < _RINGING * n
    return blank, light


def gutter_pieces(work: Work, region: Box, axis: int, wide: float | None = None) -> list[Box]:
    """Cut a region at its interior gutters: rows (axis=1) or columns (axis=0); [] when
    there is none.

    A gutter is a run of blank lines of the background colour (white, or the border
    colour) at least ``min_gutter`` thick, or a thin separator line of any colour; with
    ``wide`` (work px), only background gutters at least that wide.
    """
    x0, y0, x1, y1 = region
    gutters, lines = _find_cuts(work, region, axis)
    if wide is not None:
        gutters, lines = [(s, e) for s, e in gutters if e - s >= wide], []
    cuts = sorted(gutters + lines)
    if not cuts:
        return []
    n = (y1 - y0) if axis == 1 else (x1 - x0)
    edges = [0, *[v for c in cuts for v in c], n]
    spans = zip(edges[0::2], edges[1::2], strict=True)
    if axis == 1:
        return [(x0, y0 + a, x1, y0 + b) for a, b in spans]
    return [(x0 + a, y0, x0 + b, y1) for a, b in spans]


def _find_cuts(work: Work, region: Box, axis: int) -> tuple[list[Span], list[Span]]:
    """Interior background gutters and separator lines of a region, as line spans.

    A separator is a dark rule on a light figure (light lines between photos are seams)
    at most ``LINE_MAX`` thick, with content on both sides.
    """
    blank, light = work.blank_level(region, axis)
    if not blank.any():
        return [], []
    background = blank & work.background[light]
    n = blank.size
    gutters = [
        (s, e)
        for s, e in _background_gutters(blank, background, work.min_gutter)
        if s > 0 and e < n
    ]
    lines = []
    if work.bg >= DARK:
        lines = [
            (s, e)
            for s, e in runs(blank & ~background)
            if e - s <= LINE_MAX and s > 0 and e < n and not blank[s - 1] and not blank[e]
        ]
    return gutters, lines


def _background_gutters(
    blank: np.ndarray, background: np.ndarray, min_width: int
) -> list[tuple[int, int]]:
    """Runs of background lines at least ``min_width`` thick; a separator line inside a
    gutter joins the runs on either side. Uniform lines of another colour at a gutter's
    edge (the smooth edge of a photograph) stay with the content."""
    merged: list[list[int]] = []
    for s, e in runs(background):
        if merged and s - merged[-1][1] <= LINE_MAX and blank[merged[-1][1] : s].all():
            merged[-1][1] = e
            merged[-1][2] += e - s
        else:
            merged.append([s, e, e - s])
    return [(s, e) for s, e, width in merged if width >= min_width]


def rule_lines(work: Work, box: Box, axis: int, share: float) -> np.ndarray:
    """Lines of a box (rows for axis=1, columns for axis=0) holding an unbroken dark run
    across ``share`` of it: frame lines, where charts meet."""
    x0, y0, x1, y1 = box
    ink = work.a[y0:y1, x0:x1] < DARK
    lines = ink if axis == 1 else ink.T
    return long_runs(lines, share * lines.shape[1])[0]


def long_runs(lines: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a 2-D mask: whether it holds a run of True at least ``length`` long, and
    where its first such run starts and its last ends (0 where none)."""
    h, w = lines.shape
    long, first, last = np.zeros(h, bool), np.zeros(h, np.int64), np.zeros(h, np.int64)
    candidates = np.flatnonzero(lines.view(np.uint8).sum(axis=1, dtype=np.int32) >= length)
    if not candidates.size:
        return long, first, last
    picked = np.zeros((candidates.size, w + 2), dtype=bool)
    picked[:, 1:-1] = lines[candidates]
    row, col = np.divmod(np.flatnonzero(np.diff(picked.view(np.int8), axis=1)), w + 1)
    keep = col[1::2] - col[0::2] >= length
    rows, starts, ends = candidates[row[0::2][keep]], col[0::2][keep], col[1::2][keep]
    long[rows] = True
    first[rows[::-1]] = starts[::-1]  # the first assignment to a row wins when reversed
    last[rows] = ends
    return long, first, last


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1]).tolist()
    return list(zip(edges[0::2], edges[1::2], strict=True))


def share(mask: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Fraction of True (``mask.mean``), per line along ``axis``; counting bytes is many
    times faster than numpy's float mean of booleans."""
    n = mask.size if axis is None else mask.shape[axis]
    return mask.view(np.uint8).sum(axis=axis, dtype=np.int64) / n


class Runs:
    """Unbroken runs of True along the rows (axis=1) or columns (axis=0) of a 2-D mask.

    Only lines with at least that many True in total can hold a run that long, so each
    line's total is counted once per axis and only those lines are scanned: the first 32
    (a photograph answers there), then the rest at once. What a scan found answers the
    next, shorter question without scanning those lines again.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.counts: dict[int, np.ndarray] = {}
        # per axis: lines with at least this many True were all scanned; longest run seen
        self.scanned: dict[int, tuple[float, int]] = {}

    def has(self, length: float, axis: int) -> bool:
        """Whether some line holds a run of True at least ``length`` long."""
        if axis not in self.counts:
            self.counts[axis] = self.mask.view(np.uint8).sum(axis=axis, dtype=np.int32)
        counts = self.counts[axis]
        done, longest = self.scanned.get(axis, (np.inf, 0))
        if longest >= length:
            return True
        if length >= done:
            return False
        lines = np.flatnonzero((counts >= length) & (counts < done))
        for chunk in (lines[:32], lines[32:]):
            if chunk.size:
                longest = max(longest, _longest_run(self.mask, chunk, axis))
                if longest >= length:
                    self.scanned[axis] = (done, longest)
                    return True
        self.scanned[axis] = (length, longest)
        return False


def _longest_run(mask: np.ndarray, lines: np.ndarray, axis: int) -> int:
    """Length of the longest run of True in the given rows (axis=1) or columns (axis=0)."""
    picked = mask[lines] if axis == 1 else mask[:, lines].T
    padded = np.zeros((picked.shape[0], picked.shape[1] + 2), dtype=bool)
    padded[:, 1:-1] = picked  # False either side: runs stay in their line
    flat = padded.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1])
    return int((edges[1::2] - edges[0::2]).max(initial=0))
