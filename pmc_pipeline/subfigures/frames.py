"""Frame lines where charts sharing an axis meet: cuts where no gutter parts them.

Why: subplots that share an axis are stacked (or set side by side) with their frames
touching, so no blank line parts them: only the dark axis line where one chart's frame
meets the next. A dark line right across one chart (a zero line, a dark grid line, a table's
rule) looks alike, but it carries a tick label in the margin at its end, or data on both of
its sides; a frame line between charts has the margins at its ends blank, and on one side
the inside of a frame that data keep away from. Trusted only for a caption's count, in a
last search on a light figure (``decision``), and only where pieces come out even.
"""

from __future__ import annotations

import numpy as np

from .boxes import Box
from .work import DARK, Work, median, rule_lines, runs, unlike

RULE = 0.8  # a frame line is an unbroken dark run along this share of the region, at least
_THICK = 4  # work px: a dark band thicker than this is a bar or a block, no frame line
_JOIN = 2  # work px: two frame lines this close (two frames a pixel apart) are one cut
_PAIR = 6  # work px: ... and two frame lines this close, each found alone, one cut too
_BESIDE = 2  # work px either side of the line: the margins past its ends hold nothing here
_CLEAN = 3  # work px beside the line on its clean side: nothing there but lines crossing it,
_HALO = 1  # past this many px beside it, which the line's own anti-aliasing greys
_END = 3  # work px at each end of the line where a line across it is looked for, ...
_CROSS = 8  # ... running on this far through both sides
_TICK = 8  # work px from the line's end within which an axis is looked for alone, one
# column at a time: the line may begin at a tick mark jutting out past the axis
_LABELS = 16  # work px beyond the shared axis where its tick labels stand, looked for ...
_REACH = 40  # ... this far along it either side of the frame line
_MARKS = 0.25  # share of the clean side's strip that marks across it may take (ticks, lines)
_LIGHT = 160  # a side's ground at least this light: a page or a chart's face
_TONE = 16  # grey levels off that ground that make a mark
_CLEAN_SHARE = 0.02  # ... at most this share of the line's length (JPEG specks, a tick)
_GAP = 12  # work px: an axis that stops at most this short of a frame line, ...
_RESUME = 24  # ... then runs on this far unbroken (no glyph is so tall), is another chart's
_GLYPH = 20  # work px: a tick label's run along the axis is at most this long, ...
_AROUND = 2  # ... and this many nearest the line either side are compared: their gaps ...
_PITCH = 0.25  # ... differ by more than this share of the median gap on two axes
_CROSSING = 0.05  # share of its length that lines crossing the gap between them may take
_SAME_EXTENT = 0.95  # two frame lines side by side share this much of the longer one's extent
THROUGH, BROKEN = "through", "broken"  # how the shared axis crosses a frame line


def frame_cuts(work: Work, region: Box, axis: int) -> list[tuple[int, int]]:
    """Frame lines between charts in a region: [start, end) offsets of the lines (rows
    for axis=1, columns for axis=0) they cover, the pieces either side left out; read once
    per region (the search asks of the whole figure first, then again as it divides it)."""
    if (region, axis) not in work.frames:
        work.frames[region, axis] = _frame_cuts(work, region, axis)
    return work.frames[region, axis]


def _frame_cuts(work: Work, region: Box, axis: int) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = region
    sub = work.a[y0:y1, x0:x1]
    lines = sub if axis == 1 else sub.T
    ink = lines < DARK
    rows = np.flatnonzero(rule_lines(work, region, axis, RULE)).tolist()
    content = work.content(region)
    content = content if axis == 1 else content.T
    cuts = []
    for s, e in _bands(rows):
        if e - s > _THICK or s < _CLEAN + _HALO or e + _CLEAN + _HALO > lines.shape[0]:
            continue
        a, b = max(runs(ink[s:e].any(axis=0)), key=lambda r: r[1] - r[0])
        axis_at = _shared_axis(content, ink, s, e, a, b)
        if (
            axis_at is not None
            and (
                axis_at == BROKEN
                or _margins_blank(content, s, e, a, b)
                or _two_scales(content, s, e, a, b)
            )
            and _one_side_clean(lines, s, e, a, b)
        ):
            cuts.append((s, e))
    return _pairs_joined(sorted(cuts + _double_frames(lines, ink, content, rows)))


