"""Which article versions a build keeps, and why the others are left out (pure logic).

The bucket mixes open-access articles, author manuscripts, OCR scans and retracted
papers, and holds every version of each article. A build keeps the newest version of
each PMCID that passes the filters; every other article gets a named reason so the
funnel in ``build.json`` adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .schema import arrow_schema
from .sources.base import ObjectRef, article_files
from .sources.legacy import LEGACY_SCHEME

MANIFEST_SCHEMA = arrow_schema("manifest")
EXCLUDED_SCHEMA = arrow_schema("excluded")
REMOVED_SCHEMA = arrow_schema("removed")


@dataclass(frozen=True)
class Filters:
    """What the user asked to keep."""

    licenses: frozenset[str | None] | None = None  # None: every license
    include_manuscripts: bool = False
    include_ocr: bool = False


def pmcid_number(pmcid: str) -> int:
    """PMC123 -> 123, for numeric ordering."""
    return int(pmcid.removeprefix("PMC"))


def normalise_pmcid(text: str) -> str:
    """Accept "PMC123", "pmc123" or "123"."""
    text = text.strip()
    digits = text[3:] if text[:3].upper() == "PMC" else text
    if not digits.isdigit():
        raise ValueError(f"{text!r} is not a PMCID")
    return f"PMC{int(digits)}"


def latest_versions(refs: Iterable[ObjectRef]) -> tuple[list[ObjectRef], int]:
    """Newest version per PMCID (numeric: .10 after .2), sorted by PMCID; and how many older."""
    best: dict[str, ObjectRef] = {}
    total = 0
    for ref in refs:
        total += 1
        assert ref.pmcid is not None and ref.version is not None
        cur = best.get(ref.pmcid)
        if cur is None or ref.version > (cur.version or 0):
            best[ref.pmcid] = ref
    latest = sorted(best.values(), key=lambda r: pmcid_number(r.pmcid or "0"))
    return latest, total - len(latest)


def exclusion_reason(meta: dict, filters: Filters) -> str | None:
    """The first reason this article version is left out, or None to keep it."""
    if not meta.get("is_pmc_openaccess"):
        return "not_open_access"
    if meta.get("is_retracted"):
        return "retracted"
    if meta.get("is_manuscript") and not filters.include_manuscripts:
        return "author_manuscript"
    if meta.get("is_historical_ocr") and not filters.include_ocr:
        return "historical_ocr"
    if filters.licenses is not None and meta.get("license_code") not in filters.licenses:
        return "license"
    return None


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)


def manifest_row(meta: dict, ref: ObjectRef) -> dict:
    """One manifest row (partition filled in later) from a metadata record."""
    if meta["xml_url"].startswith(LEGACY_SCHEME):
        xml_key, xml_md5, media = meta["xml_url"][len(LEGACY_SCHEME) :], None, []
    else:
        files = article_files(meta)
        xml_key, xml_md5, media = files[0].key, files[0].md5, files[1:]
    return {
        "pmcid": normalise_pmcid(str(meta["pmcid"])),
        "version": int(meta.get("version") or ref.version or 1),
        "pmid": _text(meta.get("pmid")),
        "doi": _text(meta.get("doi")),
        "title": _text(meta.get("title")),
        "citation": _text(meta.get("citation")),
        "license_code": _text(meta.get("license_code")),
        "xml_key": xml_key,
        "xml_md5": xml_md5,
        "media_keys": [m.key for m in media],
        "media_md5": [m.md5 or "" for m in media],
        "metadata_key": ref.key,
        "metadata_etag": ref.etag,
        "partition": -1,
    }


def excluded_table(
    refs: Sequence[ObjectRef], reasons: Sequence[str], details: Sequence[str] | None = None
) -> pa.Table:
    """Excluded rows for ``refs`` as a table (columns, not a dict per row: an update leaves
    ~9M articles out as unchanged)."""
    return pa.table(
        {
            "pmcid": [r.pmcid for r in refs],
            "version": [r.version for r in refs],
            "metadata_key": [r.key for r in refs],
            "metadata_etag": [r.etag for r in refs],
            "reason": list(reasons),
            "detail": list(details) if details is not None else [""] * len(refs),
        },
        schema=EXCLUDED_SCHEMA,
    )


def removal_flag(meta: dict) -> str | None:
    """Why an article an earlier build kept must be removed now, from its metadata."""
    if meta.get("is_retracted"):
        return "retracted"
    return None if meta.get("is_pmc_openaccess") else "not_open_access"


# Verdicts that follow from the metadata object and the filters alone: the same object
# under the same filters gets the same one (a read error or a --limit cut does not).
STABLE_REASONS = frozenset(
    {"not_open_access", "retracted", "author_manuscript", "historical_ocr", "license"}
)


@dataclass(frozen=True)
class PreviousBuild:
    """What an earlier build (``--previous``) decided, per PMCID: (version, metadata ETag).

    ``kept``: the articles the chain of builds holds, namely that build's manifest and
    what it left out as ``unchanged`` (an incremental build's manifest holds only its
    changes; without those, the next update in a chain would take everything as new).
    ``left_out``: its stable verdicts, with the reason.
    """

    kept: dict[str, tuple[int, str | None]]
    left_out: dict[str, tuple[int, str | None, str]]


def previous_build(manifest_rows: Iterable[dict], excluded_rows: Iterable[dict]) -> PreviousBuild:
    """:class:`PreviousBuild` from an earlier build's manifest and excluded rows."""
    kept = {r["pmcid"]: (r["version"], r["metadata_etag"]) for r in manifest_rows}
    left_out = {}
    for r in excluded_rows:
        etag = r.get("metadata_etag")
        if r["reason"] == "unchanged":
            kept[r["pmcid"]] = (r["version"], etag)
        elif r["reason"] in STABLE_REASONS:
            left_out[r["pmcid"]] = (r["version"], etag, r["reason"])
    return PreviousBuild(kept, left_out)


def carried_verdict(ref: ObjectRef, previous: PreviousBuild) -> str | None:
    """The reason an earlier build under the same filters already gives this exact metadata
    object (same version, same ETag): "unchanged" or a stable exclusion; None: read it."""
    if not ref.etag:
        return None
    if previous.kept.get(ref.pmcid) == (ref.version, ref.etag):
        return "unchanged"
    before = previous.left_out.get(ref.pmcid)
    if before is not None and before[:2] == (ref.version, ref.etag):
        return before[2]
    return None


def changed_since(row: dict, previous: dict[str, tuple[int, str | None]]) -> bool:
    """New, or a new version, or the same version with a new ETag (metadata edited)."""
    before = previous.get(row["pmcid"])
    return before is None or before != (row["version"], row["metadata_etag"])


def partition_ids(n_rows: int, size: int) -> np.ndarray:
    """The partition of each of ``n_rows`` articles in PMCID order: fixed-size runs."""
    return (np.arange(n_rows, dtype=np.int64) // size).astype(np.int32)


__all__ = [
    "EXCLUDED_SCHEMA",
    "MANIFEST_SCHEMA",
    "REMOVED_SCHEMA",
    "STABLE_REASONS",
    "Filters",
    "PreviousBuild",
    "carried_verdict",
    "changed_since",
    "exclusion_reason",
    "excluded_table",
    "latest_versions",
    "manifest_row",
    "normalise_pmcid",
    "partition_ids",
    "previous_build",
    "removal_flag",
    "pmcid_number",
]
