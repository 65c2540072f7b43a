"""The dedupe stage: the one global step, over the hash columns of every figure.

Reading: one Dask task per group of figures parts reads only the hash columns (never the
``image`` column) and compacts them (sha256 hex -> 16 bytes, areas), so parsing runs in
parallel next to the data and the driver receives ~70 bytes per figure. The driver needs
all rows anyway: sorting keys, exact groups, union-find and the output are global.

Near search: the search set (one row per exact group, no degenerate rows) is scattered once
to every worker; one task per band sorts it and builds the band's bucket table, and one task
per (band, range of band values) probes that range. Only the verified pairs come back.

Outputs: ``dedupe/summary.json`` then ``dedupe/clusters.parquet`` (the completion marker),
both written atomically with fixed settings, so a rerun on the same inputs is byte-identical.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from distributed import Client, Future, as_completed
from tqdm.auto import tqdm

from ..cluster import map_tasks, n_worker_processes
from ..config import CONFIG_FILE, Config
from ..dedupe import (
    FIGURE_COLUMNS,
    BandIndex,
    DedupeError,
    DedupeParams,
    Figures,
    article_ids,
    assign_splits,
    band_layout,
    band_pairs,
    build_band_index,
    cluster_representatives,
    clusters_table,
    compact_columns,
    degenerate_mask,
    exact_leaders,
    figures_from_compact,
    probe_pairs,
    probe_radius,
    search_set,
    settle_published,
    summarize,
    unique_edges,
)
from ..schema import arrow_schema
from ..storage import Store
from .listing import manifest_partitions, read_manifest

CLUSTERS = "dedupe/clusters.parquet"
FIGURE_HASH_SCHEMA = pa.schema([arrow_schema("figure").field(name) for name in FIGURE_COLUMNS])
REMOVED = "manifest/removed.parquet"
SUMMARY = "dedupe/summary.json"
FIGURES = "figures"
PARTS_PER_TASK = 256  # at most; fewer when that leaves workers idle
MIN_QUERY_ROWS = 1 << 16  # smallest band range worth a task
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_GLIBC_THRESHOLD = 128 * 1024  # glibc's default for both
_heap_lock = threading.Lock()
_heap_users = 0


def dedupe_params(config: Config) -> DedupeParams:
    """The Config fields the pure dedupe code uses."""
    if config.representative != "largest":
        raise DedupeError(
            f"representative={config.representative!r} is not supported; use 'largest'"
        )
    return DedupeParams(
        near_distance=config.near_distance,
        bucket_cap=config.near_bucket_cap,
        min_gray_std=config.degenerate_gray_std,
        min_pixels=config.degenerate_min_pixels,
        phash_cap=config.degenerate_phash_count,
    )


def run_dedupe(config: Config, client: Client, *, force: bool = False) -> dict[str, Any]:
    """Cluster exact and near-duplicate figures; returns the summary (``skipped`` if done)."""
    store = config.store
    parts = store.list(FIGURES, ".parquet")
    if not parts and manifest_partitions(store):
        raise DedupeError(f"no figures parts under {store.path(FIGURES)}; run extract first")
    earlier = earlier_builds(config)
    digest = inputs_digest(parts + [b.path(CLUSTERS) for b in earlier])
    if not force and is_fresh(store, parts, digest):
        return {**json.loads(store.read_bytes(SUMMARY)), "skipped": True}
    params = dedupe_params(config)
    radius = probe_radius(params.near_distance, params.bands)

    compact = load_hash_columns(client, config, parts)
    prior = published_figures(client, config, earlier) if compact.num_rows else None
    if prior is not None:
        compact = pa.concat_tables([compact, prior.select(compact.column_names)])
    fig = figures_from_compact(compact)
    leaders = exact_leaders(fig.sha)
    degenerate = degenerate_mask(fig, leaders, params)
    rows = search_set(leaders, degenerate)
    near, search = near_pairs_dask(client, config, fig, rows, params, radius)
    rep = cluster_representatives(fig, leaders, near)
    table = clusters_table(fig, leaders, rep, degenerate)
    split = assign_splits(
        table["cluster_id"], config.test_fraction, config.val_fraction, config.split_salt
    )
    table = table.append_column("split", split)
    own = follow = None
    if prior is not None:
        prior_row = pc.fill_null(pc.index_in(fig.keys, value_set=prior["key"]), -1)
        prior_row = prior_row.to_numpy().astype(np.int64)
        table, follow = settle_published(table, fig, rep, prior_row, prior)
        own, split = prior_row < 0, table["split"]

    summary = {
        **summarize(fig, leaders, rep, degenerate, None if own is None else own & ~follow),
        **search,
        "figures": len(table),
        "published_figures": 0 if prior is None else len(prior),
        "published_duplicates": 0 if follow is None else int(follow.sum()),
        "splits": {v["values"]: v["counts"] for v in pc.value_counts(split).to_pylist()},
        "near_distance": params.near_distance,
        "inputs": len(parts),
        "inputs_digest": digest,
    }
    store.write_bytes(SUMMARY, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    store.write_bytes(CLUSTERS, parquet_bytes(table))
    return summary


def earlier_builds(config: Config) -> list[Store]:
    """The builds an incremental build follows (``--previous``, then theirs), newest first."""
    builds: list[Store] = []
    seen: set[str] = set()
    previous = config.previous
    while previous and previous not in seen:
        seen.add(previous)
        build = Store(previous, config.out_endpoint_url)
        builds.append(build)
        saved = json.loads(build.read_bytes(CONFIG_FILE)) if build.exists(CONFIG_FILE) else {}
        previous = saved.get("previous")
    return builds


def build_articles(store: Store) -> np.ndarray:
    """Article ids (``dedupe.article_ids``) a build listed and those it says were removed:
    they supersede the same articles in older builds."""
    pmcids = [read_manifest(store, ["pmcid"])["pmcid"]]
    if store.exists(REMOVED):
        pmcids.append(store.read_table(REMOVED, columns=["pmcid"])["pmcid"])
    return np.unique(article_ids(pa.chunked_array(pmcids, pa.string())))


def published_figures(client: Client, config: Config, earlier: list[Store]) -> pa.Table | None:
    """Compact hash columns, cluster id, representative and split of every figure the
    earlier builds published and no later build replaced or removed (None: there are none)."""
    superseded = build_articles(config.store)
    tables = []
    for build in earlier:
        if not build.exists(CLUSTERS):
            raise DedupeError(
                f"earlier build {build.uri} has no {CLUSTERS}: finish it (its dedupe) first"
            )
        parts = build.list(FIGURES, ".parquet")
        if parts:
            compact = load_hash_columns(client, config.replace(out=build.uri), parts)
            columns = ["key", "cluster_id", "representative", "split"]
            clusters = build.read_table(CLUSTERS, columns=columns)
            row = pc.index_in(compact["key"], value_set=clusters["key"])
            compact = compact.filter(pc.is_valid(row))
            row = row.filter(pc.is_valid(row))
            joined = compact.append_column("cluster_id", clusters["cluster_id"].take(row))
            for name in ("representative", "split"):
                joined = joined.append_column(name, clusters[name].take(row))
            gone = pc.is_in(joined["article"], value_set=pa.array(superseded))
            tables.append(joined.filter(pc.invert(gone)))
        superseded = np.union1d(superseded, build_articles(build))
    return pa.concat_tables(tables).sort_by("key") if tables else None


def load_hash_columns(client: Client, config: Config, parts: list[str]) -> pa.Table:
    """Compact hash columns of every part, read by Dask tasks over groups of parts."""
    if not parts:  # nothing listed (an update with no change): an empty table
        return compact_columns(pa.Table.from_pylist([], schema=FIGURE_HASH_SCHEMA))
    n_tasks = min(
        len(parts), max(4 * n_worker_processes(client), math.ceil(len(parts) / PARTS_PER_TASK))
    )
    groups = [list(g) for g in np.array_split(np.array(parts, dtype=object), n_tasks)]
    tables = map_tasks(client, _load_group, config, groups, desc="dedupe: read hashes")
    return pa.concat_tables(tables)


def _load_group(config: Config, rels: list[str]) -> pa.Table:
    store = config.store
    columns = list(FIGURE_COLUMNS)
    return pa.concat_tables(
        [compact_columns(store.read_table(rel, columns=columns)) for rel in rels]
    )


def near_pairs_dask(
    client: Client,
    config: Config,
    fig: Figures,
    rows: np.ndarray,
    params: DedupeParams,
    radius: int,
) -> tuple[np.ndarray, dict[str, int]]:
    """``dedupe.near_pairs`` with the band work spread over the workers: one index task per
    band, then tasks over ranges of the index's own rows and of the crop-hash queries."""
    n = len(rows)
    ids = rows.astype(np.int32) if n and rows.max() < 2**31 else rows
    [search, crops] = client.scatter(
        [(fig.phash[rows], ids), (fig.phash_crop[rows], ids)], broadcast=True
    )
    step = max(MIN_QUERY_ROWS, math.ceil(n / (4 * n_worker_processes(client))))
    kw = {"max_distance": params.near_distance, "radius": radius, "pure": False, "retries": 2}
    indexes: list[Future] = []
    tasks: list[Future] = []
    for shift, width in band_layout(params.bands):
        index = client.submit(
            _band_index, search, shift, width, params.bucket_cap, pure=False, retries=2
        )
        indexes.append(index)
        for lo in range(0, n, step):
            hi = min(lo + step, n)
            tasks.append(client.submit(_band_pairs, index, lo, hi, **kw))
            tasks.append(client.submit(_probe_pairs, index, crops, lo, hi, **kw))
    found = []
    bar = tqdm(total=len(tasks), desc="dedupe: near search", disable=not config.progress)
    with bar:
        for future in as_completed(tasks):
            found.append(future.result())
            bar.update(1)
    stats = client.gather([client.submit(_band_stats, i, pure=False) for i in indexes])
    near = unique_edges(np.concatenate(found) if found else np.empty((0, 2), np.int64))
    return near, {
        "search_rows": n,
        "near_pairs": len(near),
        "capped_buckets": sum(s[0] for s in stats),
        "capped_rows": sum(s[1] for s in stats),
    }


