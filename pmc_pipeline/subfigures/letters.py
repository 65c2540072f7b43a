"""Printed panel letters: whether a figure labels its panels columns-first; which letter a
panel's corner holds; where a figure's letters stand.

Why: accepted panels are paired with the caption's labels in rows-first reading order, but some
figures letter their panels down the columns (A, B in the first column, C, D in the second);
then every label and sub-caption goes to the wrong panel. The letters printed in the panels'
top-left corners tell which order the authors used. Only two hypotheses are weighed, rows-first
and columns-first, and columns-first wins only by a clear margin: a wrong switch mislabels every
panel, while keeping rows-first costs nothing on the common figure. The same reading, held
stricter (a letter alone, beating every other letter and digit), is evidence that a panel is
there at all (``lettered``). Dependency-free (numpy, scipy, Pillow's bundled font and the
shapes stored in ``glyphs``) and a few milliseconds a figure.
"""

from __future__ import annotations

import functools
import itertools
import string
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFont
from scipy import ndimage

from . import glyphs
from .boxes import Box, groups
from .work import median

SIDE = 20  # glyphs and templates are compared as SIDE x SIDE masks
CORNER_W = 72  # figure px: the corner region read for a panel's letter ...
CORNER_H = 52  # ... at most this wide and high, and at most half the panel


class Ink(NamedTuple):
    """The grey levels that are ink: darker than ``dark`` on a light ground, lighter than
    ``light`` on a dark one."""

    dark: int
    light: int


USUAL = Ink(100, 155)
FAINT = Ink(170, 85)  # read down to paler ink, when the usual level reads nothing ...
DEEP = Ink(50, 205)  # ... or to the deepest ink only, when the paler does not either ...
FAINT_GLYPH = 10  # px: ... for glyphs this tall at least (a panel letter, not body text)
MIN_GLYPH = 6  # px: a letter is at least this high ...
MAX_GLYPH = 48  # ... and at most this high
NEIGHBOUR = 0.5  # a letter this close (share of a glyph's height) beside another is in a word
CANDIDATES = 3  # glyph-like components nearest the corner that may be the letter
SOLID = 0.75  # share of its box above which a component is a block, not a letter, ...
BOLD = 0.9  # ... unless, a bold letter, it fills at most this share and encloses holes of
COUNTER = 0.03  # at least this share of its box
THIN = 0.42  # width/height below which a component is a parenthesis or rule, not a letter
READ = 0.6  # correlation a glyph needs with a label's template to read as it ...
CLEAR = 0.05  # ... beating every other label by this much
MARGIN = 0.5  # net share of moved panels that must read columns-first to switch
_EIGHT = np.ones((3, 3), bool)
GROUND = 24  # grey levels from the figure's ground that still are ground, ...
ON_GROUND = 0.6  # ... around this share of a letter printed on it (beside its parentheses)
EDGE_LINE = 0.8  # a corner's first rows (columns) ink across this share are a gutter's edge
EDGE_DEPTH = 4  # ... cleared when they are at most this many px deep
SYMBOLS = [*string.ascii_uppercase, *string.digits]  # what a strict reading tells a label from


def printed_order(
    gray: Image.Image,
    boxes: list[Box],
    labels: list[str],
    read: Callable[[Box], Reading | None] | None = None,
) -> list[int] | None:
    """The box indices to pair with ``labels`` when the printed letters say columns-first.

    ``gray`` is the grey figure (mode "L"), ``boxes`` the accepted panels in rows-first
    reading order (figure px, x1/y1 exclusive), ``labels`` the caption's labels in label order
    (upper-case, one per box). None keeps rows-first: for layouts with fewer than two rows or
    columns, labels that are not single letters, and letters that cannot be read or favour
    columns-first only weakly. ``read``: a corner's strict reading (:func:`reads_as`, as
    memoised by the caller), which, where it reads a letter, overrules the loose one.
    """
    if len(boxes) != len(labels):
        return None
    if not single_letters(labels):
        return None
    columns = _columns_first(boxes)
    if columns is None:
        return None
    return columns if _gain(gray, boxes, labels, columns, read) >= MARGIN else None


