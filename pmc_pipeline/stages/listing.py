"""The ``list`` stage: enumerate article versions, read their metadata, write the manifest.

Enumeration (the S3 Inventory when the bucket publishes one, else ListObjectsV2 over
``metadata/``) runs in the driver, into Arrow columns (~50 bytes a key, not a Python
object); reading ~millions of metadata JSONs runs as Dask tasks over chunks of keys, each
with a bounded thread pool, a few chunks in flight at a time. Their verdicts come back in
PMCID order and are written as they arrive: ``manifest/part-NNNNN.parquet`` as each fills,
``manifest/excluded.parquet`` (+ ``manifest/removed.parquet`` for incremental builds), and
``manifest/_SUCCESS.json`` last: a rerun of a finished list does nothing. The driver of a
full listing (9.3M keys) stays within 2 GB (``bench/list_memory_bench.py``).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from .. import manifest as mf
from ..cluster import share_rate, stream_tasks
from ..config import CONFIG_FILE, Config, license_filter
from ..errors import ErrorLog
from ..sources import ObjectRef, Source, SourceError, open_source
from ..sources.transport import process_limiter
from ..storage import Store, part_name, partition_of

log = logging.getLogger("pmc_pipeline")

SUCCESS = "manifest/_SUCCESS.json"
EXCLUDED = "manifest/excluded.parquet"
CHUNK = 2000  # metadata objects per Dask task
LISTING_BATCH = 1 << 16  # listed keys turned into Arrow columns at a time
EXCLUDED_BATCH = 1 << 16  # excluded rows per Parquet write (row groups of a sane size)
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


@dataclass(frozen=True)
class Verdicts:
    """What one task decided about its chunk of metadata objects, compactly: the driver of a
    full listing (~9M objects) never holds the metadata itself."""

    kept: pa.Table  # manifest rows, in PMCID order
    excluded: pa.Table  # excluded rows, in PMCID order
    errors: list[tuple[str, str]]  # (metadata key, message) of unreadable objects
    gone: dict[str, str]  # of the earlier build's articles: retracted / no longer OA


def list_filters(config: Config) -> mf.Filters:
    """The Config fields that decide which articles a build keeps."""
    allowed = license_filter(config.licenses)
    return mf.Filters(
        licenses=frozenset(allowed) if allowed is not None else None,
        include_manuscripts=config.include_manuscripts,
        include_ocr=config.include_ocr,
    )


def judge_chunk(config: Config, work: tuple[pa.Table, dict[str, tuple] | None]) -> Verdicts:
    """Dask task: read a chunk's metadata and judge each article (kept, or why not).

    ``work`` is the chunk's listing rows (:data:`manifest.LISTING_SCHEMA`) and, for an
    incremental build, what the earlier build kept of these PMCIDs: an article it has in
    the same version and ETag is "unchanged".
    """
    chunk, before = work
    refs = mf.listing_refs(chunk)
    source = source_from_config(config)
    filters = list_filters(config)

    def read(ref: ObjectRef) -> tuple[dict | None, str]:
        try:
            return source.read_metadata(ref), ""
        except SourceError as exc:
            return None, str(exc)

    with ThreadPoolExecutor(max(1, config.concurrency)) as pool:
        results = list(pool.map(read, refs))
    kept: list[dict] = []
    left_out: list[int] = []
    reasons: list[str] = []
    details: list[str] = []
    errors: list[tuple[str, str]] = []
    gone: dict[str, str] = {}
    for i, (ref, (meta, problem)) in enumerate(zip(refs, results, strict=True)):
        reason, detail = None, ""
        if meta is not None:
            if before is not None and ref.pmcid in before and (flag := mf.removal_flag(meta)):
                gone[ref.pmcid] = flag
            reason = mf.exclusion_reason(meta, filters)
            if reason is None and not meta.get("xml_url"):  # only a kept article needs one
                meta, problem = None, f"{ref.key}: metadata JSON has no 'xml_url' field"
        if meta is None:
            errors.append((ref.key, problem))
            reason, detail = "metadata_error", problem
        elif reason is None:
            row = mf.manifest_row(meta, ref)
            if before is None or mf.changed_since(row, before):
                kept.append(row)
                continue
            reason = "unchanged"
        left_out.append(i)
        reasons.append(reason)
        details.append(detail)
    return Verdicts(
        pa.Table.from_pylist(kept, schema=mf.MANIFEST_SCHEMA),
        mf.excluded_table(chunk.take(pa.array(left_out, pa.int64())), reasons, details),
        errors,
        gone,
    )


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
    columns = ["pmcid", "version", "metadata_etag", "reason"]
    if store.exists(EXCLUDED):
        excluded = store.read_table(EXCLUDED, columns=columns)
    else:
        excluded = mf.EXCLUDED_SCHEMA.empty_table().select(columns)
    return mf.previous_build(read_manifest(store, columns[:3]), excluded)


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


def manifest_path(partition: int) -> str:
    return f"manifest/{part_name(partition, '.parquet')}"


def read_manifest(store: Store, columns: list[str]) -> pa.Table:
    """``columns`` of every manifest partition of a build, in partition order."""
    tables = [
        store.read_table(manifest_path(p), columns=columns) for p in manifest_partitions(store)
    ]
    return pa.concat_tables(tables) if tables else mf.MANIFEST_SCHEMA.empty_table().select(columns)


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
    latest, superseded = list_latest(source, config)
    listed = latest["pmcid"]  # sorted: every PMCID listed, for "withdrawn"
    latest = only_wanted(latest, config)
    listed_versions = latest.num_rows + superseded

    task_config = share_rate(config, client)
    previous = previous_state(config.previous, config.out_endpoint_url) if config.previous else None
    carry = previous is not None and same_filters(config, config.previous, config.out_endpoint_url)
    errors = ErrorLog("list", 0)
    gone: dict[str, str] = {}
    for rel in store.list("manifest", ".parquet"):
        store.remove(rel)  # a list rerun with --force must not leave stale partitions
    read = 0
    with store.table_writer(EXCLUDED, mf.EXCLUDED_SCHEMA) as excluded:
        out = _Manifest(store, config.partition_size, config.limit, excluded)
        if carry:
            assert previous is not None
            latest = _carry_verdicts(latest, previous, out)
        before = previous.kept if previous else None
        for chunk_rows, verdict in _read_in_waves(client, task_config, latest, before, out.enough):
            read += chunk_rows
            for key, message in verdict.errors:
                errors.add(key, message, "MetadataError")
            out.keep(verdict.kept)
            out.exclude(verdict.excluded)
            gone.update(verdict.gone)
        out.close()
    removed = mf.removed_table(previous.kept, gone, listed.to_numpy()) if previous else None
    if removed is not None:
        store.write_table("manifest/removed.parquet", removed)
    store.write_table(f"errors/list/{part_name(0, '.parquet')}", errors.table())
    summary = {
        "versions_listed": listed_versions,
        "metadata_read": read,
        "superseded_versions": superseded,
        "articles_listed": out.kept + sum(out.reasons.values()),
        "articles_kept": out.kept,
        "excluded": dict(sorted(out.reasons.items())),
        "removed": removed.num_rows if removed is not None else 0,
        "partitions": out.partitions,
        **listing_record(source),
    }
    store.write_bytes(SUCCESS, json.dumps(summary, indent=2, sort_keys=True).encode())
    return summary


class _Manifest:
    """The manifest as it fills, in PMCID order: kept rows cut into fixed-size partitions
    (each written once full), the rest streamed into ``excluded.parquet``; rows kept past
    ``--limit`` are left out as "beyond_limit", after every other excluded row."""

    def __init__(
        self, store: Store, size: int, limit: int | None, excluded: pq.ParquetWriter
    ) -> None:
        self.store, self.size, self.limit, self._writer = store, size, limit, excluded
        self.kept = self.partitions = 0
        self.reasons: Counter[str] = Counter()
        self._parts: list[pa.Table] = []
        self._excluded: list[pa.Table] = []
        self._beyond: list[pa.Table] = []

    def enough(self) -> bool:
        return self.limit is not None and self.kept >= self.limit

    def keep(self, rows: pa.Table) -> None:
        room = rows.num_rows if self.limit is None else max(0, self.limit - self.kept)
        if rows.num_rows > room:
            self._beyond.append(rows.slice(room))
            rows = rows.slice(0, room)
        self.kept += rows.num_rows
        self._parts.append(rows)
        while sum(t.num_rows for t in self._parts) >= self.size:
            self._write_partition()

    def exclude(self, rows: pa.Table) -> None:
        for count in pc.value_counts(rows["reason"]).to_pylist():
            self.reasons[count["values"]] += count["counts"]
        self._excluded.append(rows)
        if sum(t.num_rows for t in self._excluded) >= EXCLUDED_BATCH:
            self._flush_excluded()

    def _write_partition(self) -> None:
        rows = pa.concat_tables(self._parts).combine_chunks()
        part, rest = rows.slice(0, self.size), rows.slice(self.size)
        self._parts = [rest] if rest.num_rows else []
        ids = pa.array(np.full(part.num_rows, self.partitions, dtype=np.int32))
        column = mf.MANIFEST_SCHEMA.get_field_index("partition")
        part = part.set_column(column, mf.MANIFEST_SCHEMA.field("partition"), ids)
        self.store.write_table(manifest_path(self.partitions), part)
        self.partitions += 1

    def _flush_excluded(self) -> None:
        if self._excluded:
            rows = pa.concat_tables(self._excluded).combine_chunks()
            self._writer.write_table(rows, row_group_size=1000)
            self._excluded = []

    def close(self) -> None:
        """The last, partial partition, the rows beyond the limit, the excluded rows held."""
        if any(t.num_rows for t in self._parts):
            self._write_partition()
        beyond = pa.concat_tables([mf.MANIFEST_SCHEMA.empty_table(), *self._beyond])
        if beyond.num_rows:
            refs = beyond.select(["metadata_key", "metadata_etag", "version"]).append_column(
                "pmcid", mf.pmcid_numbers(beyond["pmcid"])
            )
            self.exclude(mf.excluded_table(refs, ["beyond_limit"] * refs.num_rows))
        self._flush_excluded()


def _carry_verdicts(latest: pa.Table, previous: mf.PreviousBuild, out: _Manifest) -> pa.Table:
    """Leave out what an earlier build under the same filters already judged; the rest.

    An update changes a few thousand of ~9M objects and the listing's ETags say which: the
    rest keep their verdict unread (a GET each: hours at --rps). Judged in slices, so the
    ~9M carried rows are never all in memory at once.
    """
    read = []
    for start in range(0, latest.num_rows, EXCLUDED_BATCH):
        rows = latest.slice(start, EXCLUDED_BATCH)
        verdicts = mf.carried_verdicts(rows, previous)
        carried = pc.is_valid(verdicts)
        out.exclude(mf.excluded_table(rows.filter(carried), verdicts.filter(carried)))
        read.append(pc.invert(carried).to_numpy(zero_copy_only=False))
    return latest.filter(pa.array(np.concatenate(read))) if read else latest


def only_wanted(latest: pa.Table, config: Config) -> pa.Table:
    """The listing rows of the PMCIDs ``--pmcids`` names (all rows without it)."""
    if not config.pmcids_file:
        return latest
    wanted = sorted(mf.pmcid_number(p) for p in load_pmcids(config.pmcids_file))
    return latest.filter(pc.is_in(latest["pmcid"], pa.array(wanted, pa.int64())))


def listing_record(source: Source) -> dict[str, str]:
    """When the listing was made (UTC date) and, for a bucket read through its S3 Inventory,
    which delivery: the dataset card says what snapshot of PMC a build is."""
    record = {"listing_date": datetime.now(UTC).date().isoformat()}
    inventory = getattr(source, "inventory_key", None)
    if inventory:
        record["inventory"] = inventory
    return record


def list_latest(source: Source, config: Config) -> tuple[pa.Table, int]:
    """The newest version of every listed article (:data:`manifest.LISTING_SCHEMA`, in
    PMCID order) and how many older versions the listing held."""
    return mf.latest_versions(_enumerate(source, config))


def _enumerate(source: Source, config: Config) -> pa.Table:
    """The source's article versions as Arrow columns, built as they stream in."""
    batches: list[pa.Table] = []
    refs: list[ObjectRef] = []
    with tqdm(desc="list metadata", unit="key", disable=not config.progress) as bar:
        for ref in source.list_metadata():
            refs.append(ref)
            if len(refs) == LISTING_BATCH:
                batches.append(mf.listing_table(refs))
                bar.update(len(refs))
                refs = []
        batches.append(mf.listing_table(refs))
        bar.update(len(refs))
    return pa.concat_tables(batches)