def _double_frames(
    lines: np.ndarray, ink: np.ndarray, content: np.ndarray, rows: list[int]
) -> list[tuple[int, int]]:
    """Two frame lines of one extent a few pixels apart with only clean ground between
    them: the frames of two charts set edge to edge, each its own. Data may touch either
    frame from its far side (a bar rising to its top, a trace starting at its edge), so
    neither side need be clean; the double line and the blank between it say enough."""
    found = []
    lines_at = _bands(rows, join=0)  # each line alone: a band may join the two
    for (s1, e1), (s2, e2) in zip(lines_at, lines_at[1:], strict=False):
        if not 0 < s2 - e1 <= _PAIR or max(e1 - s1, e2 - s2) > _THICK:
            continue
        one, two = (
            max(runs(ink[s:e].any(axis=0)), key=lambda r: r[1] - r[0])
            for s, e in ((s1, e1), (s2, e2))
        )
        a, b = max(one[0], two[0]), min(one[1], two[1])
        if b - a < _SAME_EXTENT * max(one[1] - one[0], two[1] - two[0]):
            continue
        between = lines[e1:s2, a:b]
        lighter = median(between.ravel()) > DARK  # a pixel's gap greys in JPEG
        marks = np.count_nonzero(between.min(axis=0) < DARK)  # lines crossing it
        if lighter and marks <= _CROSSING * (b - a) and _shared_axis(content, ink, s1, e2, a, b):
            found.append((s1, e2))
    return found


