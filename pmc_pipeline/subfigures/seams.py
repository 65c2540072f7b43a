"""Seams between abutting photographs: cuts where no gutter separates two panels.

Why: fluorescence channels, stained sections and scans are often set edge to edge with no
gutter at all; the only evidence of two panels is a straight grey step along the whole
region, far stronger than the steps of the lines around it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .boxes import Box
from .work import DARK, LINE_MAX, WHITE, Work, commonest_grey, median, runs, share

_SEAM_STEP = 24  # a seam between abutting photos is a grey step this large ...
_SEAM_SPAN = 0.5  # ... along at least this fraction of the region ...
_SEAM_PEAK = 4.0  # ... and this many times more often than in the lines nearby,
_CLEAN_SPAN = 0.25  # or along this much of it only, where the lines nearby have no step (this
_CLEAN_PEAK = 12.0  # many times more often than they: a seam of little contrast in places)
_FAINT_SPAN = 0.06  # a faint seam: a step along this much of the region ...
_FAINT_PEAK = 3.0  # ... this many times more often than nearby (see seam_cuts)
_LIT = 48  # a faint seam's sides are lit (a scan's speckle, not the black about it) ...
_RUNS_ON = 0.5  # ... and run on unstepped along this much of it, their texture as alike
_ALIKE_CORR = 0.05  # across it as across the lines beside it (correlation): an object's edge
_ALIKE = 2.0  # a seam at a thin line (work.LINE_MAX) across one picture, whose sides differ at
_ALIKE_FLOOR = 4.0  # most this much more than neighbouring lines do (grey levels, at least this)
_CELL_TOL = 4  # grey levels: a heatmap's cell is one flat fill (JPEG noise aside) ...
_CELL_DEEP = 3  # ... this many lines (work px) deep on each side of a row of them ...
_CELL_SPAN = 7  # ... and this many px along it (a smooth photograph changes over as many) ...
_CELLS = 0.65  # ... and their edge steps between such fills along this share of the line
# (where it steps between mid greys: not a page's white, not the black of fluorescence)
_BLACK = 16  # greys this dark or darker are black
_SEAM_WHITE_SIDE = 0.1  # ... between photographs: this little white on both sides ...
_SEAM_WHITE_REGION = 0.3  # ... in a region this little white
_SEAM_WHITE_PART = 0.5  # or white beside a seam along this much of it at most, where it steps
_HELD = 0.8  # between photographs along this much of the rest
_GROUND_TOL = 2  # a chart's grey ground: one grey within this (JPEG) ...
_GROUND_SHARE = 0.4  # ... over this share of a region
_STRONG_TIERS = ((_SEAM_SPAN, _SEAM_PEAK), (_CLEAN_SPAN, _CLEAN_PEAK))  # (span, peak), either
_PART_SPAN = 0.15  # in a region with white: photographs meet along this share of a line at
# least, and nothing else crosses it (``part_seams``), ...
_DEEP = 3  # ... photographs this deep (work px) on both sides: a bar's outline and its fill,
# or a photograph's edge blended with the white beside it, step along a line too


def seam_cuts(work: Work, region: Box, axis: int, faint: bool = False) -> list[tuple[int, float]]:
    """Straight seams between abutting photographs: line offsets in the region (rows for
    axis=1, columns for axis=0) where a grey step runs along the region, each with the share
    of the line it steps along (a seam right across two photographs steps along all of it,
    a line on from a seam across a panel that spans it along part).

    Only regions of photographs (little white) are searched. A step is a seam when it spans
    most of the region and stands far above the steps of nearby lines (or spans a quarter
    of it where nearby lines have none), and both sides are photographs too, wherever no
    white stands beside it: an axis, a frame or a bar edge has white along one side. A thin
    light line between two photographs gives two seams and a sliver, which folds away.
    ``faint`` also takes steps along a small part of the line (two dark fluorescence images
    meet in a few bright places only) that stand out yet more from the lines nearby, unless
    one photograph runs on across the rest of the line (``_runs_on``: an object's edge), and
    in a region with white, photographs meeting along part of a line (``_part_seams``).
    """
    key = (region, axis, faint)
    if key not in work.seams:
        x0, y0, x1, y1 = region
        seams: list[tuple[int, float]] = []
        sub = work.a[y0:y1, x0:x1]
        if share(sub[::4, ::4] >= WHITE) <= _SEAM_WHITE_REGION and not _chart_ground(sub, work.bg):
            a, b = (sub[1:], sub[:-1]) if axis == 1 else (sub[:, 1:], sub[:, :-1])
            step = np.maximum(a, b) - np.minimum(a, b) > _SEAM_STEP  # |grey step|, in uint8
            white = sub >= WHITE
            white_share = share(white, axis)
            tiers = ((_FAINT_SPAN, _FAINT_PEAK),) if faint else _STRONG_TIERS
            along = share(step, axis)
            found = _seam_positions(along, tiers)
            seams = [
                (k, float(along[k - 1]))
                for k in _across_lines(sub, found, axis)
                if (_photo_sides(white_share, k) or _between_photos(sub, step, white, axis, k))
                and not (faint and _runs_on(sub, step, axis, k))
                and not _cell_edge(sub, step, axis, k)
            ]
        elif faint:  # searched again: photographs meeting along part of a line (found
            # where a search finds no division, as they lengthen every search they join)
            seams = _part_seams(work, region, axis)
        work.seams[key] = seams
    return work.seams[key]


def _runs_on(sub: np.ndarray, step: np.ndarray, axis: int, k: int) -> bool:
    """Whether one photograph runs on across line k: lit (``_LIT``) on both sides and
    unstepped along most of it (``_RUNS_ON``), its texture there as alike across the line
    as across the lines beside it (correlated within ``_ALIKE_CORR``). A faint seam is an
    object's edge inside one photograph then (a dark blob in an ultrasound scan steps along
    its width, the speckle beside it runs on), while two grey photographs edge to edge meet
    unstepped in places but their textures do not match, and dark fluorescence images meet
    lit in a few places only."""
    lines = sub if axis == 1 else sub.T
    if not 2 <= k < len(lines) - 1:
        return False
    before, after = lines[k - 1], lines[k]
    stepped = _line(step, axis, k - 1)
    on = (before >= _LIT) & (after >= _LIT) & ~stepped
    if share(on) < _RUNS_ON:
        return False
    near = (_correlation(lines[k - 2], before, on) + _correlation(after, lines[k + 1], on)) / 2
    return _correlation(before, after, on) >= near - _ALIKE_CORR


def _cell_edge(sub: np.ndarray, step: np.ndarray, axis: int, k: int) -> bool:
    """Whether line k is the edge between two rows (or columns) of a heatmap's cells, not
    a seam between photographs: where it steps between mid greys (most of its steps),
    both sides are flat fills (``_flat_fill``) at ``_CELLS`` of it at least. Photographs
    meeting step between textures or smooth shading; a photograph's flat black or a page's
    white beside a label band is no heatmap (dev 5 singles #234, #283 were cut at their
    cells' rows under captions naming 3-4 panels)."""
    lines = sub if axis == 1 else sub.T
    if not _CELL_DEEP <= k <= len(lines) - _CELL_DEEP:
        return False
    near = lines[k - _CELL_DEEP : k + _CELL_DEEP].astype(np.int16)
    before, after = near[_CELL_DEEP - 1], near[_CELL_DEEP]
    stepped = _line(step, axis, k - 1)
    greys = (before > _BLACK) & (before < WHITE) & (after > _BLACK) & (after < WHITE)
    mid = stepped & greys
    if not mid.any() or 2 * np.count_nonzero(mid) < np.count_nonzero(stepped):
        return False
    flat = _flat_fill(near[:_CELL_DEEP]) & _flat_fill(near[_CELL_DEEP:])
    return share(flat[mid]) >= _CELLS


def _flat_fill(block: np.ndarray) -> np.ndarray:
    """Per position along a few lines: whether the block ``_CELL_SPAN`` px along about it is
    one grey (within ``_CELL_TOL``). A cell's fill is; a photograph's smooth stretch
    changes a little every pixel and so does not, over that span."""
    half = _CELL_SPAN // 2
    flat = np.zeros(block.shape[1], bool)
    if block.shape[1] < _CELL_SPAN:
        return flat
    top = sliding_window_view(block.max(axis=0), _CELL_SPAN).max(axis=1)
    bottom = sliding_window_view(block.min(axis=0), _CELL_SPAN).min(axis=1)
    flat[half : half + top.size] = top - bottom <= _CELL_TOL
    return flat


def _correlation(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """Pearson correlation of two lines' greys where ``where`` holds (0 when either is flat)."""
    x, y = a[where].astype(np.float64), b[where].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / norm if norm else 0.0


def _chart_ground(sub: np.ndarray, page: int) -> bool:
    """Whether a region little white is a chart on a grey ground, not photographs: one
    light grey (within ``_GROUND_TOL``), not the page's, covers ``_GROUND_SHARE`` of it,
    as a plot area's fill does, while a photograph's grey varies (black about fluorescence
    photographs, dark, is their ground). A bar's top on such a ground steps like a faint
    seam."""
    level, near = commonest_grey(sub[::2, ::2], _GROUND_TOL)
    return level >= DARK and abs(level - page) > _GROUND_TOL and near >= _GROUND_SHARE


def _part_seams(work: Work, region: Box, axis: int) -> list[tuple[int, float]]:
    """Lines where photographs meet along part of a region and nothing else crosses it:
    photographs set edge to edge in one column of a grid whose other columns hold charts
    with white about them. Along such a line every stretch with content on both sides
    steps between photographs (``_HELD`` of it), content ``_DEEP`` on both sides, and
    elsewhere one side is blank: a line through a chart beside the photographs crosses its
    axis or data, which do not step."""
    x0, y0, x1, y1 = region
    (s, e), (c0, c1) = ((y0, y1), (x0, x1)) if axis == 1 else ((x0, x1), (y0, y1))
    met = _photo_steps(work, axis)[s : e - 1, c0:c1]
    along = share(met, 1)
    lines = work.a[y0:y1, x0:x1] if axis == 1 else work.a[y0:y1, x0:x1].T
    out = []
    for k in _seam_positions(along, ((_PART_SPAN, _SEAM_PEAK),)):
        if k < _DEEP or k + _DEEP > len(lines):
            continue
        near = np.take(~work.background, lines[k - _DEEP : k + _DEEP])  # lines k-3 .. k+2
        both = near[_DEEP - 1] & near[_DEEP]
        if not all(met[k - 1, a:b].mean() >= _HELD for a, b in runs(both)):
            continue
        if near[:, met[k - 1]].all(axis=0).mean() >= _HELD:
            out.append(k)
    return [(k, float(along[k - 1])) for k in _across_lines(lines, out, 1)]


def _photo_steps(work: Work, axis: int) -> np.ndarray:
    """Where each line of the working copy steps by ``_SEAM_STEP`` from the line before,
    with content on both: rows for axis=1 (h-1 by w), columns for axis=0 (w-1 by h). Read
    once per figure, both ways from one content mask: the search asks it of many regions,
    along rows and columns."""
    if not work.steps:
        content = np.take(~work.background, work.a)
        for way, lines, inked in ((1, work.a, content), (0, work.a.T, content.T)):
            a, b = lines[1:], lines[:-1]
            step = np.maximum(a, b) - np.minimum(a, b) > _SEAM_STEP
            work.steps[way] = inked[1:] & inked[:-1] & step
    return work.steps[axis]


def _across_lines(sub: np.ndarray, found: list[int], axis: int) -> list[int]:
    """Seams less those at a thin line across one picture (a chart's grid line on a grey
    ground): the lines just beyond it on both sides are alike, while two photographs meeting
    there differ across it far more than along either side."""
    lines = sub if axis == 1 else sub.T  # a view: only the few lines compared are widened
    kept = []
    for k in found:
        if k < 4 or k + LINE_MAX + 2 >= lines.shape[0]:
            kept.append(k)
            continue
        near = lines[k - 3 : k + LINE_MAX + 1].astype(np.int16)  # lines k-3 .. k+LINE_MAX
        before = near[1]
        along = max(float(np.abs(before - near[0]).mean()), _ALIKE_FLOOR)
        across = min(float(np.abs(before - line).mean()) for line in near[3:])
        if across > _ALIKE * along:
            kept.append(k)
    return kept


def _photo_sides(white_share: np.ndarray, k: int) -> bool:
    """Whether the lines just before and after a seam at k hold little white."""
    before, after = white_share[max(0, k - 4) : max(0, k - 1)], white_share[k + 1 : k + 4]
    return bool(before.size and after.size and max(before.max(), after.max()) <= _SEAM_WHITE_SIDE)


def _between_photos(
    sub: np.ndarray, step: np.ndarray, white: np.ndarray, axis: int, k: int
) -> bool:
    """Whether a seam at k steps between photographs wherever it has photographs on both
    sides, one of them lit (``_HELD`` of that stretch), though white stands beside it in
    places (a stained section's white lumen at its edge; a bright cell at a fluorescence
    image's edge): an axis or a frame has white along the whole of one side, and a line on
    from a seam across a panel that spans it steps in few places. Where both sides are
    black (two fluorescence images' dark grounds meet) there is nothing to step."""
    beside = _line(white, axis, k - 1) | _line(white, axis, k)
    photos = 1.0 - float(beside.mean())
    lit = ~beside & (np.maximum(_line(sub, axis, k - 1), _line(sub, axis, k)) >= _LIT)
    held = np.count_nonzero(_line(step, axis, k - 1) & lit)
    lit_count = np.count_nonzero(lit)
    return photos >= 1.0 - _SEAM_WHITE_PART and lit_count > 0 and held >= _HELD * lit_count


def _line(a: np.ndarray, axis: int, k: int) -> np.ndarray:
    """Line k of a 2-D array: row k for axis=1 (lines run across), column k for axis=0;
    ``step`` and ``white`` of a region are asked of the same line a seam lies on."""
    return a[k] if axis == 1 else a[:, k]


def _seam_positions(frac: np.ndarray, tiers: tuple[tuple[float, float], ...]) -> list[int]:
    """Line indices k where a step between lines k-1 and k stands out from its neighbours:
    along a share of the line (``span``) this many times (``peak``) more often than nearby,
    for one of the (span, peak) ``tiers``."""
    out = []
    for k in np.flatnonzero(frac >= min(span for span, _ in tiers)).tolist():
        near = np.concatenate((frac[max(0, k - 10) : max(0, k - 2)], frac[k + 3 : k + 11]))
        usual = max(median(near), 0.02) if near.size >= 8 else np.inf
        if any(frac[k] >= span and frac[k] >= peak * usual for span, peak in tiers):
            out.append(k + 1)
    return out