def order_contradicted(
    gray: Image.Image,
    boxes: list[Box],
    labels: list[str],
    read: Callable[[Box], Reading | None] | None = None,
) -> bool:
    """Whether the letters printed in the panels' corners say the pairing is wrong: two or
    more read as other labels, each a different one, and more than read as their own (an
    irregular layout lettered in an order neither rows-first nor columns-first). Only
    layouts of several rows are read, and reading stops once half the panels read as their
    own label. ``read`` reads a corner (:func:`reads_as` unless given: a caller that reads
    the same corners again passes its memo)."""
    if len(boxes) != len(labels) or not single_letters(labels):
        return False
    if len(groups([(b[1], b[3], b[0]) for b in boxes])) < 2:
        return False  # one row: rows-first is the only order
    own, other = 0, []
    for box, label in zip(boxes, labels, strict=True):
        found = read(box) if read else reads_as(gray, box, labels)
        if found is not None:
            own += found.label == label
            other += [found.label] if found.label != label else []
        if 2 * own >= len(boxes):
            return False
    # misreadings repeat a letter ("(c)" and "(g)" both read as F); another order does not
    return len(set(other)) == len(other) >= 2 and len(other) > own


def read_down_columns(
    boxes: list[Box], labels: list[str], read: Callable[[Box], Reading | None]
) -> bool:
    """Whether a panel that reading down the columns would move reads strictly as its
    columns-first label: rows-first was kept as too few letters read to prefer columns
    (``printed_order`` wants two), but this one says the figure may read down its columns,
    a pairing a misreading seldom picks so exactly (dev 7 #97: three columns lettered A-B,
    C, D-E, only A, D and E read, rows-first paired C's sub-caption with D's panel). A
    letter read in two corners (one of them, perhaps, the corner rows-first gives it) is
    misread in one (each is printed once) and tells nothing (dev 6 #385: a small "B" read
    as D; dev 5 #374: "(a)" and "(f)" both read as D)."""
    columns = _columns_first(boxes)
    if columns is None or len(boxes) != len(labels) or not single_letters(labels):
        return False
    reads = [read(box) for box in boxes]
    times = Counter(found.label for found in reads if found)
    for k, i in enumerate(columns):  # position k columns-first holds box i
        found = reads[i]
        if i != k and found is not None and found.label == labels[k] and times[found.label] == 1:
            return True
    return False


def single_letters(labels: list[str]) -> bool:
    """Whether every label is one Latin letter: the only labels the templates can read."""
    return all(len(s) == 1 and s.isascii() and s.isalpha() for s in labels)


class Reading(NamedTuple):
    """A panel letter read: its label, and its top-left corner and height (figure px)."""

    label: str
    x: int
    y: int
    height: int


def reads_as(gray: Image.Image, box: Box, labels: list[str]) -> Reading | None:
    """The label (of ``labels``, single letters) that a letter standing alone in a panel's
    top-left corner reads as, strictly: better than any other letter or digit too (tick
    labels and legend words hold glyphs that match some label loosely); None when none
    reads so clearly. Evidence that the panel is there, not only how it is lettered."""
    # each glyph, then each closed, as a small letter's faint strokes break it (closed only
    # if needed), then the ink read down to a paler grey: a serif letter's hairlines blur
    # grey in JPEG and part its stem from its bowls (read only when all else reads nothing),
    # then only its deepest ink: a bold serif letter's narrow counters blur shut at the
    # usual level ("B" read as H); then all again on the ground of the corner's own nook
    # where that differs (a letter on the page's margin beside a photograph that fills the
    # rest of the corner)
    region = _corner_region(gray, box)  # cropped once for every reading of it
    for mask, sl in itertools.chain(_reads(region, None), _nook_reads(region)):
        label = _read(_normalised(mask)[None], labels, SYMBOLS)
        if label is not None:
            return Reading(label, box[0] + sl[1].start, box[1] + sl[0].start, _height(sl))
    return None


def _reads(
    region: np.ndarray, light: bool | None
) -> Iterator[tuple[np.ndarray, tuple[slice, slice]]]:
    """A corner's (``_corner_region``) lone glyphs in the order :func:`reads_as` tries them,
    on a light ground (dark ink) or a dark one, or on the corner's own ground when ``light``
    is None; found only when asked for."""
    found = _corner(region, alone=True, light=light)
    yield from found
    yield from ((_closed(mask), sl) for mask, sl in found)
    yield from _corner(region, alone=True, level=FAINT, light=light)
    yield from _corner(region, alone=True, level=DEEP, light=light)


