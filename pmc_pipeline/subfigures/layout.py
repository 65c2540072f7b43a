"""Layout search: panel boxes of a figure from its own pixels, without the caption.

A recursive XY-cut on background gutters and separator lines, straight seams between abutting
photographs, and separate blobs of ink; pieces that cannot be panels (see ``roles``) fold into
their neighbour. When unsure it keeps the figure whole.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from .boxes import Box, PanelResult, any_overlap, area, gap, reading_order
from .detector import Detector, detected
from .roles import is_panel, may_split
from .work import (
    INK,
    WHITE,
    Work,
    gutter_pieces,
    median,
    share,
    to_figure,
    trim,
    unlike,
    working_copy,
)

_SEAM_STEP = 24  # a seam between abutting photos is a grey step this large ...


_SEAM_SPAN = 0.5  # ... along at least this fraction of the region ...


_SEAM_PEAK = 4.0  # ... and this many times more often than in the lines nearby,


_SEAM_WHITE_SIDE = 0.1  # ... between photographs: this little white on both sides ...


_SEAM_WHITE_REGION = 0.3  # ... in a region this little white


_COMPONENT_MIN_AREA = 0.04  # components this large (of the figure) may be panels ...


_COMPONENT_MASS = 0.5  # ... when they hold this much of the ink (not flowchart boxes)


def find_panels(img: Image.Image, *, detector: Detector | None = None) -> PanelResult:
    """Panel boxes of a figure, in its own pixels and reading order.

    With ``detector`` its boxes are used (clipped, sorted); otherwise a recursive XY-cut on
    a grey copy reduced to about ``WORK_SIDE`` px. Pieces failing the sliver rules are merged
    into their neighbour; with fewer than two panels left the figure stays whole, and
    ``confident`` is False when there were candidate cuts that the rules refused.
    """
    w, h = img.size
    if detector is not None:
        return detected(img, detector)
    work = working_copy(img)
    pieces, method = _cut(work, (0, 0, *work.size), top=True)
    if len(pieces) < 2:
        return PanelResult([(0, 0, w, h)], method == "none", f"single: {_SINGLE[method]}")
    boxes = reading_order([to_figure(b, work.scale, w, h) for b in pieces])
    return PanelResult(boxes, True, f"{len(boxes)} panels by {method}")


_SINGLE = {
    "none": "no gutter, separator line, seam or separate component",
    "kept": "every candidate cut left slivers (titles, legends, labels); kept whole",
}


def _cut(work: Work, region: Box, top: bool = False) -> tuple[list[Box], str]:
    """Panels of one region and how they were found ("none" / "kept" when not split).

    Horizontal gutters are tried before vertical ones, each first at the widest gutters
    (as XY-cut cuts the widest valley; narrower ones are found inside the pieces), then at
    all; then seams between abutting photos, then (for the whole figure only) separate ink
    components.
    """
    region = trim(work, region)
    refused = False
    finders: list[tuple[str, Callable[[], list[Box]]]] = [
        ("gutters", lambda: gutter_pieces(work, region, 1, wide=True)),
        ("gutters", lambda: gutter_pieces(work, region, 1)),
        ("gutters", lambda: gutter_pieces(work, region, 0, wide=True)),
        ("gutters", lambda: gutter_pieces(work, region, 0)),
        ("seams", lambda: _seam_pieces(work, region)),
    ]
    tried: list[list[Box]] = []
    for method, finder in finders:
        pieces = finder()
        if len(pieces) < 2 or pieces in tried:
            continue
        tried.append(pieces)
        merged = _merge_slivers(work, pieces) if may_split(work, pieces) else pieces[:1]
        if len(merged) < 2:
            refused = True
            continue
        out: list[Box] = []
        for piece in merged:
            out.extend(_cut(work, piece)[0])
        return out, method
    if top:
        pieces = _component_pieces(work, region)
        if len(pieces) > 1:
            return pieces, "components"
    return [region], "kept" if refused else "none"


def _seam_pieces(work: Work, region: Box) -> list[Box]:
    """Cut abutting photographs at straight seams: a grey step along the whole region.

    Only regions of photographs (little white) are searched. A step is a seam when it spans
    most of the region, stands far above the steps of nearby lines, and both sides are
    photographs too: an axis, a frame or a bar edge has white beside it. A thin light line
    between two photographs gives two seams and a sliver, which folds away.
    """
    x0, y0, x1, y1 = region
    if share(work.a[y0:y1:4, x0:x1:4] >= WHITE) > _SEAM_WHITE_REGION:
        return []
    sub = work.a[y0:y1, x0:x1]
    white = sub >= WHITE
    for axis in (1, 0):
        a, b = (sub[1:], sub[:-1]) if axis == 1 else (sub[:, 1:], sub[:, :-1])
        step = np.maximum(a, b) - np.minimum(a, b) > _SEAM_STEP  # |grey step|, in uint8
        white_share = share(white, axis)
        seams = [k for k in _seam_positions(share(step, axis)) if _photo_sides(white_share, k)]
        if seams:
            edges = [0, *seams, sub.shape[0 if axis == 1 else 1]]
            spans = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
            if axis == 1:
                return [(x0, y0 + a, x1, y0 + b) for a, b in spans]
            return [(x0 + a, y0, x0 + b, y1) for a, b in spans]
    return []


def _photo_sides(white_share: np.ndarray, k: int) -> bool:
    """Whether the lines just before and after a seam at k hold little white."""
    before, after = white_share[max(0, k - 4) : max(0, k - 1)], white_share[k + 1 : k + 4]
    return bool(before.size and after.size and max(before.max(), after.max()) <= _SEAM_WHITE_SIDE)


def _seam_positions(frac: np.ndarray) -> list[int]:
    """Line indices k where a step between lines k-1 and k stands out from its neighbours."""
    out = []
    for k in np.flatnonzero(frac >= _SEAM_SPAN).tolist():
        near = np.concatenate((frac[max(0, k - 10) : max(0, k - 2)], frac[k + 3 : k + 11]))
        if near.size >= 8 and frac[k] >= _SEAM_PEAK * max(median(near), 0.02):
            out.append(k + 1)
    return out


def _component_pieces(work: Work, region: Box) -> list[Box]:
    """Panels as separate blobs of ink when no straight gutter crosses the figure.

    Components large enough to be panels, holding most of the ink, become seeds; every
    other component joins the seed whose box is nearest. Accepted only when the grown
    boxes do not overlap and all pass the panel rules. Runs at half size for speed.
    """
    x0, y0, x1, y1 = region
    ink = unlike(work.a[y0:y1:2, x0:x1:2], work.bg, INK)
    labels, n = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if n < 2:
        return []
    boxes = [
        (2 * s[1].start, 2 * s[0].start, 2 * s[1].stop, 2 * s[0].stop)
        for s in ndimage.find_objects(labels)
    ]
    fig_area = work.size[0] * work.size[1]
    big = [i for i, b in enumerate(boxes) if area(b) >= _COMPONENT_MIN_AREA * fig_area]
    seeds = [boxes[i] for i in big]
    if len(seeds) < 2 or any_overlap(seeds):
        return []
    mass = np.bincount(labels.ravel())[1:]
    if mass[big].sum() < _COMPONENT_MASS * mass.sum():
        return []
    grown = [list(b) for b in seeds]
    for i, b in enumerate(boxes):
        if i in big:
            continue
        g = grown[min(range(len(seeds)), key=lambda k: gap(seeds[k], b))]
        g[:] = [min(g[0], b[0]), min(g[1], b[1]), max(g[2], b[2]), max(g[3], b[3])]
    out = [(x0 + g[0], y0 + g[1], min(x1, x0 + g[2]), min(y1, y0 + g[3])) for g in grown]
    if any_overlap(out) or not all(is_panel(work, b) for b in out):
        return []
    return out


def _merge_slivers(work: Work, pieces: list[Box]) -> list[Box]:
    """Fold pieces that cannot be panels into a neighbour, in rounds.

    ``pieces`` lie side by side along one axis. Each round every sliver joins the neighbour
    across its narrower gap (chains of slivers join up), so the widest gutters, the ones
    between panels, survive and labels fold into the panel they label. The merged pieces
    are judged again in the next round.
    """
    pieces = list(pieces)
    while len(pieces) > 1:
        bad = [not is_panel(work, p) for p in pieces]
        if not any(bad):
            break
        trimmed = [trim(work, p) for p in pieces]
        gaps = [gap(a, b) for a, b in zip(trimmed, trimmed[1:], strict=False)]
        joined = [False] * (len(pieces) - 1)  # joined[i]: piece i merges with piece i + 1
        for i, is_bad in enumerate(bad):
            if is_bad:
                left = gaps[i - 1] if i > 0 else None
                right = gaps[i] if i < len(gaps) else None
                if right is None or (left is not None and left <= right):
                    joined[i - 1] = True
                else:
                    joined[i] = True
        merged = [pieces[0]]
        for piece, join in zip(pieces[1:], joined, strict=True):
            if join:
                merged[-1] = _union(work, merged[-1], piece)
            else:
                merged.append(piece)
        pieces = merged
    return pieces


def _union(work: Work, a: Box, b: Box) -> Box:
    """Two neighbouring pieces as one, with what is known of them carried over.

    The union's content box is the box of both contents, and it has structure when either
    part has: no pixels need reading again.
    """
    union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    ta, tb = trim(work, a), trim(work, b)
    trimmed = (min(ta[0], tb[0]), min(ta[1], tb[1]), max(ta[2], tb[2]), max(ta[3], tb[3]))
    work.trims.setdefault(union, trimmed)
    if work.structure.get(ta) or work.structure.get(tb):
        work.structure.setdefault(trimmed, True)
    return union
