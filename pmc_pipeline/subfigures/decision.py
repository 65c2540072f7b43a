"""The split decision and alignment: panels become samples only when the evidence agrees.

Why: every wrong panel becomes a training pair that teaches a model something false (a
legend paired with "Effect of X on Y in mice"), while a compound figure kept whole is still a
right pair. So a figure is split only when independent evidence agrees: the caption names n
panels, and the pixels divide into n regions that can each be a panel, by clean cuts. A
caption that names no panels keeps the figure whole (as Open-PMC does) unless the pixels
alone are overwhelming evidence (``gutters``: wide full-length gutters between even pieces
that are each a panel; ``tiles``: thin light lines right across an even grid of
photographs; ``framed_panels``: the frame lines where three charts or more sharing an axis
meet; or ``lettered``: the cells of an even grid printed with the letters A, B,
C ... in order, every one, or, lettered on photographs edge to edge, half of them in every
row and column up to the last); such panels carry the whole caption, unaligned.
Every figure gets a decision with a reason and a confidence; rejected candidates are kept
for inspection, never for training.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image

from .boxes import Box, reading_order, rows_first_sure
from .captions import CaptionSplit
from .detector import Detector, detected
from .guided import Guided, framed_panels, guided_panels
from .gutters import WIDE, gutter_panels, holds_panels
from .lettered import Corners, PiecesLettered, lettered_grid, unnamed_grid
from .letters import order_contradicted, printed_order, read_down_columns, single_letters
from .roles import cuts_one_block
from .tiles import tile_panels
from .work import DARK, PAGE, Work, exact_copy, to_figure, working_copy

# Reasons, one per figure.
ACCEPTED = "accepted"  # the caption names n panels; clean cuts give n panels
PRINTED_LETTERS = "printed-letters"  # the printed letters mark an even grid of the caption's n
# panels (or, for a caption naming none, of as many as the figure letters, every one read),
# or every piece of a division too weak or uneven to trust reads its own label
CLEAN_GUTTERS = "clean-gutters"  # the caption names none; wide gutters part clear panels
FRAMED_CHARTS = "framed-charts"  # the caption names none; frame lines part three charts or
# more sharing an axis, as many as those lines give
PHOTO_TILES = "photo-tiles"  # the caption names none; thin light lines part an even grid of
# photographs
NO_CAPTION_LABELS = "no-caption-labels"  # the caption names no panels, the layout no clear ones
LABEL_GAPS = "label-gaps"  # the caption's labels skip letters: its count is not trusted
COUNT_MISMATCH = "count-mismatch"  # the caption names n; the pixels divide into no n panels
# (or into n pieces of which one parts again into two panels at a wide gutter)
NOT_PANELS = "not-panels"  # the n pieces include a legend, a label or a strip, or cut a table
# between its rows or a blot between its strips
WEAK_LAYOUT = "weak-layout"  # n panels found, by cuts too weak or ambiguous to trust
DETECTOR_MISMATCH = "detector-mismatch"  # a learned detector's count disagrees with the caption

STRONG_CUT = 8.0  # figure px: a division whose weakest cut is this strong is trusted ...
WEAK_CUT = 1.0  # ... one with a weaker cut (a thin line, a seam) only when pieces side by
REGULAR = 1.5  # side are of about one length (within this ratio: axis labels differ), and of
REGULAR_TILES = 1.2  # one length where a cut is a seam or the figure is dark: tiles of a
# mosaic are, while the black inside fluorescence photographs looks like a black gutter
EXACT_TILES = 1.1  # tiles cut at seams where only exact black is background: this even
LETTERS_CONFIDENCE = 0.75  # caption, an even grid and most printed letters agree; no clean cuts
GUTTERS_CONFIDENCE = 0.75  # a split on wide gutters alone: clean cuts, but no count to agree


@dataclass(frozen=True)
class SplitDecision:
    """One figure's verdict: its candidate panels (figure pixels, in the order of the
    caption's labels: rows-first unless printed letters run down the columns; [] when none),
    whether they become samples, why, and how strongly the evidence agrees."""

    boxes: list[Box]
    accepted: bool
    reason: str
    confidence: float
    ordered: bool = True  # the boxes' order pairs them with the caption's labels; False
    # when the letters printed in their corners say otherwise: each takes the whole caption


NOT_NAMED = SplitDecision([], False, NO_CAPTION_LABELS, 0.0)


def decide_split(
    img: Image.Image, split: CaptionSplit, *, detector: Detector | None = None
) -> SplitDecision:
    """Whether and how a figure splits, from its (grey) image and its caption's labels."""
    n = len(split.items)
    if detector is not None:
        return _detector_decision(img, n, detector)
    if n < 2:
        return _gutters_decision(img)
    if not _in_sequence(split.labels):
        return SplitDecision([], False, LABEL_GAPS, 0.0)
    work = working_copy(img)
    corners = Corners(img, split.labels)  # read when asked, once whatever asks
    tried: list[SplitDecision] = []
    for levels, faint in _searches(n):
        tried.append(_layout_decision(work, img, guided_panels(work, n, levels, faint)))
        if tried[-1].accepted:
            return _paired(corners, tried[-1])
        if tried[-1].reason == COUNT_MISMATCH and tried[-1].boxes:
            other = _one_way_first(work, img, n, levels, faint)
            if other is not None:
                return _paired(corners, other)
    for weak in tried:  # cuts too weak or uneven: does every piece print its own letter?
        every = _LetteredPieces(corners, weak, strict=True)
        if every.confirmed(every=True):
            return every.accepted()
    pieces = [_LetteredPieces(corners, weak) for weak in tried]
    lettered = lettered_grid(work, corners)  # cuts too weak: do the letters agree?
    if lettered is not None:
        return SplitDecision(lettered, True, PRINTED_LETTERS, LETTERS_CONFIDENCE)
    for weak in pieces:  # an uneven layout: do most pieces print theirs, none against?
        if weak.confirmed(every=False):
            return weak.accepted()
    guided_by_letters = _letters_guided(work, corners, pieces)
    if guided_by_letters is not None:
        return guided_by_letters
    if work.bg < DARK:  # black inside the photographs taken for gutters: exact black only
        exact = _exact_black(work, img, n)
        if exact is not None:
            return _paired(corners, exact)
    if work.bg >= PAGE:  # charts sharing an axis: their frames touch, no gutter parts them
        framed = _layout_decision(work, img, guided_panels(work, n, frames=True))
        if framed.accepted:
            return _paired(corners, framed)
    return tried[0]