def _pairs_joined(cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Frame lines at most ``_PAIR`` apart as one cut: two charts' own frames a few pixels
    apart, each a frame line, would otherwise leave a sliver between them as a piece."""
    joined: list[tuple[int, int]] = []
    for s, e in cuts:
        if joined and s - joined[-1][1] <= _PAIR:
            joined[-1] = (joined[-1][0], e)
        else:
            joined.append((s, e))
    return joined


def _bands(rows: list[int], join: int = _JOIN) -> list[tuple[int, int]]:
    """Frame-line rows grouped into bands, rows at most ``join`` apart joined."""
    bands: list[list[int]] = []
    for k in rows:
        if bands and k - bands[-1][1] <= join:
            bands[-1][1] = k + 1
        else:
            bands.append([k, k + 1])
    return [(s, e) for s, e in bands]


def _shared_axis(
    content: np.ndarray, ink: np.ndarray, s: int, e: int, a: int, b: int
) -> str | None:
    """How a line runs across the frame line at one of its ends, on through both sides,
    with tick labels beyond it on both sides: the axis the charts share (the y axis of
    stacked charts, the x axis of charts side by side). ``THROUGH`` when it runs on
    unbroken; ``BROKEN`` when it stops a pixel or a few short of the line on one side and
    runs on from there: each chart's own axis, a small space between them, where a zero
    line across one chart meets an axis that runs on through it. None when no axis runs on
    (a box's edge in a flowchart meets its sides at corners; a border round boxes has no
    labels beyond it)."""
    for end, inward, beyond in (
        (slice(a, a + _END), range(a, a + _TICK), slice(max(0, a - _LABELS), max(0, a - _END))),
        (slice(max(a, b - _END), b), range(b - _TICK, b), slice(b + _END, b + _LABELS)),
    ):
        labelled = (
            content[max(0, s - _REACH) : s, beyond].any() and content[e : e + _REACH, beyond].any()
        )
        if not labelled:
            continue
        if _runs_through(content[:, end].any(axis=1), s, e):
            return THROUGH
        if any(_broken(ink[:, x], s, e) for x in inward):
            return BROKEN  # the axis itself, past a tick mark that juts out along the line
        if any(_runs_through(content[:, x], s, e) for x in inward):
            return THROUGH  # ... or running on through, past such a tick mark
    return None


def _runs_through(column: np.ndarray, s: int, e: int) -> bool:
    """Whether a line across the frame line (``column``: its ink along it) runs on
    ``_CROSS`` lines unbroken on both sides of it."""
    before, after = column[max(0, s - _CROSS) : s], column[e : e + _CROSS]
    return before.shape[0] == after.shape[0] == _CROSS and bool(before.all() and after.all())


def _broken(column: np.ndarray, s: int, e: int) -> bool:
    """Whether an axis (``column``: its dark ink along it) runs right up to the frame line on
    one side and, on the other, stops 1 to ``_GAP`` lines short of it and runs on from
    there at least ``_RESUME`` lines: two charts' axes a small space apart."""
    up, down = column[:s][::-1], column[e:]  # lines leaving the frame line, each way
    return _stops_short(up, down) or _stops_short(down, up)


def _stops_short(away: np.ndarray, other: np.ndarray) -> bool:
    """``_broken`` one way: ink right up to the line in ``other``, a gap then a run in ``away``."""
    if other.shape[0] < _CROSS or not other[:_CROSS].all():
        return False
    filled = np.flatnonzero(away[: _GAP + 1])
    if not filled.size or filled[0] == 0:
        return False
    gap = int(filled[0])
    return away.shape[0] >= gap + _RESUME and bool(away[gap : gap + _RESUME].all())


def _margins_blank(content: np.ndarray, s: int, e: int, a: int, b: int) -> bool:
    """Nothing in the margins past the line's ends, near it: a tick label or an axis
    title centred on the line says it is inside one chart."""
    band = content[max(0, s - _BESIDE) : e + _BESIDE]
    return not band[:, : max(0, a - _BESIDE)].any() and not band[:, b + _BESIDE :].any()


def _two_scales(content: np.ndarray, s: int, e: int, a: int, b: int) -> bool:
    """Whether the tick labels in the margin past either end of the line, nearest it, are
    spaced unevenly across it: two charts' axes, each with ticks of its own, where one's
    last label stands on the line (the 0 of a bar chart stacked on another). A zero line
    inside one chart carries a label too, but its axis keeps one pitch through it. Labels
    that run together (their runs taller than a glyph) tell nothing."""
    near = (s + e) / 2
    for strip in (
        content[:, max(0, a - _LABELS) : max(0, a - _BESIDE)],
        content[:, b + _BESIDE : b + _LABELS],
    ):
        if not strip.size:
            continue
        labels = np.array(runs(strip.any(axis=1))).reshape(-1, 2)
        k = int(np.searchsorted(labels.mean(axis=1), near))
        around = labels[max(0, k - _AROUND) : k + _AROUND]  # the labels either side of it
        centres = around.mean(axis=1)
        if len(around) < _AROUND + 2 or not centres[0] < near < centres[-1]:
            continue
        if np.any(around[:, 1] - around[:, 0] > _GLYPH):
            continue
        gaps = np.diff(centres)
        if gaps.max() - gaps.min() > _PITCH * np.median(gaps):
            return True
    return False


def _one_side_clean(lines: np.ndarray, s: int, e: int, a: int, b: int) -> bool:
    """Whether, along the line, one side of it is a light ground (a page, a chart's grey
    face) holding nothing but a few marks right across that side's strip (lines crossing
    it, ticks standing on it): the inside of a chart's frame, kept clear of its data. A
    photograph is no light ground, or is full of detail."""
    limit = _CLEAN_SHARE * (b - a) * _CLEAN
    near, far = _HALO, _HALO + _CLEAN
    for side in (lines[s - far : s - near, a:b], lines[e + near : e + far, a:b]):
        ground = median(side.ravel())
        if ground < _LIGHT:
            continue
        ink = unlike(side, int(ground), _TONE)
        marks = ink.all(axis=0)
        if marks.mean() <= _MARKS and np.count_nonzero(ink[:, ~marks]) <= limit:
            return True
    return False
