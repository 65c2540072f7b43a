"""The split decision and alignment: panels become samples only when the evidence agrees."""

from __future__ import annotations

from collections.abc import Sequence

from .boxes import Box
from .captions import CaptionSplit


def align(panels: Sequence[Box], split: CaptionSplit) -> list[tuple[Box, str | None, str, bool]]:
    """Pair panels (reading order) with labels (label order) when their counts agree.

    Otherwise no pairing is trustworthy: every panel carries the full caption, unaligned.
    """
    if panels and len(panels) == len(split.items):
        return [
            (box, label, text, True) for box, (label, text) in zip(panels, split.items, strict=True)
        ]
    return [(box, None, split.caption, False) for box in panels]
