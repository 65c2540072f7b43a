"""Region roles: which pieces of a figure can be panels, and which only annotate one.

Why: a legend, a row of tick labels, a title, a colour bar or a lone panel letter cut off by a
gutter is not a panel: paired with a caption it teaches a model something false. A panel is
large enough, not a thin strip, and has structure (an axis, a frame, a photograph, a drawing)
that text alone has not (a western blot's strips are filled bands, which no line of text is).
Two pieces of one table cut between its rows, or of one blot cut between its strips, are no
panels either.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage

from .boxes import Box, area
from .work import (
    CONTENT,
    DARK,
    LINE_MAX,
    Runs,
    Work,
    background_lines,
    commonest_grey,
    gutter_pieces,
    long_runs,
    runs,
    trim,
    unlike,
)

_MIN_SIDE_FRAC = 0.08  # a panel spans at least this fraction of the figure's width and height
MIN_SIDE_PX = 24  # ... and at least this many work pixels on each side
_MIN_AREA_FRAC = 0.015
_MAX_ASPECT = 8.0  # titles, colour bars and axis labels are longer and thinner than this
_STACKED_ASPECT = 16.0  # a chart cut from a stack at frame lines may be this long and flat
# A panel has structure, which text alone (titles, legends, labels) has not: an unbroken run
_STRUCTURE = 0.5  # of content this long (of the panel's width or height), or this long
_STRUCTURE_FIG = 0.2  # (of the figure's), for rows of several panels: an axis, a frame ...
_SPANNING = 0.9  # (a run across this much of a panel is never text; a shorter one may be a
_LABEL_ASPECT = 4.0  # row of bold rotated words: strips thinner than this cut by gutters),
_CROSSED_DEPTH = 60  # figure px: a strip this deep, crossed by a run, is a flat chart
_BLOB_MIN = 20  # or a connected blob at least this big (figure px) both ways and
_BLOB_MAX = 40  # this big one way: a drawing without long lines
_WORD_DEPTH = 0.75  # of _BLOB_MIN: a slanted word's blob is no deeper than this across
_BAND = 8  # figure px: long runs on this many lines in a row are a filled band (a blot strip),
# which no line of text is: stacked blot strips are no block of labels
_STRIP_ASPECT = 3.0  # a blot strip is at least this many times longer than deep
_STRIPS = 3  # a blot has this many strips at least, of one span, where it is a panel alone
_FILLED = 0.75  # a strip's columns hold content on this share of its lines (a faint edge line)
_SAME_SPAN = 0.03  # strips of one blot start and end within this share of their length,
_SAME_DEPTH = 1.5  # and are about one depth (within this ratio)
_BAR_SHARE = 0.34  # a colour bar is at most this share of its piece across (ticks, a title),
_GRADE_SPREAD = 24  # grey levels across it on one line at most (JPEG ringing, a tick) ...
_GRADED = 0.9  # ... on this share of its lines
_ENTRIES = 2  # a legend has this many entries at least, one above the other
_KEY_RUN = 0.3  # a legend's markers, line samples and words each run this share of it at most
_FRAME = 0.8  # a frame line is inked along this share of its length at least
_RULES = 3  # rules of one extent at least: a table's (over and under its header, at its foot)
_TABLE_LINES = 3  # a piece of a table holds this many lines of text at least, ...
_TABLE_GAPS = 2  # ... in columns parted by this many blank gaps at least, ...
_ALIGNED = 0.8  # ... and this share of either piece's gaps fall within the other's,
_ROW_GAP = 3.0  # ... and parted by no blank gutter deeper than this many text lines
_SHADE = 24  # a row of text stands on a ground this near the page's (a table's shaded row)


def is_panel(work: Work, box: Box) -> bool:
    """Big enough (a ruled table: less), not a thin strip, and with structure (an axis, a
    frame, a photo).

    The untrimmed box is checked first: when it is too small, its content is too.
    """
    if box not in work.panels:
        sized = panel_sized(work, box) or small_table(work, box)
        work.panels[box] = sized and _structured(work, trim(work, box))
    return work.panels[box]


def panel_sized(work: Work, box: Box) -> bool:
    """Large enough and not a thin strip, before and after trimming: the shape of a panel,
    whatever it holds (a table, a dark photograph)."""
    return _fits_panel(work, box) and _fits_panel(work, trim(work, box))


def small_table(work: Work, box: Box) -> bool:
    """A table ruled as tables are (``is_ruled``) is a panel however short beside the
    figure's other panels, if it is no thin strip and as big as a panel must be at least
    (judged once per box: every layout search of the figure asks of its short pieces)."""
    if box not in work.tables:
        held = trim(work, box)
        side = min(held[2] - held[0], held[3] - held[1])
        work.tables[box] = side >= MIN_SIDE_PX and _not_strip(held) and is_ruled(work, held)
    return work.tables[box]


def cell_sized(work: Work, cell: Box) -> bool:
    """A grid cell that its printed letter vouches for: the cell has a panel's shape, and
    what it holds is no thin strip or lone letter, however small a share of the figure it
    takes (a short table in a tall column of panels)."""
    held = trim(work, cell)
    side = min(held[2] - held[0], held[3] - held[1])
    return side >= MIN_SIDE_PX and _not_strip(held) and _fits_panel(work, cell)


def stacked_chart(work: Work, box: Box) -> bool:
    """A piece of a stack of charts cut at the frame lines where they meet: a panel, but
    for its shape, which may be as long and flat as ``_STACKED_ASPECT`` (a trace over a
    long time axis; the frame lines, not the shape, say it is no title or colour bar)."""
    held = trim(work, box)
    return (
        _not_strip(held, _STACKED_ASPECT) and _large_enough(work, held) and _structured(work, held)
    )


def _fits_panel(work: Work, box: Box) -> bool:
    return _large_enough(work, box) and _not_strip(box)


def _not_strip(box: Box, aspect: float = _MAX_ASPECT) -> bool:
    """No longer and thinner than ``aspect`` (a title, a colour bar, an axis label)."""
    w, h = box[2] - box[0], box[3] - box[1]
    return max(w / h, h / w) <= aspect


def _large_enough(work: Work, box: Box) -> bool:
    """Sides and area a panel needs (a box that grows keeps passing: unlike the aspect)."""
    w, h = box[2] - box[0], box[3] - box[1]
    if w < min_side(work, 0) or h < min_side(work, 1):
        return False
    return w * h >= min_area(work)


def min_side(work: Work, axis: int) -> float:
    """The least width (axis=0) or height (axis=1) of a panel, in work pixels."""
    return max(MIN_SIDE_PX, _MIN_SIDE_FRAC * work.size[axis])


def min_area(work: Work) -> float:
    """The least area of a panel, in work pixels."""
    return _MIN_AREA_FRAC * work.size[0] * work.size[1]


def _is_label_block(work: Work, box: Box) -> bool:
    """A row of tick labels, a legend, lines of text: its own gutters cut it into three or
    more strips that are all thin or tiny (bold rotated words have long runs, but are thin).
    """
    w_fig, h_fig = work.size
    for axis in (1, 0):
        strips = gutter_pieces(work, box, axis)
        if len(strips) >= 3 and all(
            (max(w / h, h / w) > _LABEL_ASPECT or w * h < _MIN_AREA_FRAC * w_fig * h_fig)
            and not _crossed(work, s, axis)
            for s, w, h in ((s, s[2] - s[0], s[3] - s[1]) for s in strips)
        ):
            return True
    return False


def _crossed(work: Work, strip: Box, axis: int) -> bool:
    """Whether a strip cut by gutters along ``axis`` is deeper than lines of text and
    unbroken runs cross nearly all its depth in one or two places (a chart's axis and its
    frame's far side): a wide, flat chart, which no row of words is. Crossed in more
    places, it is a row of charts: no panel either, whatever gutters part it."""
    depth = strip[3] - strip[1] if axis == 1 else strip[2] - strip[0]
    if depth < _CROSSED_DEPTH / work.scale:
        return False
    mask = work.content(strip)
    long, _, _ = long_runs(mask.T if axis == 1 else mask, _SPANNING * depth)
    return 1 <= len(runs(long)) <= 2


def _structured(work: Work, box: Box) -> bool:
    if box not in work.structure:
        work.structure[box] = _has_structure(work, box)
    return work.structure[box]


def _has_structure(work: Work, box: Box) -> bool:
    """A long unbroken run of content (axis, frame, photo) outside a block of labels or a
    legend, else a big blob (a drawing) that is no legend's."""
    x0, y0, x1, y1 = box
    w_fig, h_fig = work.size
    w, h = x1 - x0, y1 - y0
    runs = Runs(work.content(box))
    need_w, need_h = (
        min(_STRUCTURE * w, _STRUCTURE_FIG * w_fig),
        min(_STRUCTURE * h, _STRUCTURE_FIG * h_fig),
    )
    if runs.has(_SPANNING * w, axis=1) or runs.has(_SPANNING * h, axis=0):
        return not _annotation(work, box, runs.mask)  # photos, frames, axes across it
    if runs.has(need_w, axis=1) or runs.has(need_h, axis=0):
        deep = _BAND / work.scale
        if _band_depth(runs.mask, need_w, 1) >= deep or _band_depth(runs.mask, need_h, 0) >= deep:
            return True
        if _ruled(runs.mask, need_w):  # its own ground, as read for the runs: a framed
            return True  # legend's text lines read as thick bands there, no thin rules
        return not _is_label_block(work, box) and not _legend(work, box)
    if _blot_strips(runs.mask, _BAND / work.scale):
        return True
    blob = _has_blob(runs.mask, _BLOB_MIN / work.scale, _BLOB_MAX / work.scale)
    return blob and not _legend(work, box)  # a legend's line samples join its markers


def _annotation(work: Work, box: Box, mask: np.ndarray) -> bool:
    """Whether the runs right across a piece are only those of an annotation: a colour bar
    (``_colour_bar``) or a legend's frame (``_framed_legend``). Runs right across a piece
    make it a panel otherwise (a photograph, a chart's axes, a frame)."""
    h, w = mask.shape
    rows = np.flatnonzero(long_runs(mask, _SPANNING * w)[0])
    cols = np.flatnonzero(long_runs(mask.T, _SPANNING * h)[0])
    return (
        _colour_bar(work, box, rows, cols, 0)
        or _colour_bar(work, box, cols, rows, 1)
        or _framed_legend(work, box, rows, cols)
        or _legend(work, box)
    )


def _legend(work: Work, box: Box) -> bool:
    """Whether a piece is a legend, framed or not, cut off by the figure's edge or not:
    inside any frame lines at its edges, its ink (read against its own ground: a legend
    may be filled) lies in ``_ENTRIES`` or more thin strips one above the other (an entry:
    a marker, a line or a swatch, and words), none holding an unbroken run ``_KEY_RUN`` of
    the piece's width (a bar of a chart without axes, a blot's lane) and no blob bigger
    than a marker, in one column of entries (a table's lines part into columns of values)."""
    x0, y0, x1, y1 = box
    sub = work.a[y0:y1, x0:x1]
    ink = _unframed(unlike(sub, commonest_grey(sub)[0], CONTENT))
    strips = runs(ink.any(axis=1))
    if len(strips) < _ENTRIES:
        return False
    width = x1 - x0
    for s, e in strips:
        inked = np.flatnonzero(ink[s:e].any(axis=0))
        if inked[-1] - inked[0] + 1 < _LABEL_ASPECT * (e - s):
            return False
    if Runs(ink).has(_KEY_RUN * width, axis=1):  # a bar, a blot's lane: no marker's
        return False
    if _has_blob(ink, _BLOB_MIN / work.scale, _BLOB_MAX / work.scale):
        return False  # a blot's lane of bands, a drawing: bigger than a marker or swatch
    if is_ruled(work, box):  # a table: ruled over and under its header, at its foot ...
        return False
    # ... its lines in columns (a legend has one gap at most, between markers and words)
    depth = float(np.median([e - s for s, e in strips]))
    return len(_gaps_down([ink[s:e].any(axis=0) for s, e in strips], depth)) < _TABLE_GAPS


def _gaps_down(inked: list[np.ndarray], least: float) -> list[tuple[int, int]]:
    """The gaps between columns of text: blank down all its lines but a quarter (a header
    merged with the rule under it, a short last row), between the first and the last
    inked column, ``least`` wide at least (wider than the spaces between words). ``inked``:
    each line's inked columns."""
    votes = np.sum([~columns for columns in inked], axis=0)
    blank = votes >= len(inked) - len(inked) // 4
    ink = np.flatnonzero(~blank)
    if not ink.size:
        return []
    return [(s, e) for s, e in runs(blank) if ink[0] < s and e <= ink[-1] and e - s >= least]


def _unframed(ink: np.ndarray) -> np.ndarray:
    """A piece's ink without the frame at its edges (``_frame_lines``, rows and columns)."""
    out = ink.copy()
    out[_frame_lines(ink.sum(axis=1), ink.shape[1])] = False
    out[:, _frame_lines(ink.sum(axis=0), ink.shape[0])] = False
    return out


def _frame_lines(counts: np.ndarray, length: int) -> np.ndarray:
    """The lines (of inked ``counts``, each ``length`` long) of a frame at either end:
    inked along most of their length, within a few pixels of the end, and all beyond them
    (a rounded corner)."""
    edge = 2 * (LINE_MAX + 1)
    framed = np.flatnonzero(counts >= _FRAME * length)
    first, last = framed[framed < edge], framed[framed >= counts.size - edge]
    cut = np.zeros(counts.size, dtype=bool)
    if first.size:
        cut[: first.max() + 2] = True
    if last.size:
        cut[last.min() - 1 :] = True
    return cut


def _framed_legend(work: Work, box: Box, rows: np.ndarray, cols: np.ndarray) -> bool:
    """Whether the rows and columns holding runs right across a piece are only a frame
    about its edges, with lines of text inside (``_is_label_block``): a legend boxed in,
    which a gutter parts from its chart like a panel, while a framed chart has its tick
    labels outside its frame and a framed photograph or drawing holds long runs inside."""
    x0, y0, x1, y1 = box
    edge = LINE_MAX
    if min(x1 - x0, y1 - y0) <= 4 * (edge + 1):  # too small to hold lines of text inside
        return False
    for lines, length in ((rows, y1 - y0), (cols, x1 - x0)):
        at_edges = (lines <= edge) | (lines >= length - 1 - edge)
        if not lines.size or not at_edges.all():
            return False
        if lines.min() > edge or lines.max() < length - 1 - edge:
            return False
    inner = trim(work, (x0 + edge + 1, y0 + edge + 1, x1 - edge - 1, y1 - edge - 1))
    return _is_label_block(work, inner)


def _colour_bar(work: Work, box: Box, across: np.ndarray, along: np.ndarray, axis: int) -> bool:
    """Whether a piece is a colour bar with its ticks and title: no line holds a run right
    across it one way (``across``), the lines that do the other way (``along``: columns
    for axis=0) lie in a band thicker than a line (an axis cut off with its tick labels
    is no bar) and at most ``_BAR_SHARE`` of the piece, one grey across (``_graded``),
    and beside that band stands text only (``_text_only``)."""
    if across.size or not along.size:
        return False
    x0, y0, x1, y1 = box
    start, length = (x0, x1 - x0) if axis == 0 else (y0, y1 - y0)
    a, b = start + int(along[0]), start + int(along[-1]) + 1
    if not LINE_MAX < b - a <= _BAR_SHARE * length:  # a filled bar: no axis line
        return False
    if not _graded(work.a[y0:y1, a:b] if axis == 0 else work.a[a:b, x0:x1].T):
        return False
    sides = ((x0, y0, a, y1), (b, y0, x1, y1)) if axis == 0 else ((x0, y0, x1, a), (x0, b, x1, y1))
    return all(_text_only(work, trim(work, side)) for side in sides if area(side) > 0)


def _graded(bar: np.ndarray) -> bool:
    """Whether a bar (its length down the rows) is one grey across nearly every line, its
    edges (a frame) left out: a colour bar changes only along its length, while a narrow
    chart filled with areas or bars changes across it where their edges cross."""
    inner = bar[:, LINE_MAX:-LINE_MAX] if bar.shape[1] > 2 * LINE_MAX + 1 else bar
    spread = inner.max(axis=1).astype(np.int16) - inner.min(axis=1)
    return float(np.mean(spread <= _GRADE_SPREAD)) >= _GRADED


def _text_only(work: Work, box: Box) -> bool:
    """Whether a box holds no run of content half its width or height and no blob of a
    drawing's size: tick labels and a title, no chart or photograph."""
    runs = Runs(work.content(box))
    w, h = box[2] - box[0], box[3] - box[1]
    if runs.has(_STRUCTURE * w, axis=1) or runs.has(_STRUCTURE * h, axis=0):
        return False
    return not _has_blob(runs.mask, _BLOB_MIN / work.scale, _BLOB_MAX / work.scale)


def _blot_strips(mask: np.ndarray, deep: float) -> bool:
    """Whether ``_STRIPS`` filled bands or more (long runs on ``deep`` lines in a row,
    several times longer than deep) span the same columns, each closer to the next than it
    is deep: a western blot's strips, whose lane and size labels may take half a small
    panel's width. A band's span is its longest run of columns filled on nearly all its
    lines (``_FILLED``; labels beside a strip fill only some). Lines of text are thinner
    and span columns of their own; a legend's colour patches stand a line of text apart."""
    filled = _speckle_filled(mask)
    long, _, _ = long_runs(filled, _STRIP_ASPECT * deep)
    bands = []
    for s, e in runs(long):
        full = runs(filled[s:e].mean(axis=0) >= _FILLED) if e - s >= deep else []
        start, end = max(full, key=lambda r: r[1] - r[0], default=(0, 0))
        if end - start >= _STRIP_ASPECT * (e - s):
            bands.append((s, e, start, end))
    if len(bands) < _STRIPS:
        return False
    starts, ends = np.array([b[2:] for b in bands]).T
    tolerance = max(2.0, _SAME_SPAN * float(np.median(ends - starts)))
    start_at, end_at = np.median(starts), np.median(ends)
    strips = [
        (s, e)
        for s, e, start, end in bands
        if abs(start - start_at) <= tolerance and abs(end - end_at) <= tolerance
    ]
    chain = longest = 1
    for (_, e0), (s1, e1) in zip(strips, strips[1:], strict=False):
        chain = chain + 1 if s1 - e0 <= e1 - s1 else 1
        longest = max(longest, chain)
    return len(strips) >= _STRIPS and longest >= _STRIPS


def _band_depth(mask: np.ndarray, length: float, axis: int) -> int:
    """The most consecutive rows (axis=1) or columns (axis=0) that each hold a run of True
    at least ``length`` long."""
    long, _, _ = long_runs(mask if axis == 1 else mask.T, length)
    return max((e - s for s, e in runs(long)), default=0)


def cuts_one_block(work: Work, boxes: list[Box]) -> bool:
    """Whether two of the pieces, one above the other, are rows of one table or strips of
    one blot: cut inside one block, so neither is a panel."""
    return any(
        one_table(work, upper, lower) or one_blot(work, upper, lower)
        for upper, lower in _stacked(boxes)
    )


def cuts_one_table(work: Work, boxes: list[Box]) -> bool:
    """Whether two of the pieces, one above the other, are rows of one table."""
    return any(one_table(work, upper, lower) for upper, lower in _stacked(boxes))


def _stacked(boxes: list[Box]) -> Iterator[tuple[Box, Box]]:
    """Every two pieces of which the second stands below the first."""
    return (
        (upper, lower)
        for upper in boxes
        for lower in boxes
        if lower[1] >= upper[3] - 1 and lower is not upper
    )


def one_blot(work: Work, upper: Box, lower: Box) -> bool:
    """Whether two pieces, one above the other, are strips of one blot cut between them:
    the bands nearest the cut on either side are blot strips (``_strip_band``) of about
    one depth that span the same columns, closer than a strip is deep. Stacked photographs
    and heatmaps are no strips (as deep as long, or dense beyond their bands); two blots
    that share their lanes stay whole: the safe side."""
    # quick noes, implied by the strips' spans (half a piece at least) and gap (a depth)
    overlap = min(upper[2], lower[2]) - max(upper[0], lower[0])
    if overlap < 0.45 * max(upper[2] - upper[0], lower[2] - lower[0]):
        return False
    if lower[1] - upper[3] > max(upper[3] - upper[1], lower[3] - lower[1]):
        return False
    above = _strip_band(work, upper, last=True)
    below = _strip_band(work, lower, last=False) if above else None
    if above is None or below is None:
        return False
    (a0, a1, top_a, bottom_a), (b0, b1, top_b, bottom_b) = above, below
    depths = (bottom_a - top_a, bottom_b - top_b)
    tolerance = max(2.0, _SAME_SPAN * (a1 - a0))
    return (
        abs(a0 - b0) <= tolerance
        and abs(a1 - b1) <= tolerance
        and max(depths) <= _SAME_DEPTH * min(depths)
        and top_b - bottom_a <= max(depths)
    )


def _strip_band(work: Work, box: Box, last: bool) -> tuple[int, int, int, int] | None:
    """The last (or first) band of a piece if it is a blot strip, as (x0, x1, y0, y1) in work
    px: long runs of content on many lines in a row (``_BAND``), several times longer than
    deep, with a sparse line (a gap, a line of text) or the piece's edge beyond it."""
    x0, y0, x1, y1 = box
    mask = _speckle_filled(work.content((0, 0, *work.size))[y0:y1, x0:x1])
    long, first, end = long_runs(mask, 0.5 * (x1 - x0))
    bands = [(s, e) for s, e in runs(long) if e - s >= _BAND / work.scale]
    if not bands:
        return None
    s, e = bands[-1] if last else bands[0]
    left, right = int(np.median(first[s:e])), int(np.median(end[s:e]))
    beyond = s - 1 if last else e  # the line on the far side from the cut
    if right - left < _STRIP_ASPECT * (e - s):
        return None
    if 0 <= beyond < mask.shape[0] and mask[beyond, left:right].mean() >= 0.5:
        return None
    return x0 + left, x0 + right, y0 + s, y0 + e


def _speckle_filled(mask: np.ndarray) -> np.ndarray:
    """Content with holes of one or two pixels along its rows filled: a faint blot strip's
    noise (pixels as light as the ground) breaks no run; gaps between words stay."""
    filled = mask.copy()
    filled[:, 1:-1] |= mask[:, :-2] & mask[:, 2:]
    filled[:, 1:-2] |= mask[:, :-3] & mask[:, 3:]
    filled[:, 2:-1] |= mask[:, :-3] & mask[:, 3:]
    return filled


def is_ruled(work: Work, box: Box) -> bool:
    """Whether a piece is ruled like a table (``_ruled``: rules across half its width at
    least): a panel however small beside the others, as no legend or colour bar is."""
    x0, y0, x1, y1 = box
    mask = work.content((0, 0, *work.size))[y0:y1, x0:x1]  # the figure's ground: a framed
    return _ruled(mask, _STRUCTURE * (x1 - x0))  # legend's own frame is no ground of its own


def _ruled(mask: np.ndarray, length: float) -> bool:
    """Whether ``_RULES`` lines or more each hold a run at least ``length`` long, all
    thin and starting and ending together: the rules of a table (over and under its header, under
    its last row) or a chart's grid. Lines of text hold no such runs; a framed legend has
    two."""
    long, first, end = long_runs(mask, length)
    lines = runs(long)
    if len(lines) < _RULES or any(e - s > LINE_MAX for s, e in lines):
        return False  # a filled band (a blot strip, a colour bar) is no rule
    starts = np.array([first[s:e].min() for s, e in lines])
    ends = np.array([end[s:e].max() for s, e in lines])
    tolerance = max(2.0, _SAME_SPAN * float(np.median(ends - starts)))
    return bool(np.ptp(starts) <= tolerance and np.ptp(ends) <= tolerance)


def _has_blob(mask: np.ndarray, small: float, large: float) -> bool:
    """Whether a connected blob's box is at least ``small`` by ``large`` (either way), and
    the blob is thick across its own long axis.

    Glyphs of text are separate small blobs; line art and photos are not. A rotated tick
    label's glyphs touch at a working copy's scale into one slanted blob as big as a
    drawing's, but only as thick as a line of text: its spread across its long axis is
    that of a band ``_WORD_DEPTH`` deep at most.
    """
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        bh, bw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if min(bh, bw) >= small and max(bh, bw) >= large and _thick(labels[sl] == k, small):
            return True
    return False


def _thick(blob: np.ndarray, small: float) -> bool:
    """Whether a blob spreads across its principal axis more than a line of text
    (``_WORD_DEPTH`` of ``small``, as a band of even depth: its spread is depth / sqrt 12)."""
    ys, xs = np.nonzero(blob)
    spread = np.linalg.eigvalsh(np.cov(np.stack([xs, ys]).astype(float)))[0]
    return spread > (_WORD_DEPTH * small) ** 2 / 12


def one_table(work: Work, upper: Box, lower: Box) -> bool:
    """Whether two pieces, one above the other, are rows of one table cut between them (a
    caption naming panels that are not there): both are lines of text, the blank gaps
    between their text columns stand at the same places, and the gap between the pieces is
    one a table leaves between its rows. Two tables of one template (a compound of tables)
    share their columns, but stand a gutter apart many lines deep; stacked charts share an
    axis, but are no lines of text."""
    x0, x1 = max(upper[0], lower[0]), min(upper[2], lower[2])
    if x1 - x0 < 0.8 * min(upper[2] - upper[0], lower[2] - lower[0]):
        return False
    # a piece of one or two lines (a header and a row) is a table's too, cut short
    above, line_above = _column_gaps(work, (x0, upper[1], x1, upper[3]), least=1)
    below, line_below = _column_gaps(work, (x0, lower[1], x1, lower[3]), least=1)
    if len(above) < _TABLE_GAPS or len(below) < _TABLE_GAPS:
        return False
    if not (_within(above, below) >= _ALIGNED and _within(below, above) >= _ALIGNED):
        # columns of values of varied widths: each piece's gaps differ, the table's own
        # (blank down nearly all its lines, both pieces together) remain, and its rows
        # span one width (two tables, one under the other, share some blank columns)
        joined, _ = _column_gaps(work, (x0, upper[1], x1, lower[3]))
        span = _SAME_SPAN * max(upper[2] - upper[0], lower[2] - lower[0])
        same = abs(upper[0] - lower[0]) <= span and abs(upper[2] - lower[2]) <= span
        if len(joined) < _TABLE_GAPS or not same:
            return False
    deep = _ROW_GAP * max(line_above, line_below)
    return not _gutter_between(work, (x0, upper[3], x1, lower[1]), deep)


def _gutter_between(work: Work, band: Box, deep: float) -> bool:
    """Whether the band between two pieces holds a blank gutter deeper than ``deep`` (work
    px): a gutter between two tables (or beside a third piece between them, two tables of
    one template apart), not the gap between rows of one (or between its pieces)."""
    return any(e - s > deep for s, e in runs(background_lines(work, band, 1)))


def is_table(work: Work, box: Box) -> bool:
    """Whether a piece is lines of text in columns: a table, a panel of its own. A legend's
    markers and words stand in two columns too, but it is no table (``_legend``)."""
    return bool(_column_gaps(work, box)[0]) and not _legend(work, box)


def _column_gaps(
    work: Work, box: Box, least: int = _TABLE_LINES
) -> tuple[list[tuple[int, int]], float]:
    """The blank gaps between the text columns of a block of text lines (work px along x,
    interior, as wide as a line of text is high at least: wider than the space between
    words): columns blank in all lines that hold text but a quarter at most (a header line
    merged with the rule under it has no blank column), rule rows aside, with the depth of
    a line of text (work px, the median); no gaps (depth 0) unless the box is lines of
    text (``least`` of them, each a thin strip, on the page)."""
    strips = gutter_pieces(work, box, 1)
    lines = [s for s in strips if s[3] - s[1] > LINE_MAX]
    if len(lines) < least or any((s[2] - s[0]) < _LABEL_ASPECT * (s[3] - s[1]) for s in strips):
        return [], 0.0
    read = [_inked(work, s) for s in lines]
    inked = [r for r in read if r is not None]
    if len(inked) < len(read):
        return [], 0.0
    text = float(np.median([depth for _, depths in inked for depth in depths]))
    return _gaps_down([columns for columns, _ in inked], text), text


def _inked(work: Work, line: Box) -> tuple[np.ndarray, list[int]] | None:
    """Which columns of a strip of text hold ink, and the depths of its lines of text;
    None unless most of its rows stand on the page (a blot's lane, a grey band, is no
    text). Ink is read against each row's own ground, rows off the page (a rule) left
    out: a table may shade every other row, parted from the next by a blank row too thin
    to be a gutter, and at a small table's scale a rule runs into the row beside it."""
    x0, y0, x1, y1 = line
    sub = work.a[y0:y1, x0:x1].astype(np.int16)
    ground = np.median(sub, axis=1)
    off = np.abs(ground - work.bg) > _SHADE
    if np.count_nonzero(off) * 2 > off.size:
        return None
    darker = ground[:, None].astype(np.int16) - sub  # dark text on a light ground ...
    ink = (darker if work.bg >= DARK else -darker) > CONTENT  # ... light text on a dark one
    text = ink.any(axis=1) & ~off
    return ink[~off].any(axis=0), [e - s for s, e in runs(text)] or [y1 - y0]


def _within(gaps: list[tuple[int, int]], others: list[tuple[int, int]]) -> float:
    """The share of ``gaps`` whose middle falls inside one of ``others``."""
    inside = sum(any(s <= (a + b) / 2 < e for s, e in others) for a, b in gaps)
    return inside / len(gaps)
