"""Printed panel letters: whether a figure labels its panels columns-first.

Why: accepted panels are paired with the caption's labels in rows-first reading order, but some
figures letter their panels down the columns (A, B in the first column, C, D in the second);
then every label and sub-caption goes to the wrong panel. The letters printed in the panels'
top-left corners tell which order the authors used. Only two hypotheses are weighed, rows-first
and columns-first, and columns-first wins only by a clear margin: a wrong switch mislabels every
panel, while keeping rows-first costs nothing on the common figure.
Dependency-free (numpy, scipy, Pillow's bundled font) and a few milliseconds a figure.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from .boxes import Box, groups

SIDE = 20  # glyphs and templates are compared as SIDE x SIDE masks
CORNER_W = 72  # figure px: the corner region read for a panel's letter ...
CORNER_H = 52  # ... at most this wide and high, and at most half the panel
PATCH = 24  # px of the corner's top and left edges, mostly background: light means dark ink
DARK_INK = 100  # a pixel darker than this is dark ink ...
LIGHT_INK = 155  # ... one lighter than this is light ink
MIN_GLYPH = 6  # px: a letter is at least this high ...
MAX_GLYPH = 48  # ... and at most this high
CANDIDATES = 3  # glyph-like components nearest the corner that may be the letter
SOLID = 0.75  # share of its box above which a component is a block, not a letter
THIN = 0.42  # width/height below which a component is a parenthesis or rule, not a letter
READ = 0.6  # correlation a glyph needs with a label's template to read as it ...
CLEAR = 0.05  # ... beating every other label by this much
MARGIN = 0.5  # net share of moved panels that must read columns-first to switch
_EIGHT = np.ones((3, 3), bool)


def printed_order(gray: Image.Image, boxes: list[Box], labels: list[str]) -> list[int] | None:
    """The box indices to pair with ``labels`` when the printed letters say columns-first.

    ``gray`` is the grey figure (mode "L"), ``boxes`` the accepted panels in rows-first
    reading order (figure px, x1/y1 exclusive), ``labels`` the caption's labels in label order
    (upper-case, one per box). None keeps rows-first: for layouts with fewer than two rows or
    columns, labels that are not single letters, and letters that cannot be read or favour
    columns-first only weakly.
    """
    if len(boxes) != len(labels):
        return None
    if not all(len(s) == 1 and s.isascii() and s.isalpha() for s in labels):
        return None
    columns = _columns_first(boxes)
    if columns is None:
        return None
    return columns if _gain(gray, boxes, labels, columns) >= MARGIN else None


def _gain(gray: Image.Image, boxes: list[Box], labels: list[str], columns: list[int]) -> float:
    """The evidence for columns-first: of the panels that move, the share whose letter reads
    as its columns-first label, less the share that reads as its rows-first one; -1 when
    the panels that stay put do not read as their (shared) label, so letters are unreadable.
    Reading stops once MARGIN is out of reach: most figures are rows-first, and cheap so."""
    moved = [k for k in range(len(boxes)) if columns[k] != k]
    cols = rows = 0
    for seen, i in enumerate(moved, start=1):
        read = _read(_glyphs(gray, boxes[i]), labels)
        cols += read == labels[columns.index(i)]  # the label box i gets columns-first
        rows += read == labels[i]
        if cols + len(moved) - seen - rows < MARGIN * len(moved):
            return (cols - rows) / len(moved)
    if cols < 2:
        return 0.0
    fixed = [k for k in range(len(boxes)) if columns[k] == k]
    if sum(_read(_glyphs(gray, boxes[k]), labels) == labels[k] for k in fixed) * 2 < len(fixed):
        return -1.0
    return (cols - rows) / len(moved)


def _columns_first(boxes: list[Box]) -> list[int] | None:
    """Box indices columns-first (columns by x-overlap, left to right; top to bottom within
    one), or None when the layout has fewer than two rows or two columns, or reads alike."""
    rows = groups([(b[1], b[3], b[0]) for b in boxes])
    cols = groups([(b[0], b[2], b[1]) for b in boxes])
    if len(rows) < 2 or len(cols) < 2:
        return None
    order = [i for col in cols for i in col]
    return None if order == list(range(len(boxes))) else order


def _glyphs(gray: Image.Image, box: Box) -> np.ndarray:
    """Normalised masks (k x SIDE*SIDE, unit vectors) of the glyph-like components nearest a
    panel's top-left corner, where its letter is printed; (0, SIDE*SIDE) when none."""
    x0, y0, x1, y1 = box
    w = min(CORNER_W, max(1, (x1 - x0) // 2))
    h = min(CORNER_H, max(1, (y1 - y0) // 2))
    region = np.asarray(gray.crop((x0, y0, x0 + w, y0 + h)))
    edge = np.concatenate([region[0, :PATCH], region[:PATCH, 0]])  # mostly background
    ink = region < DARK_INK if edge.mean() >= 128 else region > LIGHT_INK
    lab, _ = ndimage.label(ink, structure=_EIGHT)
    found = []
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        gh, gw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if not MIN_GLYPH <= gh <= MAX_GLYPH or not THIN * gh <= gw <= 1.5 * gh:
            continue  # a dot, a line, a parenthesis or a blob: not a letter (nor I, J, i, j, l)
        if np.count_nonzero(lab[sl] == k) > SOLID * gh * gw:
            continue  # a filled block, not a letter
        found.append((sl[0].start + sl[1].start, k, sl))
    found.sort()
    masks = [_normalised(lab[sl] == k) for _, k, sl in found[:CANDIDATES]]
    return np.stack(masks) if masks else np.zeros((0, SIDE * SIDE))


def _normalised(mask: np.ndarray) -> np.ndarray:
    """A glyph mask centred in a square (aspect kept), resampled to SIDE x SIDE with a blur,
    zero-mean, unit-length: so dot products are correlations, tolerant of a pixel's shift."""
    h, w = mask.shape
    s = max(h, w)
    v = (_resampler(h, s) @ mask.astype(np.float64) @ _resampler(w, s).T).ravel()
    v -= v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


@functools.lru_cache(maxsize=512)
def _resampler(n: int, s: int) -> np.ndarray:
    """SIDE x n weights taking n pixels centred in a span of s to SIDE blurred samples: one
    small matrix product does the scaling, the antialiasing and the blur."""
    scale = s / SIDE
    centres = (np.arange(SIDE) + 0.5) * scale - 0.5 - (s - n) / 2
    sigma = 0.8 * max(1.0, scale)
    return np.exp(-(((np.arange(n)[None, :] - centres[:, None]) / sigma) ** 2) / 2)


@functools.lru_cache(maxsize=128)
def _templates(label: str) -> np.ndarray:
    """A label's letter in both cases, rendered with Pillow's bundled font plain and
    emboldened (figures print "A" or "a", regular or bold), as normalised masks."""
    font = ImageFont.load_default(size=40)
    masks = []
    for letter in (label.upper(), label.lower()):
        for stroke in (0, 1, 2):
            im = Image.new("L", (80, 80), 0)
            draw = ImageDraw.Draw(im)
            draw.text((20, 10), letter, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
            a = np.asarray(im) >= 128
            ys, xs = np.nonzero(a)
            masks.append(_normalised(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]))
    return np.stack(masks)


def _read(glyphs: np.ndarray, labels: list[str]) -> str | None:
    """The label (either case) that the glyph nearest the corner to read clearly reads as: a
    match of at least READ that beats every other label by CLEAR; None when none does."""
    if not len(glyphs):
        return None
    sims = np.stack([glyphs @ _templates(s).T for s in labels]).max(axis=2)  # labels x glyphs
    for col in sims.T:
        top = np.argsort(col)[::-1]
        second = col[top[1]] if len(top) > 1 else -1.0
        if col[top[0]] >= READ and col[top[0]] - second >= CLEAR:
            return labels[int(top[0])]
    return None
