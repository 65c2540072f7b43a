"""Split compound figures into panels paired with their own sub-captions (pure: image in, rows out).

Why: about half of PMC figures are compound; a panel paired with the part of the caption that
describes it is a sharper training pair than the whole figure with the whole caption. But a
wrong panel (a legend, half a photograph) paired with a caption teaches a model something
false, so a figure is split only when independent evidence agrees. One idea a module:

- ``captions``: the caption's panel labels and sub-captions;
- ``work``, ``roles``, ``layout``: the figure's layout from its pixels (classical, runs anywhere);
- ``decision``: the split decision and the pairing of panels with sub-captions;
- ``detector``: the seam for a learned detector (local files only, never downloads);
- ``rows``: panel records for the ``split`` stage.
"""

from .boxes import Box, PanelResult
from .captions import CaptionSplit, split_caption
from .decision import align
from .detector import Detector, DetectorError, load_detector
from .layout import find_panels
from .rows import decode_figure, panel_rows

__all__ = [
    "Box",
    "CaptionSplit",
    "Detector",
    "DetectorError",
    "PanelResult",
    "align",
    "decode_figure",
    "find_panels",
    "load_detector",
    "panel_rows",
    "split_caption",
]
