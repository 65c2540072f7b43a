"""Which article versions a build keeps, and why the others are left out (pure logic).

The bucket mixes open-access articles, author manuscripts, OCR scans and retracted
papers, and holds every version of each article. A build keeps the newest version of
each PMCID that passes the filters; every other article gets a named reason so the
funnel in ``build.json`` adds up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


LISTING_SCHEMA = pa.schema(
    [
        pa.field("metadata_key", pa.string()),  # null: metadata/PMC<id>.<v>.json
        pa.field("metadata_etag", pa.string()),
        pa.field("pmcid", pa.int64()),
        pa.field("version", pa.int32()),
    ]
)  # listed metadata objects as columns: ~9.3M ObjectRefs would cost ~3 GB in a full listing


def pmcid_strings(numbers: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """123 -> "PMC123", vectorised."""
    return pc.binary_join_element_wise("PMC", pc.cast(numbers, pa.string()), "")


def pmcid_numbers(pmcids: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``"PMC123"`` -> 123, vectorised."""
    return pc.cast(pc.utf8_slice_codeunits(pmcids, 3), pa.int64())


def _canonical_keys(pmcids, versions) -> pa.Array | pa.ChunkedArray:
    """``metadata/PMC<id>.<v>.json`` per row, vectorised."""
    strings = [pc.cast(pmcids, pa.string()), pc.cast(versions, pa.string())]
    return pc.binary_join_element_wise("metadata/PMC", strings[0], ".", strings[1], ".json", "")


def listing_table(refs: Sequence[ObjectRef]) -> pa.Table:
    """A batch of listed refs as :data:`LISTING_SCHEMA` columns.

    A key of the usual spelling is stored as null and rebuilt on demand
    (:func:`metadata_keys`): every key of the bucket's listing is, and stored they would be
    ~30 of the ~80 bytes a listed object costs.
    """
    pmcids = pmcid_numbers(pa.array([r.pmcid for r in refs], pa.string()))
    versions = pa.array([r.version for r in refs], pa.int32())
    keys = pa.array([r.key for r in refs], pa.string())
    usual = pc.equal(keys, _canonical_keys(pmcids, versions))
    return pa.table(
        {
            "metadata_key": pc.if_else(usual, pa.scalar(None, pa.string()), keys),
            "metadata_etag": pa.array([r.etag for r in refs], pa.string()),
            "pmcid": pmcids,
            "version": versions,
        },
        schema=LISTING_SCHEMA,
    )


def metadata_keys(listing: pa.Table) -> pa.Array | pa.ChunkedArray:
    """The metadata key of every listing row (see :func:`listing_table`)."""
    return pc.coalesce(
        listing["metadata_key"], _canonical_keys(listing["pmcid"], listing["version"])
    )


def listing_refs(listing: pa.Table) -> list[ObjectRef]:
    """The rows of a (small) listing table as ObjectRefs, for the code that reads them."""
    columns = listing.select(["metadata_etag", "pmcid", "version"]).to_pydict()
    return [
        ObjectRef(key, etag, f"PMC{number}", version)
        for key, etag, number, version in zip(
            metadata_keys(listing).to_pylist(),
            columns["metadata_etag"],
            columns["pmcid"],
            columns["version"],
            strict=True,
        )
    ]


def latest_versions(listing: pa.Table) -> tuple[pa.Table, int]:
    """Newest version per PMCID (numeric: .10 after .2), sorted by PMCID; and how many older.

    Of two objects with the same PMCID and version, the one listed first wins.
    """
    rows = _newest_rows(listing["pmcid"].to_numpy(), listing["version"].to_numpy())
    latest = listing.take(rows).combine_chunks()
    return latest, listing.num_rows - latest.num_rows


