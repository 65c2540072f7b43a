"""Caption-guided layout search: the n panels a caption names, as the n cleanest regions.

Why: an unguided search must guess how many panels there are, and guesses wrong where
panels abut (photo mosaics, shared axes) or where a chart's own legend stands off behind a
gutter. When the caption names n panels the question is narrower and safer: which cuts
(background gutters, seams between abutting photographs) divide the figure into exactly n
regions, in rows or columns and then across each of them, as evenly and cleanly as possible?

The search is two levels of XY-cut: cuts right across the figure (rows, or columns), then
cuts across each of those strips. That covers grids, rows, columns and spanning layouts (a
tall panel beside stacked ones, a wide one over several). Blank lines of any rectangle are
read from cumulative counts of content pixels, so trying a cut costs a few array lookups,
not a pass over pixels; only the chosen panels are judged by the full role rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .boxes import Box, area
from .frames import frame_cuts
from .roles import MIN_SIDE_PX, is_panel, is_ruled, min_area, min_side, small_table, stacked_chart
from .seams import seam_cuts
from .work import DARK, MIN_GUTTER, PAGE, Work, runs, trim

SEAM_STRENGTH = 3.0  # a seam between abutting photographs counts as a gutter this wide (fig px),
SEAM_ALONG = 0.1  # and this much more per share of its line it steps along: of two divisions
# at seams, the one cut where photographs meet all along (not on from there across a panel
# that spans the line) wins, and a gutter still outscores either
_FRAMED_CUTS = 2  # frame lines that part charts under a caption naming no panels, at least
FRAME_STRENGTH = 2.0  # a frame line where charts meet (``frames``), as a gutter this wide
FLANKED = 8.0  # added to a gutter with dense content right beside it on both sides: a clean
_DENSE = 0.5  # line through photographs (this much content) is no gap between text lines
_PHOTO_FULL = 0.95  # a photograph a strip of letters abuts inks its lines this far across ...
_EDGE_LINES = 3  # ... for this many lines (work px) before its edge
_FLAT = 3.0  # grey levels: a gutter on a mid-grey ground deviates at most this much (its std)
_FLAT_BLACK = 1.5  # on black: drawn in the border's black, no camera noise floor
UNEVEN = 1.0  # charged per unit of |log(length ratio)| between neighbouring pieces
_MAX_CUTS = 6  # the strongest cuts of a strip along one axis that the search considers
_MAX_PANELS = 16  # more labels than this: the search is not tried (the figure stays whole)
SMALLEST = 0.08  # a panel is at least this share of the largest panel's area (a table aside,
# whose rules no legend has: a short one beside a large chart): a legend or a
# colour bar cut off behind a gutter is smaller (real compounds: 0.107 at least, of 40)
LETTER_STRIP = 48.0  # figure px: a strip of printed panel letters is at most this deep ...
LETTER_LEAST = 6.0  # ... at least this deep where it abuts a photograph (a glyph, not a speck)
LETTER_OFF = 12.0  # ... a few pixels off its panel (a wider gap after it is a gutter) ...
LETTER_GAP = 6.0  # ... its glyphs of one label this close, the first this near its start ...
LETTER_AT = 8.0  # (figure px; panels side by side start level) ...
LETTER_SHARE = 0.2  # ... its ink along at most this share of its length ...
LETTER_APART = 0.15  # ... and letters of different panels this share of it apart at least
_RETRIES = 3  # divisions tried, each without the pieces the role rules refused before
_RETRIES_UNREAD = 8  # ... and where pieces whose printed letter does not read are refused too

Cut = tuple[int, int, float]  # [start, end) in work pixels along the axis, strength (fig px)


@dataclass(frozen=True)
class Guided:
    """The best division into n panels (work pixels), and how clean its cuts are."""

    boxes: list[Box]
    weakest: float  # the weakest chosen cut, as a gutter width in figure pixels
    uneven: float  # the largest |log length ratio| of pieces side by side, at any level
    seamed: bool  # some cut is a seam between abutting photographs
    panels_ok: bool  # every panel passes the role rules (not a legend, label or strip)


class _Division(NamedTuple):  # a tuple: built many times per search, cheaply
    score: float  # log-strength of the cuts less unevenness
    weakest: float
    boxes: tuple[Box, ...]
    uneven: float = 0.0  # the largest |log length ratio| of neighbouring pieces, any level
    seamed: bool = False  # a cut is a seam between photographs, not a gutter


class _Blank:
    """Which lines of any rectangle hold no content, from cumulative counts: of the working
    copy, or (``full``) of the unreduced figure."""

    def __init__(self, work: Work, full: bool = False) -> None:
        if (full, 0) not in work.summed:  # summed once per figure: every search reads them
            a = np.asarray(work.full) if full and work.full is not None else work.a
            content = np.take(~work.background, a).view(np.uint8)  # twice as fast as indexing
            # columns' sums are kept transposed, so both are running sums down rows
            down, across = _running_sums(content), _running_sums(np.ascontiguousarray(content.T))
            work.summed.update({(full, 0): down, (full, 1): across})
        self.down, self.across = work.summed[full, 0], work.summed[full, 1]

    def counts(self, box: Box, axis: int) -> np.ndarray:
        """Content pixels in each row (axis=1) or column (axis=0) of a box."""
        x0, y0, x1, y1 = box
        if axis == 1:
            return self.across[x1, y0:y1] - self.across[x0, y0:y1]
        return self.down[y1, x0:x1] - self.down[y0, x0:x1]

    def lines(self, box: Box, axis: int) -> np.ndarray:
        """Blank rows (axis=1) or columns (axis=0) of a box, as a bool array."""
        return self.counts(box, axis) == 0


def _running_sums(content: np.ndarray) -> np.ndarray:
    """Running sums of a 0/1 array down its rows, after a row of zeros, in int16 (it holds
    any count: a figure is a few thousand px a side, at half the work of int32). Added a
    whole row at a time: ``np.cumsum`` down or across steps element by element, 2-7x
    slower on a figure's size (the more, the larger)."""
    out = np.empty((content.shape[0] + 1, content.shape[1]), dtype=np.int16)
    out[0] = 0
    for i in range(content.shape[0]):
        np.add(out[i], content[i], out=out[i + 1])
    return out


