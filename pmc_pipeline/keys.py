"""WebDataset sample keys: ``PMC<digits>_<figure id>`` and ``<key>_p<k>`` for panels.

webdataset splits a member name at its first dot into key and extension, so a key may only
hold ``[A-Za-z0-9_-]``; every other character of a figure id becomes ``-``.
"""

from __future__ import annotations

import re

__all__ = ["InvalidKeyError", "panel_key", "sample_key"]

_PMCID = re.compile(r"^(?:PMC)?(\d+)$", re.I)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_KEY = re.compile(r"^PMC\d+_[A-Za-z0-9_-]+$")


class InvalidKeyError(ValueError):
    """An id that cannot make a valid sample key."""


def sample_key(pmcid: str, fig_id: str) -> str:
    """Key of one figure: "PMC123", "F1.a" -> "PMC123_F1-a" (pmcid with or without PMC)."""
    match = _PMCID.match(pmcid.strip())
    if not match:
        raise InvalidKeyError(
            f"pmcid must be 'PMC<digits>' or '<digits>' (no version), got {pmcid!r}"
        )
    if not fig_id:
        raise InvalidKeyError(f"empty figure id for {pmcid!r}")
    return f"PMC{match.group(1)}_{_UNSAFE.sub('-', fig_id)}"


def panel_key(parent_key: str, k: int) -> str:
    """Key of panel k (0-based) of a compound figure: "<parent>_p<k>"."""
    if not _KEY.match(parent_key):
        raise InvalidKeyError(f"not a figure sample key: {parent_key!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise InvalidKeyError(f"panel index must be an int >= 0, got {k!r}")
    return f"{parent_key}_p{k}"
