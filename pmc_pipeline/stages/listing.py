"""The ``list`` stage: enumerate article versions, read their metadata, write the manifest.

Enumeration (the S3 Inventory when the bucket publishes one, else ListObjectsV2 over
``metadata/``) runs in the driver; reading ~millions of metadata JSONs runs as Dask tasks
over chunks of keys, each with a bounded thread pool. The driver then picks, filters,
partitions and writes ``manifest/part-NNNNN.parquet`` + ``manifest/excluded.parquet``
(+ ``manifest/removed.parquet`` for incremental builds) and ``manifest/_SUCCESS.json``
last: a rerun of a finished list does nothing.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
from tqdm.auto import tqdm

from .. import manifest as mf
from ..cluster import map_tasks, share_rate
from ..config import CONFIG_FILE, Config, license_filter
from ..errors import ErrorLog
from ..sources import ObjectRef, Source, SourceError, open_source
from ..sources.transport import process_limiter
from ..storage import Store, part_name, partition_of

log = logging.getLogger("pmc_pipeline")

SUCCESS = "manifest/_SUCCESS.json"
CHUNK = 2000  # metadata objects per Dask task
FILTER_FIELDS = ("licenses", "include_manuscripts", "include_ocr")  # Config fields of a verdict


def source_from_config(config: Config) -> Source:
    """Open and configure the source in the calling process (driver or worker).

    Tasks get a config whose rate is already this process's share (``share_rate``).
    """
    source = open_source(
        config.source, endpoint_url=config.endpoint_url, sign=config.sign, timeout=config.timeout
    )
    return source.configure(
        retries=config.retries,
        limiter=process_limiter(config.requests_per_second),
        max_object_bytes=config.max_object_bytes,
    )


def read_metadata_chunk(config: Config, refs: list[ObjectRef]) -> list[tuple[dict | None, str]]:
    """Dask task: metadata for each ref, or (None, error message); order preserved."""
    source = source_from_config(config)

    def read(ref: ObjectRef) -> tuple[dict | None, str]:
        try:
            return source.read_metadata(ref), ""
        except SourceError as exc:
            return None, str(exc)

    with ThreadPoolExecutor(max(1, config.concurrency)) as pool:
        return list(pool.map(read, refs))


def load_pmcids(path: str) -> set[str]:
    """A file of PMCIDs, one per line (blank lines and # comments ignored)."""
    out = set()
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.add(mf.normalise_pmcid(line))
    return out


def previous_state(previous_out: str, endpoint_url: str | None) -> mf.PreviousBuild:
    """What an earlier build kept and left out (see :class:`manifest.PreviousBuild`)."""
    store = Store(previous_out, endpoint_url)
    rows: list[dict] = []
    for p in manifest_partitions(store):
        rel = f"manifest/{part_name(p, '.parquet')}"
        rows += store.read_table(rel, columns=["pmcid", "version", "metadata_etag"]).to_pylist()
    excluded: list[dict] = []
    if store.exists("manifest/excluded.parquet"):
        excluded = store.read_table("manifest/excluded.parquet").to_pylist()
    return mf.previous_build(rows, excluded)


def same_filters(config: Config, previous_out: str, endpoint_url: str | None) -> bool:
    """Whether the earlier build chose articles by the same rules as ``config``.

    Only then does an unchanged metadata object (same version, same ETag) give the same
    verdict as before, so it need not be read again.
    """
    store = Store(previous_out, endpoint_url)
    if not store.exists(CONFIG_FILE):
        return False
    before = json.loads(store.read_bytes(CONFIG_FILE))
    now = json.loads(config.to_json())
    return all(before.get(name) == now.get(name) for name in FILTER_FIELDS)


def manifest_partitions(store: Store) -> list[int]:
    """Partition ids the list stage wrote."""
    return [partition_of(rel) for rel in store.list("manifest", ".parquet") if "part-" in rel]


def run_list(config: Config, client, *, force: bool = False) -> dict:
    """List the source into ``OUT/manifest/``; returns the stage summary."""
    store = config.store
    if store.exists(SUCCESS) and not force:
        return json.loads(store.read_bytes(SUCCESS))
    store.write_bytes(CONFIG_FILE, config.to_json().encode())
    source = source_from_config(config)
    latest, superseded = mf.latest_versions(_enumerate(source, config))
    listed_pmcids = {r.pmcid for r in latest}
    if config.pmcids_file:
        wanted = load_pmcids(config.pmcids_file)
        latest = [r for r in latest if r.pmcid in wanted]

    listed_versions = len(latest)
    task_config = share_rate(config, client)
    filters = mf.Filters(
        licenses=frozenset(a) if (a := license_filter(config.licenses)) is not None else None,
        include_manuscripts=config.include_manuscripts,
        include_ocr=config.include_ocr,
    )
    previous = previous_state(config.previous, config.out_endpoint_url) if config.previous else None
    errors = ErrorLog("list", 0)
    kept, excluded, seen = [], [], {}
    if previous and same_filters(config, config.previous, config.out_endpoint_url):
        # An update changes a few thousand of ~9M objects and the listing's ETags say
        # which: the rest keep their verdict unread (a GET each: hours at --rps).
        to_read = []
        for ref in latest:
            reason = mf.carried_verdict(ref, previous)
            if reason is None:
                to_read.append(ref)
            else:
                excluded.append(mf.excluded_row(ref, reason))
        latest = to_read

    def enough() -> bool:
        return config.limit is not None and len(kept) >= config.limit

    read = 0
    for chunk_refs, results in _read_in_waves(client, task_config, latest, enough):
        read += len(chunk_refs)
        for ref, (meta, problem) in zip(chunk_refs, results, strict=True):
            if meta is None:
                errors.add(ref.key, problem, "MetadataError")
                excluded.append(mf.excluded_row(ref, "metadata_error", problem))
                continue
            seen[ref.pmcid] = meta
            reason = mf.exclusion_reason(meta, filters)
            if reason:
                excluded.append(mf.excluded_row(ref, reason))
                continue
            row = mf.manifest_row(meta, ref)
            if previous and not mf.changed_since(row, previous.kept):
                excluded.append(mf.excluded_row(ref, "unchanged"))
                continue
            kept.append(row)
    if config.limit is not None and len(kept) > config.limit:
        for row in kept[config.limit :]:
            ref = ObjectRef(row["metadata_key"], row["metadata_etag"], row["pmcid"], row["version"])
            excluded.append(mf.excluded_row(ref, "beyond_limit"))
        kept = kept[: config.limit]

    removed = _removed(previous.kept, seen, listed_pmcids) if previous else []
    parts = mf.assign_partitions(kept, config.partition_size)
    for rel in store.list("manifest", ".parquet"):
        store.remove(rel)  # a list rerun with --force must not leave stale partitions
    for p, part in enumerate(parts):
        store.write_table(f"manifest/{part_name(p, '.parquet')}", _table(part, mf.MANIFEST_SCHEMA))
    store.write_table("manifest/excluded.parquet", _table(excluded, mf.EXCLUDED_SCHEMA))
    if config.previous:
        store.write_table("manifest/removed.parquet", _table(removed, mf.REMOVED_SCHEMA))
    store.write_table(f"errors/list/{part_name(0, '.parquet')}", errors.table())
    summary = {
        "versions_listed": listed_versions + superseded,
        "metadata_read": read,
        "superseded_versions": superseded,
        "articles_listed": len(kept) + len(excluded),
        "articles_kept": len(kept),
        "excluded": dict(sorted(Counter(r["reason"] for r in excluded).items())),
        "removed": len(removed),
        "partitions": len(parts),
    }
    store.write_bytes(SUCCESS, json.dumps(summary, indent=2, sort_keys=True).encode())
    return summary


def _enumerate(source: Source, config: Config) -> Iterator[ObjectRef]:
    """The source's article versions as they stream in (only the newest per PMCID is kept)."""
    with tqdm(desc="list metadata", unit="key", disable=not config.progress) as bar:
        for ref in source.list_metadata():
            yield ref
            bar.update(1)


def _read_in_waves(client, config: Config, latest: list[ObjectRef], enough: Callable[[], bool]):
    """Yield (refs, metadata results) per chunk, in PMCID order, until ``enough()``.

    Without a limit every chunk is one wave. With one, chunks are small and waves grow
    geometrically, so a small ``--limit`` reads a few hundred metadata objects, not the bucket.
    """
    size = CHUNK if config.limit is None else max(16, min(CHUNK, config.limit))
    chunks = [latest[i : i + size] for i in range(0, len(latest), size)]
    wave = len(chunks) if config.limit is None else 1
    start = 0
    while start < len(chunks) and not enough():
        batch = chunks[start : start + wave]
        results = map_tasks(client, read_metadata_chunk, config, batch, desc="read metadata")
        yield from zip(batch, results, strict=True)
        start += wave
        wave *= 2


def _removed(previous: dict, seen: dict[str, dict], listed: set[str]) -> list[dict]:
    """Articles an earlier build kept that are now gone, retracted or no longer OA."""
    rows = []
    for pmcid, (version, _etag) in sorted(previous.items(), key=lambda kv: mf.pmcid_number(kv[0])):
        meta = seen.get(pmcid)
        if pmcid not in listed:
            rows.append({"pmcid": pmcid, "version": version, "reason": "withdrawn"})
        elif meta is not None and meta.get("is_retracted"):
            rows.append({"pmcid": pmcid, "version": version, "reason": "retracted"})
        elif meta is not None and not meta.get("is_pmc_openaccess"):
            rows.append({"pmcid": pmcid, "version": version, "reason": "not_open_access"})
    return rows


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)