def _letters_guided(
    work: Work, corners: Corners, weak: list[_LetteredPieces]
) -> SplitDecision | None:
    """The division searched again without the pieces whose top-left corner reads no
    label, accepted when most of its pieces read their own, none another's. Where a weak
    division's pieces read two letters of their own or more, the figure prints its letters,
    and a piece that reads none is cut wrong: a cut through a photograph at a seam, where
    the gutter beside it scored a little less. None unless the labels are single letters
    and some weak division read two."""
    img, labels = corners.gray, corners.labels
    if not single_letters(labels):
        return None
    if not any(division.decision.boxes and len(division.letters.right) >= 2 for division in weak):
        return None
    w, h = img.size

    def unread(box: Box) -> bool:
        return corners.read(to_figure(box, work.scale, w, h)) is None

    for levels, faint in _searches(len(labels)):
        found = _layout_decision(
            work, img, guided_panels(work, len(labels), levels, faint, unread=unread)
        )
        if found.boxes and found.reason in (WEAK_LAYOUT, ACCEPTED):
            lettered = _LetteredPieces(corners, found)
            if lettered.letters.most:
                return lettered.accepted()
    return None


def _one_way_first(
    work: Work, img: Image.Image, n: int, levels: int, faint: bool
) -> SplitDecision | None:
    """The division searched with its first cuts along rows only, then columns only,
    that is accepted; None if neither is. A piece that holds two panels can come of the
    best division because a wide gap beside a short panel (a blank stretch under it)
    outscored the even cuts between panels the other way first."""
    for first in ((1,), (0,)):
        other = _layout_decision(work, img, guided_panels(work, n, levels, faint, first=first))
        if other.accepted:
            return other
    return None


def _searches(n: int) -> tuple[tuple[int, bool], ...]:
    """The cut searches for a caption's n panels, in turn: two levels of cuts, faint seams
    too; for four panels or more, then a third level (a spanning layout: a tall panel
    beside stacked ones in one row of several), searched only when the first finds none,
    as it costs several times as much, and without faint seams (they found no more panels
    there, at a third more time)."""
    return ((2, True), (3, False)) if n >= 4 else ((2, True),)


