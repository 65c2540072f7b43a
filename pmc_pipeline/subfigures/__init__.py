"""Split compound figures into panels paired with their own sub-captions (pure: image in, rows out).

Why: about half of PMC figures are compound; a panel paired with the part of the caption that
describes it is a sharper training pair than the whole figure with the whole caption. But a
wrong panel (a legend, half a photograph) paired with a caption teaches a model something
false, so a figure is split only when independent evidence agrees. One idea a module:

- ``captions``: the caption's panel labels and sub-captions;
- ``work``, ``roles``, ``seams``, ``guided``: the figure's layout from its pixels, searched for
  the panels its caption names (classical, runs anywhere); ``frames``: the frame lines
  where charts sharing an axis meet, cut at in a last search; ``gutters``: panels parted by
  wide clean gutters, for captions that name none;
- ``decision``: the split decision and the pairing of panels with sub-captions, in the
  order the printed letters (``letters``, read against the shapes in ``glyphs``) show;
  ``lettered``: an even grid the printed letters confirm, where cuts are too weak;
- ``detector``: the seam for a learned detector (local files only, never downloads);
- ``rows``: panel records for the ``split`` stage.
"""

from .boxes import Box
from .captions import CaptionSplit, split_caption
from .decision import SplitDecision, align, decide_split
from .detector import Detector, DetectorError, load_detector
from .rows import FigureSplit, decode_figure, split_figure

__all__ = [
    "Box",
    "CaptionSplit",
    "Detector",
    "DetectorError",
    "FigureSplit",
    "SplitDecision",
    "align",
    "decide_split",
    "decode_figure",
    "load_detector",
    "split_figure",
    "split_caption",
]