def guided_panels(
    work: Work,
    n: int,
    levels: int = 2,
    faint: bool = True,
    frames: bool = False,
    first: tuple[int, ...] = (1, 0),
    unread: Callable[[Box], bool] | None = None,
) -> Guided | None:
    """The n panels of the figure with the best cuts by at most ``levels`` levels of cuts
    (two: rows, then columns across each, or columns first; three: then rows again, for
    spanning layouts), looking for faint seams too when no division is found otherwise
    and ``faint``, and cutting at frame lines where charts meet too when ``frames`` (only
    searched when one runs right across the figure), the first cuts along one of ``first``
    (rows: 1, columns: 0); None when no division into n pieces of panel size exists.
    ``unread`` (a trimmed piece, work px) tells a piece whose printed letter does not read:
    the search then tries again without such pieces, up to ``_RETRIES_UNREAD`` times."""
    if not 2 <= n <= _MAX_PANELS:
        return None
    search = _Search(work, n, frames)
    whole = search.trim((0, 0, *work.size))
    if frames:
        if not any(frame_cuts(work, whole, axis) for axis in (1, 0)):
            return None  # no frame line where charts meet runs right across: no search again
        stacked = _stacked(work, whole, n)
        if stacked is not None:
            return stacked
    for _ in range(_RETRIES if unread is None else _RETRIES_UNREAD):
        best = search.divide(whole, n, levels, first)
        if best is None and faint and not search.faint:
            search.look_for_faint_seams()  # photographs that meet in a few bright places
            best = search.divide(whole, n, levels, first)
        if best is None:
            return None
        boxes = [trim(work, b) for b in best.boxes]
        largest = max(area(b) for b in boxes)
        bad = {
            leaf
            for leaf, box in zip(best.boxes, boxes, strict=True)
            if (area(box) < SMALLEST * largest and not is_ruled(work, box))
            or not is_panel(work, box)
        }
        if not bad and unread is not None:
            unlettered = {box for box in boxes if unread(box)}
            if unlettered:  # a piece cut wrong: its corner holds no panel letter
                search.refuse(unlettered)
                continue
        if not bad:
            break
        search.ban(bad)  # a legend or a label strip: the next best division without it
    return Guided(boxes, best.weakest, best.uneven, best.seamed, not bad)