def _nook_reads(region: np.ndarray) -> Iterator[tuple[np.ndarray, tuple[slice, slice]]]:
    """:func:`_reads` on the ground of the corner's top-left quarter, where its letter
    stands, when that differs from the whole corner's; nothing when they agree."""
    h, w = region.shape
    nook = median(region[: max(1, h // 2) : 2, : max(1, w // 2) : 2].ravel()) >= 128
    if nook != _light(region):
        yield from _reads(region, nook)


def letter_marks(
    gray: Image.Image, labels: list[str], ground: int, anywhere: bool = False
) -> list[Reading]:
    """Letters printed on the figure's ``ground`` (a page colour), standing alone, that
    strictly read as one of ``labels``. Where a layout puts panel letters tells which panels
    they mark (which label a letter reads as is less sure: a serif B may read as A); a letter
    on a photograph may be an arrowhead or a cell, so only those on the page count. Read at
    the usual ink level, then down to paler ink as a corner is (:func:`reads_as`): a letter
    that counts for a panel in its corner must count against a cell that holds it inside.
    ``anywhere``: on a photograph too (the ink of ``ground``'s polarity on any ground), where
    a letter refuting a piece is wanted even at the risk of a cell read as one."""
    a = np.asarray(gray)
    return [m for level in (USUAL, FAINT) for m in _marks(a, labels, ground, level, anywhere)]


def _marks(
    a: np.ndarray, labels: list[str], ground: int, level: Ink, anywhere: bool
) -> list[Reading]:
    """:func:`letter_marks` at one ink level; the paler one keeps only tall glyphs that the
    usual level breaks (a serif letter's grey hairlines), which it did not read whole."""
    light = ground >= 128
    faint = level == FAINT
    lab, _ = ndimage.label(_ink(a, light, level), structure=_EIGHT)
    slices = ndimage.find_objects(lab)
    bounds = _bounds(slices)
    marks = []
    for k, sl in enumerate(slices, start=1):
        if faint and _height(sl) < FAINT_GLYPH:
            continue  # cheaply, before a page's many small glyphs are judged (_read_pale)
        if not _glyph_like(lab[sl], k) or not (anywhere or _on_ground(a, sl, ground)):
            continue
        if _neighboured(sl, bounds):
            continue
        if faint and not _read_pale(a, sl, light):
            continue
        label = _read(_normalised(lab[sl] == k)[None], labels, SYMBOLS)
        if label is not None:
            marks.append(Reading(label, sl[1].start, sl[0].start, _height(sl)))
    return marks


def _on_ground(a: np.ndarray, glyph: tuple[slice, slice], ground: int) -> bool:
    """Whether the ring around a glyph (half its height wide, past the pixel of blur at its
    edge) is mostly ground colour."""
    pad = max(3, _height(glyph) // 2)
    y0, x0 = max(0, glyph[0].start - pad), max(0, glyph[1].start - pad)
    around = a[y0 : glyph[0].stop + pad, x0 : glyph[1].stop + pad].astype(np.int16)
    inner = np.zeros(around.shape, bool)
    gy, gx = glyph[0].start - y0, glyph[1].start - x0
    inner[max(0, gy - 1) : glyph[0].stop - y0 + 1, max(0, gx - 1) : glyph[1].stop - x0 + 1] = True
    ring = around[~inner]
    return bool(ring.size) and np.mean(np.abs(ring - ground) <= GROUND) >= ON_GROUND


def _gain(
    gray: Image.Image,
    boxes: list[Box],
    labels: list[str],
    columns: list[int],
    read: Callable[[Box], Reading | None] | None = None,
) -> float:
    """The evidence for columns-first: of the panels that move, the share whose letter reads
    as its columns-first label, less the share that reads as its rows-first one; -1 when
    the panels that stay put do not read as their (shared) label, so letters are unreadable.
    Reading stops once MARGIN is out of reach: most figures are rows-first, and cheap so."""

    def letter(box: Box) -> str | None:
        strict = read(box) if read else None
        return strict.label if strict else _read(_glyphs(gray, box), labels)

    moved = [k for k in range(len(boxes)) if columns[k] != k]
    cols = rows = 0
    for seen, i in enumerate(moved, start=1):
        found = letter(boxes[i])
        cols += found == labels[columns.index(i)]  # the label box i gets columns-first
        rows += found == labels[i]
        if cols + len(moved) - seen - rows < MARGIN * len(moved):
            return (cols - rows) / len(moved)
    if cols < 2:
        return 0.0
    fixed = [k for k in range(len(boxes)) if columns[k] == k]
    if sum(letter(boxes[k]) == labels[k] for k in fixed) * 2 < len(fixed):
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
    masks = [_normalised(mask) for mask, _ in _corner(_corner_region(gray, box))]
    return np.stack(masks) if masks else np.zeros((0, SIDE * SIDE))


def _corner_region(gray: Image.Image, box: Box) -> np.ndarray:
    """The corner of a panel where its letter is printed, grey px."""
    x0, y0, x1, y1 = box
    w = min(CORNER_W, max(1, (x1 - x0) // 2))
    h = min(CORNER_H, max(1, (y1 - y0) // 2))
    return np.asarray(gray.crop((x0, y0, x0 + w, y0 + h)))


def _light(region: np.ndarray) -> bool:
    """Whether a corner's ground, mostly around the letter, is light (dark ink); its very
    edge may be a gutter or frame of another colour."""
    return median(region[::2, ::2].ravel()) >= 128


def _corner(
    region: np.ndarray,
    alone: bool = False,
    level: Ink = USUAL,
    light: bool | None = None,
) -> list[tuple[np.ndarray, tuple[slice, slice]]]:
    """The glyph-like components of the ink of a panel's top-left corner (its
    ``_corner_region``), where its letter is printed, nearest the corner: (mask, slices), at
    most CANDIDATES. With ``alone``, only glyphs that stand apart from other letters: a
    panel letter is printed by itself, while the "c" of "curcumin" in a legend has
    neighbours."""
    light = _light(region) if light is None else light
    lab, _ = ndimage.label(_off_edge(_ink(region, light, level)), structure=_EIGHT)
    slices = ndimage.find_objects(lab)
    found = []
    for k, sl in enumerate(slices, start=1):
        if not _glyph_like(lab[sl], k):
            continue
        if alone and _has_neighbour(sl, slices):
            continue
        if level == FAINT and not _read_pale(region, sl, light):
            continue
        if level == DEEP and _height(sl) < FAINT_GLYPH:
            continue  # a small glyph's deepest ink is a sliver: tick digits read as letters
        found.append((sl[0].start + sl[1].start, k, sl))
    found.sort()
    return [(lab[sl] == k, sl) for _, k, sl in found[:CANDIDATES]]


def _ink(a: np.ndarray, light: bool, level: Ink = USUAL) -> np.ndarray:
    """The ink of grey pixels on a light ground (dark ink) or a dark one (light ink), at
    ``level``."""
    return a < level.dark if light else a > level.light


def _read_pale(a: np.ndarray, glyph: tuple[slice, slice], light: bool) -> bool:
    """Whether a glyph found down to paler ink is read there: tall (a word's small letters
    run together when pale) and in pieces at the usual level (``_broken``), where it was
    not read whole."""
    return _height(glyph) >= FAINT_GLYPH and _broken(_ink(a[glyph], light))


def _broken(ink: np.ndarray) -> bool:
    """Whether a glyph's ink at the usual level is in two pieces or more (a serif letter
    whose grey hairlines part its stem from its bowls), which the paler level joins."""
    return ndimage.label(ink, structure=_EIGHT)[1] >= 2


def _closed(mask: np.ndarray) -> np.ndarray:
    """A glyph with its gaps of a pixel filled (a morphological closing of it alone, so no
    neighbour joins it): a small letter on a photograph loses parts of its thin strokes to
    the threshold and matches its shape only so."""
    return ndimage.binary_closing(np.pad(mask, 1), structure=_EIGHT)[1:-1, 1:-1]


def _off_edge(ink: np.ndarray) -> np.ndarray:
    """The ink of a corner less the lines along its top and left edges that are ink nearly
    across (a gutter's or frame's edge left in the box): a letter set close to the corner
    would join them and read as no glyph."""
    rows = np.flatnonzero(ink.mean(axis=1) < EDGE_LINE)
    cols = np.flatnonzero(ink.mean(axis=0) < EDGE_LINE)
    top = int(rows[0]) if rows.size and rows[0] <= EDGE_DEPTH else 0
    left = int(cols[0]) if cols.size and cols[0] <= EDGE_DEPTH else 0
    if not top and not left:
        return ink
    ink = ink.copy()
    ink[:top] = False
    ink[:, :left] = False
    return ink


def _height(glyph: tuple[slice, slice]) -> int:
    return glyph[0].stop - glyph[0].start


def _width(glyph: tuple[slice, slice]) -> int:
    return glyph[1].stop - glyph[1].start


def _glyph_like(labelled: np.ndarray, k: int) -> bool:
    """Whether component ``k`` (of the labelled ink, cut to its bounding box) has a letter's
    size and shape: not a dot, a line, a parenthesis or a blob (nor I, J, i, j, l, which no
    template tells apart), nor a filled block. The size is checked first, from the box
    alone: a figure holds many components, most of them no letter."""
    gh, gw = labelled.shape
    if not MIN_GLYPH <= gh <= MAX_GLYPH or not THIN * gh <= gw <= 1.5 * gh:
        return False
    mask = labelled == k
    filled = np.count_nonzero(mask)
    if filled <= SOLID * gh * gw:
        return True
    # a bold letter fills its box nearly as a blob does, but holds a counter (B, D, a, e)
    return filled <= BOLD * gh * gw and np.count_nonzero(ndimage.binary_fill_holes(mask)) >= (
        filled + COUNTER * gh * gw
    )


def _has_neighbour(glyph: tuple[slice, slice], slices: list[tuple[slice, slice]]) -> bool:
    """Whether another letter-sized component stands beside a glyph, or above or below it
    (rotated axis titles), closer than NEIGHBOUR of its height: a word. A parenthesis (thin,
    taller than the letter), a full stop (small) and a frame or photograph (large) are no
    neighbours: "(a)" and "a." are panel letters."""
    return _neighboured(glyph, _bounds(slices))


def _bounds(slices: list[tuple[slice, slice]]) -> np.ndarray:
    """Components' boxes as rows of (y0, y1, x0, x1): tested against a glyph all at once."""
    if not slices:
        return np.zeros((0, 4), int)
    return np.array([(s[0].start, s[0].stop, s[1].start, s[1].stop) for s in slices])


def _neighboured(glyph: tuple[slice, slice], bounds: np.ndarray) -> bool:
    """:func:`_has_neighbour` against components' ``_bounds``."""
    gy0, gy1, gx0, gx1 = glyph[0].start, glyph[0].stop, glyph[1].start, glyph[1].stop
    gh, gw = gy1 - gy0, gx1 - gx0
    near = NEIGHBOUR * gh
    y0, y1, x0, x1 = bounds.T
    h, w = y1 - y0, x1 - x0
    big = np.maximum(h, w)
    same = (y0 == gy0) & (y1 == gy1) & (x0 == gx0) & (x1 == gx1)
    bracket = (w < THIN * h) & (h >= 0.9 * gh)
    letter = (0.5 * gh <= big) & (big <= 2 * gh) & ~bracket & ~same
    across = np.minimum(y1, gy1) - np.maximum(y0, gy0) >= 0.5 * np.minimum(gh, h)
    beside = np.maximum(x0 - gx1, gx0 - x1) < near
    along = np.minimum(x1, gx1) - np.maximum(x0, gx0) >= 0.5 * np.minimum(gw, w)
    stacked = np.maximum(y0 - gy1, gy0 - y1) < near
    return bool(np.any(letter & ((across & beside) | (along & stacked))))


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
    """A label's letter (or digit) in both cases as normalised masks: drawn with Pillow's
    bundled font plain and emboldened (figures print "A" or "a", regular or bold), and in
    the stored faces of ``glyphs`` (serif and another sans)."""
    font = ImageFont.load_default(size=glyphs.PX)
    masks = []
    for char in dict.fromkeys((label.upper(), label.lower())):  # a digit has one case
        masks += [glyphs.render(font, char, stroke) for stroke in (0, 1, 2)]
        masks += glyphs.shapes(char)
    return np.stack([_normalised(m) for m in masks])


def _read(masks: np.ndarray, labels: list[str], rivals: Sequence[str] = ()) -> str | None:
    """The label (either case) that the glyph nearest the corner to read clearly reads as: a
    match of at least READ that beats every other label by CLEAR, and every rival; None when
    none does."""
    if not len(masks):
        return None
    symbols = (*labels, *(r for r in rivals if r not in labels))
    templates, starts = _stacked(symbols)
    sims = np.maximum.reduceat(masks @ templates.T, starts, axis=1).T  # symbol x glyph
    for col in sims.T:  # one glyph: its match with each label, then each rival
        top = np.argsort(col[: len(labels)])[::-1]
        best = col[top[0]]
        second = col[top[1]] if len(top) > 1 else -1.0
        if best >= READ and best - second >= CLEAR and best >= col[len(labels) :].max(initial=-1):
            return labels[int(top[0])]
    return None


@functools.lru_cache(maxsize=64)
def _stacked(symbols: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The templates of several symbols in one matrix, and where each symbol's rows start:
    one matrix product matches a glyph against all of them."""
    blocks = [_templates(s) for s in symbols]
    starts = np.cumsum([0, *(len(b) for b in blocks[:-1])])
    return np.concatenate(blocks), starts