def _band_index(
    search: tuple[np.ndarray, np.ndarray], shift: int, width: int, cap: int
) -> BandIndex:
    return build_band_index(search[0], search[1], shift, width, cap)


def _band_pairs(index: BandIndex, start: int, stop: int, **kwargs: int) -> np.ndarray:
    with heap_temporaries():
        return band_pairs(index, start, stop, **kwargs)


def _probe_pairs(
    index: BandIndex, crops: tuple[np.ndarray, np.ndarray], start: int, stop: int, **kwargs: int
) -> np.ndarray:
    with heap_temporaries():
        return probe_pairs(index, crops[0][start:stop], crops[1][start:stop], **kwargs)


@contextmanager
def heap_temporaries() -> Iterator[None]:
    """Let glibc reuse freed memory for the probe loop's temporaries while a band task runs.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which hands freed memory
    back to the kernel at once and pins the mmap threshold at 128 KiB: every temporary array
    is then fresh pages that fault in one by one. At 15M rows that cost more kernel time
    than the work (per worker 45 s system vs 25 s user). Raising both thresholds for the
    task's duration, then trimming, brings system time to ~0. No-op without glibc.
    """
    libc = _libc_with_mallopt()
    if libc is None:
        yield
        return
    global _heap_users
    with _heap_lock:
        if _heap_users == 0:
            libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)
            libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's maximum on 64-bit
        _heap_users += 1
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                trim = int(os.environ.get("MALLOC_TRIM_THRESHOLD_", _GLIBC_THRESHOLD))
                libc.mallopt(_M_TRIM_THRESHOLD, trim)
                libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_THRESHOLD)
                libc.malloc_trim(0)