def framed_panels(work: Work) -> Guided | None:
    """The charts one over another (or side by side) that the frame lines where charts
    meet, right across the figure, part: as many as those lines give, for a caption that
    names none: two such lines at least, three charts or more. One line across a chart,
    blank past its ends, with its axis running on across it, may be a line within one
    chart (a forest plot's line of no effect, a threshold); lines repeated across a stack
    of even pieces are not. None unless every piece is a chart (``_stacked``)."""
    whole = trim(work, (0, 0, *work.size))  # no search's running sums: most figures stop here
    for axis in (1, 0):
        cuts = frame_cuts(work, whole, axis)
        if len(cuts) >= _FRAMED_CUTS:
            found = _stacked(work, whole, len(cuts) + 1)
            if found is not None:
                return found
    return None


def _stacked(work: Work, whole: Box, n: int) -> Guided | None:
    """The n charts one over another (or side by side) when the frame lines where charts
    meet, right across the figure, are exactly the n - 1 cuts: stacked charts are cut
    there alone, not where a gutter inside one chart (between its bars) scores higher.
    None when the frame lines give no n pieces that each are a panel."""
    for axis in (1, 0):
        cuts = frame_cuts(work, whole, axis)
        if len(cuts) != n - 1:
            continue
        start, end = (whole[1], whole[3]) if axis == 1 else (whole[0], whole[2])
        edges = [0, *(k for cut in cuts for k in cut), end - start]  # offsets from start
        spans = [(start + a, start + b) for a, b in zip(edges[0::2], edges[1::2], strict=True)]
        boxes = [
            trim(work, (whole[0], a, whole[2], b) if axis == 1 else (a, whole[1], b, whole[3]))
            for a, b in spans
        ]
        lengths = [b - a for a, b in spans]
        uneven = max(abs(math.log(p / q)) for p, q in zip(lengths, lengths[1:], strict=False))
        largest = max(area(b) for b in boxes)
        ok = all(area(b) >= SMALLEST * largest and stacked_chart(work, b) for b in boxes)
        if ok:
            return Guided(boxes, FRAME_STRENGTH, uneven, False, True)
    return None