def _newest_rows(pmcids: np.ndarray, versions: np.ndarray) -> np.ndarray:
    """The row of each PMCID's newest version, in PMCID order (its own function so that the
    sort's temporaries are freed before the take)."""
    order = np.lexsort((-versions.astype(np.int64), pmcids))  # stable: listing order breaks ties
    sorted_ids = pmcids[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_ids[1:] != sorted_ids[:-1]
    return order[first]


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
    refs: pa.Table,
    reasons: Sequence[str] | pa.Array,
    details: Sequence[str] | pa.Array | None = None,
) -> pa.Table:
    """Excluded rows for the listing rows ``refs`` (columns, not a dict per row: an update
    leaves ~9M articles out as unchanged)."""
    return pa.table(
        {
            "pmcid": pmcid_strings(refs["pmcid"]),
            "version": refs["version"],
            "metadata_key": metadata_keys(refs),
            "metadata_etag": refs["metadata_etag"],
            "reason": reasons,
            "detail": details if details is not None else [""] * refs.num_rows,
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
    """What an earlier build (``--previous``) decided, one row per PMCID (as a number,
    sorted): version and metadata ETag.

    ``kept``: the articles the chain of builds holds, namely that build's manifest and
    what it left out as ``unchanged`` (an incremental build's manifest holds only its
    changes; without those, the next update in a chain would take everything as new).
    ``left_out``: its stable verdicts, with the ``reason``. Tables, not dicts: an earlier
    full build has ~7M rows.
    """

    kept: pa.Table  # pmcid (int64), version, metadata_etag
    left_out: pa.Table  # pmcid (int64), version, metadata_etag, reason


_STATE_COLUMNS = ["pmcid", "version", "metadata_etag"]


def previous_build(manifest: pa.Table, excluded: pa.Table) -> PreviousBuild:
    """:class:`PreviousBuild` from an earlier build's manifest and excluded rows (the
    columns pmcid, version, metadata_etag, and reason of the excluded)."""
    unchanged = excluded.filter(pc.equal(excluded["reason"], "unchanged"))
    kept = pa.concat_tables(
        [manifest.select(_STATE_COLUMNS), unchanged.select(_STATE_COLUMNS)],
        promote_options="permissive",
    )
    stable = excluded.filter(pc.is_in(excluded["reason"], pa.array(sorted(STABLE_REASONS))))
    return PreviousBuild(_by_pmcid(kept), _by_pmcid(stable.select([*_STATE_COLUMNS, "reason"])))


def _by_pmcid(table: pa.Table) -> pa.Table:
    """One row per PMCID, sorted by its number; of repeats the last row wins."""
    numbers = pmcid_numbers(table["pmcid"]).to_numpy()
    order = np.argsort(numbers, kind="stable")
    sorted_ids = numbers[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_ids[:-1] != sorted_ids[1:]
    rows = order[last]
    out = table.take(rows).combine_chunks()
    return out.set_column(0, pa.field("pmcid", pa.int64()), pa.array(numbers[rows]))


def lookup(known: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``ids`` sits in the sorted PMCID numbers ``known``, and whether it is
    there (rows of misses are valid indices, to be masked; all misses when ``known`` is
    empty)."""
    if not len(known):
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    rows = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return rows, known[rows] == ids


def _matches(listing: pa.Table, state: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per listing row: the row of ``state`` with its PMCID, and whether that row holds the
    same metadata object (same version and same ETag)."""
    rows, found = lookup(state["pmcid"].to_numpy(), listing["pmcid"].to_numpy())
    if not state.num_rows:
        return rows, found
    same = found & (state["version"].to_numpy()[rows] == listing["version"].to_numpy())
    etag = pc.equal(listing["metadata_etag"], state["metadata_etag"].take(rows))
    return rows, same & pc.fill_null(etag, False).to_numpy(zero_copy_only=False)


def carried_verdicts(listing: pa.Table, previous: PreviousBuild) -> pa.Array:
    """Per listing row, the reason an earlier build under the same filters already gives
    this exact metadata object (same version, same ETag): "unchanged" or a stable
    exclusion; null: read it. A row without an ETag is always read."""
    has_etag = pc.fill_null(pc.not_equal(listing["metadata_etag"], ""), False)
    _, unchanged = _matches(listing, previous.kept)
    rows, stable = _matches(listing, previous.left_out)
    none = pa.scalar(None, pa.string())
    reasons = previous.left_out["reason"]
    left_out = reasons.take(rows) if len(reasons) else pa.nulls(len(rows), pa.string())
    verdict = pc.if_else(unchanged, "unchanged", pc.if_else(stable, left_out, none))
    return pc.if_else(has_etag, verdict, none).combine_chunks()


def known_versions(kept: pa.Table, pmcids: np.ndarray) -> dict[str, tuple[int, str | None]]:
    """What an earlier build kept of these PMCIDs: "PMC<id>" -> (version, metadata ETag)."""
    rows, hit = lookup(kept["pmcid"].to_numpy(), pmcids)
    found = kept.take(rows[hit]).to_pydict()
    return {
        f"PMC{n}": (v, e)
        for n, v, e in zip(found["pmcid"], found["version"], found["metadata_etag"], strict=True)
    }


def removed_table(kept: pa.Table, gone: dict[str, str], listed: np.ndarray) -> pa.Table:
    """Articles an earlier build kept that are now gone ("withdrawn": no longer listed;
    ``listed`` is the sorted PMCID numbers listed now), retracted or no longer OA."""
    pmcids = kept["pmcid"].to_numpy()
    withdrawn = ~lookup(listed, pmcids)[1]
    flagged = np.isin(pmcids, [pmcid_number(p) for p in gone])
    rows = kept.take(np.flatnonzero(withdrawn | flagged))
    names = pmcid_strings(rows["pmcid"]).to_pylist()
    still = withdrawn[withdrawn | flagged]
    reasons = ["withdrawn" if w else gone[name] for name, w in zip(names, still, strict=True)]
    return pa.table(
        {"pmcid": names, "version": rows["version"], "reason": reasons}, schema=REMOVED_SCHEMA
    )


def changed_since(row: dict, previous: dict[str, tuple[int, str | None]]) -> bool:
    """New, or a new version, or the same version with a new ETag (metadata edited)."""
    before = previous.get(row["pmcid"])
    return before is None or before != (row["version"], row["metadata_etag"])


__all__ = [
    "EXCLUDED_SCHEMA",
    "MANIFEST_SCHEMA",
    "LISTING_SCHEMA",
    "REMOVED_SCHEMA",
    "STABLE_REASONS",
    "Filters",
    "PreviousBuild",
    "carried_verdicts",
    "changed_since",
    "exclusion_reason",
    "excluded_table",
    "known_versions",
    "latest_versions",
    "listing_refs",
    "listing_table",
    "metadata_keys",
    "manifest_row",
    "normalise_pmcid",
    "pmcid_numbers",
    "pmcid_strings",
    "previous_build",
    "removal_flag",
    "removed_table",
    "pmcid_number",
]