def _libc_with_mallopt() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _band_stats(index: BandIndex) -> tuple[int, int]:
    return index.capped_buckets, index.capped_rows


def parquet_bytes(table: pa.Table) -> bytes:
    """Parquet with fixed settings: the same table gives the same bytes."""
    buf = io.BytesIO()
    pq.write_table(
        table,
        buf,
        compression="zstd",
        compression_level=3,
        row_group_size=1 << 20,
        use_dictionary=True,
        write_statistics=True,
    )
    return buf.getvalue()


def inputs_digest(parts: list[str]) -> str:
    """Names of the input parts, hashed: a removed or added part invalidates the output."""
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def is_fresh(store: Store, parts: list[str], digest: str) -> bool:
    """clusters.parquet exists, is newer than every figures part, and saw the same parts."""
    if not (store.exists(CLUSTERS) and store.exists(SUMMARY)):
        return False
    done = store.fs.get_file_info(store.path(CLUSTERS)).mtime
    selector = pafs.FileSelector(store.path(FIGURES), allow_not_found=True)
    newest = max(
        (i.mtime for i in store.fs.get_file_info(selector) if i.path.endswith(".parquet")),
        default=done,
    )
    if done is None or newest is None or (parts and done <= newest):
        return False
    return json.loads(store.read_bytes(SUMMARY)).get("inputs_digest") == digest
