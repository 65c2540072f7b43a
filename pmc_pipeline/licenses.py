"""License codes and URLs -> names people and the Hugging Face hub read (pure).

PMC's metadata gives a license *code* per article (``CC BY``, ``CC BY-NC``, ...: DESIGN.md §2)
and the article XML a license *URL* that carries the version (``.../licenses/by/4.0/``).
Attribution lines want "CC BY 4.0"; a dataset card wants the hub's identifier
(``cc-by-4.0``) and a clear flag on samples whose license forbids commercial use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .config import LICENSE_GROUPS, license_filter

# Version in a Creative Commons URL: /licenses/by-nc/4.0/, /publicdomain/zero/1.0/.
_CC_VERSION = re.compile(r"creativecommons\.org/(?:licenses/[a-z-]+|publicdomain/zero)/(\d\.\d)")

# Creative Commons identifiers the hub's license field accepts.
HUB_LICENSES = frozenset(
    {
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
    }
)
NO_CODE = "none"  # how a missing license code is counted and shown


def license_version(url: str | None) -> str | None:
    """``https://creativecommons.org/licenses/by/4.0/`` -> ``4.0``; None for other URLs."""
    match = _CC_VERSION.search(url or "")
    return match.group(1) if match else None


def license_name(code: str | None, url: str | None) -> str | None:
    """``CC BY`` + a 4.0 URL -> ``CC BY 4.0``; other codes as PMC writes them; None: none."""
    if not code:
        return None
    version = license_version(url) if code.startswith("CC") else None
    return f"{code} {version}" if version else code


def hub_license(code: str | None, url: str | None) -> str | None:
    """The hub identifier of one article's license (``cc-by-4.0``), None when it has none."""
    if not code or not code.startswith("CC"):
        return None
    version = license_version(url) or ("1.0" if code == "CC0" else None)
    found = f"{code.lower().replace(' ', '-')}-{version}" if version else None
    return found if found in HUB_LICENSES else None


def license_group(code: str | None) -> str:
    """``comm``, ``noncomm`` or ``other`` (no CC license), as ``--licenses`` names them."""
    for group, codes in LICENSE_GROUPS.items():
        if code in codes:
            return group
    return "other"


def license_summary(samples: Mapping[str, int], selectors: tuple[str, ...]) -> dict:
    """Samples per license code and what a user must know before using them.

    ``samples``: {license code (``none`` for a missing one): samples}; ``selectors``: the
    build's ``--licenses``. Non-commercial and non-CC samples are flagged unless the build
    kept commercial-use licenses only.
    """
    allowed = license_filter(selectors)
    commercial_only = allowed is not None and allowed <= set(LICENSE_GROUPS["comm"])
    groups = {"comm": 0, "noncomm": 0, "other": 0}
    for code, n in samples.items():
        groups[license_group(None if code == NO_CODE else code)] += int(n)
    notes = []
    if not commercial_only and groups["noncomm"]:
        notes.append(
            f"{groups['noncomm']:,} samples are under non-commercial licenses (CC BY-NC*): "
            "they may not be used commercially. Rebuild with --licenses comm for a "
            "commercial-use subset."
        )
    if not commercial_only and groups["other"]:
        notes.append(
            f"{groups['other']:,} samples carry no Creative Commons license (NO-CC CODE, TDM "
            "or none): check each article's terms before redistributing them."
        )
    return {
        "samples": dict(sorted(samples.items(), key=lambda kv: (-kv[1], kv[0]))),
        "groups": groups,
        "commercial_only": commercial_only,
        "notes": notes,
    }
