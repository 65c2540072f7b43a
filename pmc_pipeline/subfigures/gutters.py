"""Panels without the caption's help: only at clean, wide, full-length gutters.

Why: about one compound caption in six names no panels ("Expression of X in Y. Staining
of ..."), and keeping all of those whole loses their panels. Without a count from the
caption, the pixels alone must be overwhelming evidence: the figure divides (rows, then
columns across each, then rows again; or columns first) at wide background gutters that run
right across it and stand out from every gap within the pieces (a table's evenly spaced rows
do not), the pieces side by side are of comparable length (a spanning panel beside a stack
of panels is up to 4x longer than each of the stack's; a colour bar beside its chart is no
stack), and every piece is a panel by the role rules (a legend, a table of text or a strip
behind a wide gutter refuses the whole division: the figure stays whole), except a title or
a lone letter, which joins the nearer panel beside it before the gutters are weighed (its
gap is no gutter between panels), and a legend or colour bar beside a chart a third its
width at most (a table stays a panel of its own; a legend's markers and words, in two
columns, are no table). No piece may part again
at a narrower blank gutter (``PARTING`` wide at least) into two big panels: then the wide
gutters miss a cut, and a piece of two charts is no panel. Such panels carry the whole
caption, unaligned.
"""

from __future__ import annotations

from .boxes import Box, area
from .roles import cuts_one_block, is_panel, is_table
from .work import DARK, Work, background_lines, gutter_pieces, runs, trim

WIDE = 12.0  # figure px: the least width of a gutter between panels the caption never named
EVEN_ONE = 2.0  # pieces side by side differ in width by at most this ratio (rows one above
# another, in height, by EVEN: a blot of five strips over one of two), or up to
EVEN = 4.0  # this one where the shorter piece is a stack of panels (a spanning panel beside
# it): a colour bar or a legend beside its chart is one short piece. Columns of uneven
# counts stack a short chart (a third of its neighbour's height, or less) under tall ones
ANNOTATION = 32  # figure px: a title or a lone letter beyond a gutter is this long at most
KEY_SHARE = 3  # a legend or colour bar beside its chart (not a table) is a third as wide
PARTING = 3  # figure px: a piece parts into two panels at a blank gap this wide at least (a
# chart's tick labels hang a pixel or two below its axis line, which is no separator either)
OUTSTANDING = 1.5  # a gutter between panels is this much wider than any gap within them
_HELD = 0.3  # a piece holds panels when two parts this much of its area are panels (a
# framed legend or a colour bar beside its chart is smaller)
_LEVELS = 3  # rows, columns across them, rows again (or columns first): grids, spanning


def gutter_panels(work: Work) -> list[Box] | None:
    """The panels a light figure divides into at wide full-length gutters (work pixels,
    trimmed), the division with more panels of the two axis orders; None when there is no
    such division into two or more panels."""
    if work.bg < DARK:  # black photographs hold black stretches that look like gutters
        return None
    whole = trim(work, (0, 0, *work.size))
    best: list[Box] | None = None
    parting = PARTING / work.scale
    for axis in (1, 0):
        boxes = _divide(work, whole, axis, _LEVELS)
        more = boxes is not None and len(boxes) > max(1, len(best or ()))
        if more and all(is_panel(work, b) and not holds_panels(work, b, parting) for b in boxes):
            best = boxes
    return best


def holds_panels(work: Work, box: Box, wide: float | None = None) -> bool:
    """Whether a piece parts at a gutter (``wide`` work px at least, when given) into two
    big panels (each, trimmed, ``_HELD`` of its area at least: a legend beside its chart is
    smaller; not rows of one table or strips of one blot): then the cuts are no full account
    of the panels, and a piece of two panels is no panel either."""
    for axis in (1, 0):
        pieces = gutter_pieces(work, box, axis, wide)
        parts = [trim(work, p) for p in pieces]
        panels = [p for p in parts if area(p) >= _HELD * area(box) and is_panel(work, p)]
        if len(panels) >= 2 and not cuts_one_block(work, panels):
            return True
    return False


def _widest_gap(work: Work, box: Box, axis: int) -> int:
    """The widest interior background gutter across a box (work px; 0 when none)."""
    background = background_lines(work, box, axis)
    gaps = [e - s for s, e in runs(background) if s > 0 and e < background.size]
    return max(gaps, default=0)


def _divide(work: Work, box: Box, axis: int, levels: int) -> list[Box] | None:
    """Leaves of a box cut at its wide gutters along ``axis``, each piece cut across one
    level down; None when the gutters do not stand out from the gaps within the pieces, or
    pieces side by side are of uneven lengths."""
    if levels == 0:
        return [box]
    pieces = [trim(work, p) for p in gutter_pieces(work, box, axis, wide=WIDE / work.scale)]
    if not pieces:
        return [box]
    joined = _annotations_joined(work, pieces, axis)
    if len(joined) == 1:  # a lone letter or a title over its panel: no gutter between panels
        return _divide(work, joined[0], 1 - axis, levels - 1)
    if _widest_gap(work, box, axis) < OUTSTANDING * max(_widest_gap(work, p, axis) for p in pieces):
        return None  # gaps like the ones within the pieces: rows of a table, lines of text
    pieces = joined
    lengths = [_length(p, axis) for p in pieces]
    if max(lengths) > EVEN * max(1, min(lengths)):
        return None
    out: list[Box] = []
    for piece, length in zip(pieces, lengths, strict=True):
        leaves = _divide(work, piece, 1 - axis, levels - 1)
        beside = axis == 0  # rows one above another may differ more: blots of 2 and 5 strips
        if leaves is None or (beside and max(lengths) > EVEN_ONE * length and len(leaves) < 2):
            return None  # a short piece beside a long one is a stack, not a colour bar
        out += leaves
    return out


def _annotations_joined(work: Work, pieces: list[Box], axis: int) -> list[Box]:
    """Pieces with each strip that annotates a panel (a title, a lone panel letter, an axis
    title: no panel, two lines of text at most, and less than half as long as the piece it
    joins) joined to the nearer piece beside it (the one after, on a tie): a title stands
    closer to its own panel than to the one before, and its gutter is no cut between
    panels. A small table is longer: a panel of its own."""
    out = list(pieces)
    k = 0
    while len(out) > 1 and k < len(out):
        j = _nearer(out, k, axis)
        length = _length(out[k], axis)
        beside = _length(out[j], axis)
        short = length * 2 < beside and (
            length * work.scale <= ANNOTATION
            or (axis == 0 and length * KEY_SHARE <= beside and not is_table(work, out[k]))
        )
        if short and not is_panel(work, out[k]):
            a, b = out[k], out[j]
            out[min(k, j)] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
            del out[max(k, j)]
            k = 0
            continue
        k += 1
    return out


def _nearer(pieces: list[Box], k: int, axis: int) -> int:
    """The index of the piece beside piece k (along ``axis``) across the narrower gap."""
    lo, hi = (1, 3) if axis == 1 else (0, 2)
    if (
        k == 0
        or k + 1 < len(pieces)
        and (pieces[k + 1][lo] - pieces[k][hi] <= pieces[k][lo] - pieces[k - 1][hi])
    ):
        return k + 1
    return k - 1


def _length(box: Box, axis: int) -> int:
    return (box[3] - box[1]) if axis == 1 else (box[2] - box[0])