def _paired(corners: Corners, decision: SplitDecision) -> SplitDecision:
    """An accepted split in the order its printed letters show, unaligned when they
    contradict any order, when a letter read says down the columns though too few read to
    take that order, or when neither they nor the layout tell rows-first from down the
    columns (each panel then takes the whole caption: no pair is wrong)."""
    img, labels = corners.gray, corners.labels
    ordered = _in_printed_order(corners, decision)
    letters = PiecesLettered(corners, ordered.boxes)
    if order_contradicted(img, ordered.boxes, labels, corners.read):
        return replace(ordered, ordered=False)
    if ordered is decision and read_down_columns(decision.boxes, labels, corners.read):
        return replace(decision, ordered=False)  # perhaps down the columns: not sure
    if (
        ordered is decision  # no letters say columns-first ...
        and not rows_first_sure(decision.boxes)  # ... the layout reads down as often ...
        and not letters.most  # ... nor rows-first
    ):
        return replace(decision, ordered=False)
    return ordered


def _layout_decision(work: Work, img: Image.Image, guided: Guided | None) -> SplitDecision:
    """The verdict on one division into the caption's n panels."""
    if guided is None:
        return SplitDecision([], False, COUNT_MISMATCH, 0.0)
    boxes = _figure(work, img, guided.boxes)
    strength = min(1.0, guided.weakest / (2 * STRONG_CUT))
    if not guided.panels_ok or cuts_one_block(work, guided.boxes):
        return SplitDecision(boxes, False, NOT_PANELS, 0.25 * strength)
    if work.bg >= PAGE and any(holds_panels(work, b, WIDE / work.scale) for b in guided.boxes):
        # a piece of two big panels parted by a wide gutter: the caption names fewer panels
        # than the figure holds (two labels on one line, one unnamed), or one panel is two
        # charts; either way the pairing is not sure: the safe side
        return SplitDecision(boxes, False, COUNT_MISMATCH, 0.25 * strength)
    strong = guided.weakest >= STRONG_CUT and work.bg >= PAGE
    tiles = guided.seamed or work.bg < DARK  # photographs edge to edge, or on black
    regular = guided.uneven <= math.log(REGULAR_TILES if tiles else REGULAR)
    if not strong and (guided.weakest < WEAK_CUT or not regular):
        return SplitDecision(boxes, False, WEAK_LAYOUT, 0.5 * strength)
    return SplitDecision(boxes, True, ACCEPTED, 0.5 + 0.5 * strength)


def _exact_black(work: Work, img: Image.Image, n: int) -> SplitDecision | None:
    """A dark figure divided again where only exact black is background: its gutters are
    drawn in the border's black, while the black inside fluorescence photographs carries the
    camera's noise floor. A division at seams (photographs edge to edge, or parted by a
    gutter too thin to stay black through JPEG) must give tiles of one size (within
    ``EXACT_TILES``): a seam found across a single photograph cuts it anywhere."""
    exact = exact_copy(work)
    for levels, faint in _searches(n):
        guided = guided_panels(exact, n, levels, faint)
        if guided is not None and guided.seamed and guided.uneven > math.log(EXACT_TILES):
            continue
        found = _layout_decision(exact, img, guided)
        if found.accepted:
            return found
    return None


class _LetteredPieces:
    """A weak division that the letters in its pieces' top-left corners may confirm
    (rows-first, or columns-first where the letters say so): the caption's count, the cuts
    and the printed letters then agree, as in an uneven layout whose pieces differ in size.
    Its order and its letters are read once, for both tests (:class:`PiecesLettered`)."""

    def __init__(self, corners: Corners, decision: SplitDecision, strict: bool = False) -> None:
        self.corners, self.decision, self.strict = corners, decision, strict

    @functools.cached_property
    def ordered(self) -> SplitDecision:
        """The division's pieces in label order, columns-first told by the loose reading
        alone unless ``strict`` (as for an accepted split): with the strict one, more weak
        divisions read as most of their letters, and some of them are cut wrong (dev 2
        #108: a photograph cut in two and two merged, 7 of 10 corners reading right),
        while one whose every piece reads its own letter is right."""
        return _in_printed_order(self.corners, self.decision, strict=self.strict)

    @functools.cached_property
    def letters(self) -> PiecesLettered:
        """The letters printed in the ordered pieces' corners."""
        return PiecesLettered(self.corners, self.ordered.boxes)

    def confirmed(self, every: bool) -> bool:
        """Whether every piece (or, unless ``every``, most) reads as its own label."""
        if self.decision.reason != WEAK_LAYOUT:
            return False
        return self.letters.every if every else self.letters.most

    def accepted(self) -> SplitDecision:
        """The division accepted on its printed letters."""
        return replace(
            self.ordered, accepted=True, reason=PRINTED_LETTERS, confidence=LETTERS_CONFIDENCE
        )


