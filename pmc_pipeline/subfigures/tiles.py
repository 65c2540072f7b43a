"""Photo tiles: panels a caption never named, at thin light lines between photographs.

Why: fluorescence channels and stained sections are often set in an even grid parted by
thin white lines (1-8 px), far too thin for the wide gutters the caption-less rule trusts
(``gutters``), and about one caption in six names no panels. A straight light line right
across the figure with photographs pressed against it on both sides does not occur inside
one photograph, and an even grid of photographs so parted is a mosaic: overwhelming
evidence without a count. Read at full resolution: a working copy blurs a 2 px line away.
A pale line a pixel or two wide comes out of the codec mid-grey, no longer light: it counts
as a ridge, lighter than the photographs beyond it on both sides, right across.
Pale photographs (stained sections near white) are too light to tell from the lines: they
stay whole.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .boxes import Box
from .work import runs, share

LIGHT = 200  # a pixel this light belongs to a parting line, a darker one to a photograph
LINE = 0.9  # a parting line is light across this share of the figure, at least
RIDGE = 24  # grey levels a thin parting line stands above the photograph on both sides
PHOTO = 0.8  # a photograph is dark in this share of its pixels, beside the line and within
STRIPE = 0.5  # ... and in this share of each of its rows and columns
_MOSTLY = 0.5  # a grid of photographs is dark in this share of the figure at least, margins
# included
_FLANK = 3  # px beside a parting line that must be photograph on both sides
_BLUR = 2  # px at a tile's edges the codec blurs into the line or margin beyond it
TILE_EVEN = 1.2  # tiles of one grid differ in width (and in height) by at most this ratio
_MIN_TILE = 0.08  # a tile spans at least this share of the figure's width and height


def tile_panels(gray: Image.Image) -> list[Box] | None:
    """The tiles (figure px, rows first) of an even grid of photographs parted by thin light
    lines right across the figure; None unless there are two tiles or more, all photographs."""
    a = np.asarray(gray)
    if float((a[::8, ::8] < LIGHT).mean()) < _MOSTLY:
        return None  # mostly light: charts, text, drawings (most figures: a quick no)
    dark = a < LIGHT
    content = _content_box(dark)
    if content is None:
        return None
    x0, y0, x1, y1 = content
    inner, grey = dark[y0:y1, x0:x1], a[y0:y1, x0:x1]
    ys = _parts(inner, grey, axis=1)
    xs = _parts(inner, grey, axis=0)
    if len(ys) * len(xs) < 2 or not (_even(ys) and _even(xs)):
        return None
    h, w = inner.shape
    if min(e - s for s, e in ys) < _MIN_TILE * h or min(e - s for s, e in xs) < _MIN_TILE * w:
        return None
    tiles = [(x0 + a, y0 + s, x0 + b, y0 + e) for s, e in ys for a, b in xs]
    if not all(_photograph(dark, t) for t in tiles):
        return None
    return tiles


def _content_box(dark: np.ndarray) -> Box | None:
    """The figure less its light margins."""
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    if not rows.size or not cols.size:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _parts(dark: np.ndarray, grey: np.ndarray, axis: int) -> list[tuple[int, int]]:
    """Spans between the parting lines across rows (axis=1) or columns (axis=0): light
    lines right across (or ridges: a pale line of a pixel or two that the codec greyed),
    with photograph pressed against both sides."""
    lines = dark if axis == 1 else dark.T
    light = 1.0 - lines.mean(axis=1)
    edges = [0]
    for s, e in runs((light >= LINE) | _ridges(grey if axis == 1 else grey.T)):
        if s < _FLANK or e + _FLANK > light.size:
            continue
        before, after = lines[s - _FLANK : s], lines[e : e + _FLANK]
        if before.mean(axis=1).min() >= PHOTO and after.mean(axis=1).min() >= PHOTO:
            edges += [s, e]
    edges.append(light.size)
    return list(zip(edges[0::2], edges[1::2], strict=True))


def _ridges(lines: np.ndarray) -> np.ndarray:
    """Per line (row of ``lines``): whether it lies in a ridge one to three lines wide that
    is lighter by RIDGE than the lines beyond it (two away: the codec's blur between)
    along LINE of its length at least. A parting line one or two pixels wide between dark
    photographs comes out of a JPEG mid-grey, no longer light, but still a ridge right
    across; inside one photograph, no line is."""
    a = lines.astype(np.int16)
    n = len(a)
    ridge = np.zeros(n, bool)
    for w in (1, 2, 3):
        if n < w + 4:
            break
        top = a[2 : n - w - 1]
        for k in range(1, w):
            top = np.maximum(top, a[2 + k : n - w - 1 + k])
        flanks = np.maximum(a[: n - w - 3], a[w + 3 :])
        found = np.flatnonzero(share((top - flanks) >= RIDGE, axis=1) >= LINE) + 2
        ridge[found[:, None] + np.arange(w)] = True  # each ridge's w lines
    return ridge


def _even(spans: list[tuple[int, int]]) -> bool:
    lengths = [e - s for s, e in spans]
    return max(lengths) <= TILE_EVEN * min(lengths)


def _photograph(dark: np.ndarray, tile: Box) -> bool:
    """Dark in most of it, and in every row and column at least half: a light stripe half
    across a tile is a gutter or a white margin of another grid the lines missed. Its
    outermost pixels are left out: the codec blurs them into the light line beside."""
    x0, y0, x1, y1 = tile
    inner = dark[y0 + _BLUR : y1 - _BLUR, x0 + _BLUR : x1 - _BLUR]
    return (
        float(inner.mean()) >= PHOTO
        and float(inner.mean(axis=0).min()) >= STRIPE
        and float(inner.mean(axis=1).min()) >= STRIPE
    )