class _Search:
    def __init__(self, work: Work, n: int, frames: bool = False) -> None:
        self.work = work
        self.n = n
        self.frames = frames
        self.faint = False
        self.blank = _Blank(work)
        self.full: _Blank | None = None  # the unreduced figure's, read only when asked
        # (box, axis, levels) -> (the largest count searched, best division per count)
        self.memo: dict[tuple[Box, int, int], tuple[int, dict[int, _Division]]] = {}
        self.banned: set[Box] = set()
        self.refused: set[Box] = set()  # trimmed pieces no leaf may trim to
        self.leaves: dict[Box, _Division | None] = {}  # one-panel pieces, judged once
        self.side = (min_side(work, 0), min_side(work, 1))
        self.area = min_area(work)

    def trim(self, box: Box) -> Box:
        x0, y0, x1, y1 = box
        rows = np.flatnonzero(~self.blank.lines(box, 1))
        cols = np.flatnonzero(~self.blank.lines(box, 0))
        if not rows.size or not cols.size:
            return box
        return (
            x0 + int(cols[0]),
            y0 + int(rows[0]),
            x0 + int(cols[-1]) + 1,
            y0 + int(rows[-1]) + 1,
        )

    def look_for_faint_seams(self) -> None:
        """Search again with faint seams among the cuts (refused pieces stay refused)."""
        self.faint = True
        self.memo.clear()

    def ban(self, leaves: set[Box]) -> None:
        """Never use these pieces as panels again; forget the divisions that use them (a
        division that uses none stays the best: banning only takes options away)."""
        self.banned |= leaves
        self.memo = {
            key: (k, divisions)
            for key, (k, divisions) in self.memo.items()
            if not any(leaves.intersection(d.boxes) for d in divisions.values())
        }
        for leaf in leaves:
            self.leaves.pop(leaf, None)

    def refuse(self, pieces: set[Box]) -> None:
        """Never use a leaf that trims to one of these pieces again: two seams a pixel
        apart cut one piece as two leaves, so banning the leaves used leaves its twin."""
        self.refused |= pieces
        self.ban({leaf for leaf in self.leaves if trim(self.work, leaf) in pieces})

    def fits(self, box: Box, k: int) -> bool:
        """Large enough for k panels: sides and area alone; or one ruled table, however
        short beside the figure's other panels (``small_table``: a table under a tall
        column of charts is less than the least side a panel takes of the figure)."""
        w, h = box[2] - box[0], box[3] - box[1]
        if w >= self.side[0] and h >= self.side[1] and w * h >= k * self.area:
            return True
        return k == 1 and min(w, h) >= MIN_SIDE_PX and small_table(self.work, box)

    def cuts(self, box: Box, axis: int, need: int) -> list[Cut]:
        """Interior gutters across a box (blank runs that touch neither edge: its margins
        are no cuts), the strongest ``_MAX_CUTS``; seams between photographs too when there
        are fewer gutters than the cuts needed."""
        key = (box, axis, need, self.faint, self.frames)  # the same in every search
        if key not in self.work.cuts:
            self.work.cuts[key] = self._cuts(box, axis, need)
        return self.work.cuts[key]

    def _cuts(self, box: Box, axis: int, need: int) -> list[Cut]:
        counts = self.blank.counts(box, axis)
        blank = counts == 0
        scale = self.work.scale
        extent = (box[2] - box[0]) if axis == 1 else (box[3] - box[1])  # each line's length
        dense = _DENSE * extent
        found = [
            (s, e, (e - s + extra) * scale + FLANKED * bool(min(counts[s - 1], counts[e]) >= dense))
            for s, e, extra in self._letters_joined(box, axis, counts, extent)
            if s > 0 and e < blank.size
        ]
        if self.work.bg < PAGE:  # a photograph's ground: no gutter where it mottles
            found = [cut for cut in found if self._flat(box, axis, cut)]
        if len(found) < need:
            found += self._thin_gutters(box, axis, counts, dense, found)
        if len(found) < need:
            seams = seam_cuts(self.work, box, axis, self.faint)
            found += [(k, k, SEAM_STRENGTH + SEAM_ALONG * along) for k, along in seams]
        if self.frames:
            found += [(s, e, FRAME_STRENGTH) for s, e in frame_cuts(self.work, box, axis)]
        if len(found) > _MAX_CUTS:
            found = sorted(found, key=lambda c: -c[2])[:_MAX_CUTS]
        return sorted(found)

    def _flat(self, box: Box, axis: int, cut: Cut) -> bool:
        """Whether a gutter's grey is flat (within ``_FLAT``, ``_FLAT_BLACK`` on black, its
        edge lines left out): a page's is, while the smooth ground of a photograph filling
        the figure mottles, though every pixel is of its grey (a stained section between
        its nuclei; a fluorescence image's noise floor between cells)."""
        s, e, _ = cut
        inner = (s + 1, e - 1) if e - s > 2 else (s, e)
        x0, y0, x1, y1 = _band(box, axis, *inner)
        flat = _FLAT if self.work.bg >= DARK else _FLAT_BLACK
        return float(self.work.a[y0:y1, x0:x1].std()) <= flat

    def _thin_gutters(
        self, box: Box, axis: int, counts: np.ndarray, dense: float, found: list[Cut]
    ) -> list[Cut]:
        """Gutters of the unreduced figure that its working copy lost, as cuts: a light line
        two or three pixels thick between photographs averages with their dark edges into
        grey when the figure is reduced, and no seam runs along it either (dark meets
        dark on both sides). Light figures only: on black, a black line through a
        photograph's dark stretch would pass for one. Those within a gutter already found
        are no cut of their own."""
        work = self.work
        if work.full is None or work.bg < DARK:
            return []
        if self.full is None:
            self.full = _Blank(work, full=True)
        f = round(work.scale)
        w, h = work.full.size
        x0, y0, x1, y1 = box
        blank = self.full.counts((x0 * f, y0 * f, min(x1 * f, w), min(y1 * f, h)), axis) == 0
        out: list[Cut] = []
        for s, e in runs(blank):
            a, b = s // f, -(-e // f)  # the working copy's lines it shares, grey ones too
            if e - s < MIN_GUTTER or a <= 0 or b >= counts.size:
                continue
            if any(fs < b and a < fe for fs, fe, _ in found):
                continue
            flanked = min(counts[a - 1], counts[b]) >= dense
            out.append((a, b, (e - s) + FLANKED * flanked))
        return out

    def _letters_joined(
        self, box: Box, axis: int, counts: np.ndarray, extent: int
    ) -> list[tuple[int, int, int]]:
        """The blank runs across a box as cuts (start, end, extra width), with the gap after a
        strip of printed panel letters joined to the gap before it: a letter printed beside or
        above its panel stands a few pixels off it, often farther than the gutter between
        panels is wide, so the cut belongs before the letter (which goes with its panel) and
        the short gap after it is no cut of its own. A strip is one of letters when it is
        narrow (one glyph), its ink lies in a few short runs along it, far apart (one per
        panel), the first at its start (the first panel's corner), and past the gap after it
        stands a panel, inked along a panel's least side at least (a legend's markers are
        followed by its words). Where no gap runs before the strip, the letters abutting a
        photograph across a gutter too thin to stay blank (``_abutting_letters``), the cut is
        the photograph's last line."""
        gaps = runs(counts == 0)
        out: list[tuple[int, int, int]] = []
        k = 0
        while k < len(gaps):
            s, e = gaps[k]
            after = gaps[k + 1] if k + 1 < len(gaps) else None
            joined = s > 0 and after is not None and self._letters_before(box, axis, e, after)
            if joined:
                out.append((s, e, after[1] - after[0]))
                k += 2
                continue
            since = gaps[k - 1][1] if k else 0
            edge = self._abutting_letters(box, axis, counts, extent, since, (s, e))
            out.append((s, e, 0) if edge is None else (edge, edge + 1, e - s))
            k += 1
        return out

    def _abutting_letters(
        self,
        box: Box,
        axis: int,
        counts: np.ndarray,
        extent: int,
        since: int,
        gap: tuple[int, int],
    ) -> int | None:
        """The last line of a photograph that a strip of panel letters abuts, the strip
        ending at ``gap`` (a blank run): a letter printed beside its panel in a gutter a
        pixel or two wide touches the photograph before it, so the gutter never reads blank
        and the strip goes with the photograph unless cut from it here. The line must be
        dense (a photograph's edge, not a chart's sparse axis), the lines before it inked
        right across the box (``_PHOTO_FULL``: a photograph, not a chart's tallest bar),
        and the strip as deep as a glyph (a chart's edge followed by the last speck of a
        tick label is no photograph and its letter); None when there is no such line after
        ``since``."""
        first = max(since, gap[0] - int(LETTER_STRIP / self.work.scale)) + 1
        edges = np.flatnonzero(counts[first : gap[0]] >= _DENSE * extent)
        if not edges.size:
            return None
        line = first + int(edges[-1])
        if (gap[0] - line - 1) * self.work.scale < LETTER_LEAST:  # a tick's last speck
            return None
        inside = counts[max(since, line - _EDGE_LINES) : line]
        if inside.size < _EDGE_LINES or not (inside >= _PHOTO_FULL * extent).all():
            return None  # no photograph's edge: a chart's tallest bar, say
        return line if self._letters_before(box, axis, line + 1, gap) else None

    def _letters_before(self, box: Box, axis: int, start: int, after: tuple[int, int]) -> bool:
        """Whether the lines of a box from ``start`` to the gap ``after`` are a strip of
        panel letters (``_letters_only``) standing a few pixels off a panel past that gap."""
        s2, e2 = after
        scale, side = self.work.scale, self.side[1 - axis]
        if (s2 - start) * scale > LETTER_STRIP or (e2 - s2) * scale > LETTER_OFF:
            return False
        if not _letters_only(self.blank, _band(box, axis, start, s2), axis, scale, side):
            return False
        length = (box[2] - box[0]) if axis == 0 else (box[3] - box[1])
        beyond = _band(box, axis, e2, min(length, e2 + s2 - start))  # as deep as the strip
        return np.count_nonzero(self.blank.counts(beyond, 1 - axis)) >= side

    def divide(
        self, box: Box, k: int, levels: int, axes: tuple[int, ...] = (1, 0)
    ) -> _Division | None:
        """The best division of a box into k pieces by at most ``levels`` levels, cutting
        first along one of ``axes`` (pieces keep their margins: trimmed once chosen)."""
        if k == 1:
            if box not in self.leaves:  # one piece: asked of every strip that holds it
                ok = self.fits(box, 1) and box not in self.banned
                ok = ok and not (self.refused and trim(self.work, box) in self.refused)
                self.leaves[box] = _Division(0.0, math.inf, (box,)) if ok else None
            return self.leaves[box]
        if levels == 0 or not self.fits(box, k):
            return None
        k_most = max(k, min(self.n, int(area(box) // self.area)))  # every count at once
        found = [self._along(box, axis, k_most, levels).get(k) for axis in axes]
        return max((f for f in found if f), key=lambda f: (f.score, f.weakest), default=None)

    def _along(self, box: Box, axis: int, k: int, levels: int) -> dict[int, _Division]:
        """The best divisions into 2..k pieces by at least one cut along ``axis``, pieces
        divided further across (one level down) when they hold several panels; memoised,
        as one search answers every count up to k.

        A division scores the log-strength of its cuts, less ``UNEVEN`` per unit of log ratio
        between the lengths of neighbouring pieces: panels side by side are about the same
        size, so a chart cut from its own legend (a long piece beside a short one) loses to
        the even cut between two charts even where the legend's gutter is wider.
        """
        key = (box, axis, levels)
        if key in self.memo and self.memo[key][0] >= k:
            return self.memo[key][1]
        found = self.cuts(box, axis, k - 1)
        x0, y0, x1, y1 = box
        start = y0 if axis == 1 else x0
        length = (y1 - y0) if axis == 1 else (x1 - x0)
        m = len(found)
        ends = [0, *(c[1] for c in found)]  # where the piece after cut i-1 starts
        starts = [*(c[0] for c in found), length]  # where the piece before cut j ends

        most = k if levels > 1 else 1  # panels one piece may hold: the last level, one
        gains = [math.log1p(c[2]) for c in found]
        pieces: dict[tuple[int, int, int], _Division | None] = {}

        def piece(i: int, j: int, here: int) -> _Division | None:
            if here > most:
                return None
            if (i, j, here) not in pieces:
                a, b = start + ends[i], start + starts[j]
                sub = (x0, a, x1, b) if axis == 1 else (a, y0, b, y1)
                ok = b > a and self.fits(sub, here)
                # across, one level down: a cut along this axis again is one of this level's
                across = self.divide(sub, here, levels - 1, (1 - axis,)) if ok else None
                pieces[i, j, here] = across
            return pieces[i, j, here]

        # best[j][left]: (division, first piece length) of the stretch after cut j-1 (j=0:
        # the box's start) into ``left`` pieces, one per first-piece length (what the piece
        # before is compared with): filled from the end.
        best: list[dict[int, list[tuple[_Division, int]]]] = [{} for _ in range(m + 1)]
        for i in range(m, -1, -1):
            # what follows a first piece ending at cut j, for each count of pieces after it:
            # the same for every count of pieces in the stretch, so picked once
            picks: list[dict[int, _Division | None]] = [{} for _ in range(m)]
            # the stretch holds m - i + 1 pieces at most, each of at most ``most`` panels
            for left in range(1, min(k, (m - i + 1) * most) + 1):
                options = []
                last = piece(i, m, left) if i > 0 else None  # i == 0: no cut, not a division
                if last:
                    options.append((last, starts[m] - ends[i]))
                for j in range(i, m):
                    length = starts[j] - ends[i]
                    after_j, picked = best[j + 1], picks[j]
                    top = None  # the best first piece and what follows, ending at cut j
                    # the m - j pieces after cut j hold the rest: at most ``most`` each
                    for here in range(max(1, left - (m - j) * most), min(left, most + 1)):
                        rest = left - here
                        if rest not in picked:
                            picked[rest] = _pick(after_j.get(rest, []), length)
                        after = picked[rest]
                        first = after and piece(i, j, here)
                        if not first:
                            continue
                        score = first.score + after.score + gains[j]
                        weakest = min(first.weakest, after.weakest, found[j][2])
                        if top is None or (score, weakest) > top[:2]:
                            top = (score, weakest, first, after)
                    if top:
                        score, weakest, first, after = top
                        division = _Division(
                            score,
                            weakest,
                            first.boxes + after.boxes,
                            max(first.uneven, after.uneven),
                            first.seamed or after.seamed or found[j][0] == found[j][1],
                        )
                        options.append((division, length))
                best[i][left] = options
        divisions = {n: d for n in range(2, k + 1) if (d := _pick(best[0].get(n, []), None))}
        self.memo[key] = (k, divisions)
        return divisions


def _band(box: Box, axis: int, a: int, b: int) -> Box:
    """Lines a to b (offsets from the box's start) of a box: columns for axis=0, rows for 1."""
    x0, y0, x1, y1 = box
    return (x0 + a, y0, x0 + b, y1) if axis == 0 else (x0, y0 + a, x1, y0 + b)


def _letters_only(blank: _Blank, strip: Box, axis: int, scale: float, side: float) -> bool:
    """Whether a narrow strip's ink lies in short runs along it, the first at its start and
    each a panel's least ``side`` (work px) past the last at least: panel letters, one per
    panel (tick labels and legend entries stand closer, titles run longer)."""
    inked = blank.counts(strip, 1 - axis) > 0
    spans = runs(inked)
    merged: list[list[int]] = []
    for a, b in spans:  # "(A)": its glyphs part by a pixel or two
        if merged and (a - merged[-1][1]) * scale <= LETTER_GAP:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    if not merged or merged[0][0] * scale > LETTER_AT:
        return False
    if any((b - a) * scale > LETTER_STRIP for a, b in merged):
        return False
    length = inked.size
    if sum(b - a for a, b in merged) > LETTER_SHARE * length:
        return False
    apart = max(LETTER_APART * length, side)
    return all(c - b >= apart for (_, b), (c, _) in zip(merged, merged[1:], strict=False))


def _pick(options: list[tuple[_Division, int]], before: int | None) -> _Division | None:
    """The best of the divisions that follow a piece ``before`` long, unevenness charged."""
    best, best_key, best_ratio = None, None, 0.0
    for division, first in options:
        ratio = 0.0 if before is None else abs(math.log(max(before, 1) / max(first, 1)))
        key = (division.score - UNEVEN * ratio, division.weakest)
        if best_key is None or key > best_key:
            best, best_key, best_ratio = division, key, ratio
    if best is None or best_key is None:
        return None
    uneven = max(best.uneven, best_ratio)
    return _Division(best_key[0], best.weakest, best.boxes, uneven, best.seamed)