def _in_printed_order(
    corners: Corners, decision: SplitDecision, strict: bool = True
) -> SplitDecision:
    """An accepted split's panels in label order: columns first when the printed letters
    read down the columns, else rows first; a corner's strict reading, where it reads a
    letter, overrules the loose one unless not ``strict``."""
    read = corners.read if strict else None
    order = printed_order(corners.gray, decision.boxes, corners.labels, read)
    if order is None:
        return decision
    return replace(decision, boxes=[decision.boxes[i] for i in order])


def _gutters_decision(img: Image.Image) -> SplitDecision:
    """A figure whose caption names no panels: split only at wide, clean gutters, at thin
    light lines between photographs in an even grid, at the frame lines where three charts
    or more sharing an axis meet, or where the figure letters the cells of an even grid
    itself."""
    work = working_copy(img)
    boxes = gutter_panels(work)
    if boxes is None:
        tiles = tile_panels(img)
        if tiles is not None:
            return SplitDecision(tiles, True, PHOTO_TILES, GUTTERS_CONFIDENCE)
        framed = _framed_charts(work, img)
        if framed is not None:
            return framed
        lettered = unnamed_grid(work, img)
        if lettered is None:
            return NOT_NAMED
        return SplitDecision(lettered, True, PRINTED_LETTERS, LETTERS_CONFIDENCE)
    return SplitDecision(_figure(work, img, boxes), True, CLEAN_GUTTERS, GUTTERS_CONFIDENCE)


def _framed_charts(work: Work, img: Image.Image) -> SplitDecision | None:
    """Three charts or more sharing an axis on a light figure whose caption names none,
    parted at the frame lines where they meet (``framed_panels``), when those pieces pass
    as they would for a caption's count (even, each a chart); None otherwise."""
    if work.bg < PAGE:
        return None
    found = _layout_decision(work, img, framed_panels(work))
    if not found.accepted:
        return None
    return replace(found, reason=FRAMED_CHARTS, confidence=GUTTERS_CONFIDENCE)


def _detector_decision(img: Image.Image, n: int, detector: Detector) -> SplitDecision:
    """A learned detector's panels, held to the same caption evidence as the rules."""
    boxes = detected(img, detector)
    if n < 2:
        return SplitDecision(boxes if len(boxes) > 1 else [], False, NO_CAPTION_LABELS, 0.0)
    if len(boxes) < 2:
        return SplitDecision([], False, COUNT_MISMATCH, 0.0)
    if len(boxes) != n:
        return SplitDecision(boxes, False, DETECTOR_MISMATCH, 0.0)
    return SplitDecision(boxes, True, ACCEPTED, 0.9)


def _in_sequence(labels: list[str]) -> bool:
    """Whether single-letter labels run without a gap (A, B, C, not A, B, D): a gap means
    the caption split missed a label, so its count is wrong."""
    letters = [ord(label) for label in labels if len(label) == 1]
    return len(letters) < len(labels) or letters == list(
        range(letters[0], letters[0] + len(letters))
    )


def _figure(work: Work, img: Image.Image, boxes: list[Box]) -> list[Box]:
    w, h = img.size
    return reading_order([to_figure(b, work.scale, w, h) for b in boxes])


def align(
    panels: Sequence[Box], split: CaptionSplit, ordered: bool = True
) -> list[tuple[Box, str | None, str, bool]]:
    """Pair panels (label order) with labels when their counts agree and their order is sure.

    Otherwise no pairing is trustworthy: every panel carries the full caption, unaligned.
    """
    if ordered and panels and len(panels) == len(split.items):
        return [
            (box, label, text, True) for box, (label, text) in zip(panels, split.items, strict=True)
        ]
    return [(box, None, split.caption, False) for box in panels]