def _read_in_waves(
    client,
    config: Config,
    latest: pa.Table,
    before: pa.Table | None,
    enough: Callable[[], bool],
) -> Iterator[tuple[int, Verdicts]]:
    """Yield (chunk rows, verdicts) per chunk, in PMCID order, until ``enough()``.

    Without a limit every chunk is one wave. With one, chunks are small and waves grow
    geometrically, so a small ``--limit`` reads a few hundred metadata objects, not the bucket.
    Chunks are cut (copied: a slice would pickle its whole table) as tasks are submitted.
    """
    size = CHUNK if config.limit is None else max(16, min(CHUNK, config.limit))
    starts = range(0, latest.num_rows, size)
    wave = len(starts) if config.limit is None else 1
    first = 0
    while first < len(starts) and not enough():
        batch = starts[first : first + wave]

        def work(batch=batch) -> Iterator[tuple[pa.Table, dict[str, tuple] | None]]:
            for start in batch:
                chunk = latest.take(np.arange(start, min(start + size, latest.num_rows)))
                yield chunk, _known(chunk, before)

        results = stream_tasks(
            client, judge_chunk, config, work(), total=len(batch), desc="read metadata"
        )
        for start, verdict in zip(batch, results, strict=True):
            yield min(size, latest.num_rows - start), verdict
        first += wave
        wave *= 2


def _known(chunk: pa.Table, before: pa.Table | None) -> dict[str, tuple] | None:
    """What the earlier build kept of these rows' PMCIDs (None: not an incremental build)."""
    if before is None:
        return None
    return mf.known_versions(before, chunk["pmcid"].to_numpy())
