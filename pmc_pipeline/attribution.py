"""One ready attribution line per sample (pure: metadata in, text out).

CC BY, the license of most of the commercial-use subset, requires crediting title, authors,
source and license for every image redistributed (Creative Commons' "TASL"). A line such as
``Figure 2 from "Title", A. Author, B. Author, C. Author et al., Journal (2021),
doi:10.1/x, CC BY 4.0 <https://creativecommons.org/licenses/by/4.0/>`` can be shown next
to the image as it is; a panel says which panel of which figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .licenses import license_name

NAMED_AUTHORS = 3  # more than this: the first three, then "et al."


def authors_text(authors: list[str]) -> str | None:
    """``A, B, C et al.`` for more than three authors; None for none."""
    if not authors:
        return None
    shown = ", ".join(authors[:NAMED_AUTHORS])
    return f"{shown} et al." if len(authors) > NAMED_AUTHORS else shown


def license_text(code: str | None, url: str | None) -> str:
    """``CC BY 4.0 <url>``; the URL alone or "license not stated" when that is all there is."""
    name = license_name(code, url)
    if name and url:
        return f"{name} <{url}>"
    if url:
        return f"license <{url}>"
    return name or "license not stated"


def attribution(meta: Mapping[str, Any], panel: str | None = None) -> str:
    """The attribution line of a figure's metadata (sample fields: ``label``,
    ``article_title``, ``authors``, ``journal``, ``year``, ``doi``, ``pmcid``,
    ``license_code``, ``license_url``); ``panel`` names a panel of it ("B", "3")."""
    what = (meta.get("label") or "").rstrip(" .:;") or "Figure"  # eLife: "Figure 2."
    if panel is not None:
        what = f"Panel {panel} of {what}"
    title = meta.get("article_title")
    parts = [f'{what} from "{title}"' if title else what]
    if names := authors_text(list(meta.get("authors") or [])):
        parts.append(names)
    journal, year = meta.get("journal"), meta.get("year")
    if journal or year:
        parts.append(" ".join([journal or "", f"({year})" if year else ""]).strip())
    doi = meta.get("doi")
    parts.append(f"doi:{doi}" if doi else meta.get("pmcid") or "")
    parts.append(license_text(meta.get("license_code"), meta.get("license_url")))
    return ", ".join(p for p in parts if p)
