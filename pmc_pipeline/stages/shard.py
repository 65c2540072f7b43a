"""The ``shard`` stage: figures (+ panels) + dedupe clusters -> WebDataset shards per split.

The driver plans: it reads only keys (figures, panels) and the clusters table, orders
samples by (partition, row, panel), keeps cluster representatives (all samples, marked,
with ``--keep-duplicates``), and cuts each split into shards of ``samples_per_shard``, in
arrays (about 500 bytes of driver memory per figure with its panels, measured at 1M), and
each task is sent only its partition's part of the plan.
Then two rounds of Dask tasks. One task per figures partition reads it once and writes,
for every shard drawing on it, that shard's run of samples as a piece (a val shard draws
on every partition: reading whole partitions per shard would read the dataset again for
each). One task per shard joins its pieces into ``shards/<split>/NNNNN.tar`` (last: the
completion marker), ``NNNNN.parquet`` and ``NNNNN_stats.json``, and deletes them.
``sizes.json`` per split, as open_clip reads it, closes the stage.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..cluster import map_tasks
from ..config import Config
from ..schema import arrow_schema
from ..shards import (
    PANEL,
    SPLITS,
    Run,
    ShardPlan,
    figure_sample,
    panel_sample,
    plan_shards,
    sample_order,
    write_samples,
)
from ..storage import Store, part_name, partition_of
from ..tarball import add_member
from .dedupe import CLUSTERS
from .parts import panels_path, read_figures, read_part

SHARDS = "shards"
PLAN = f"{SHARDS}/_plan.json"
PIECES = "_shard_pieces"  # per (shard, partition) runs of samples, joined into shards
CLUSTER_COLUMNS = ["key", "cluster_id", "representative", "reason", "distance", "degenerate"]


def shard_paths(split: str, name: str) -> tuple[str, str, str]:
    base = f"{SHARDS}/{split}/{name}"
    return f"{base}.tar", f"{base}.parquet", f"{base}_stats.json"


_INDEX_SCHEMA = pa.schema([("key", pa.string()), ("partition", pa.int32()), ("row", pa.int32())])


def _figure_index(store: Store) -> pa.Table:
    """key, partition, row, split and cluster columns of every figure, in sample order."""
    tables = []
    for rel in store.list("figures", ".parquet"):
        keys = store.read_table(rel, columns=["key"])["key"]
        p = partition_of(rel)
        tables.append(
            pa.table(
                {
                    "key": keys,
                    "partition": pa.array([p] * len(keys), pa.int32()),
                    "row": pa.array(range(len(keys)), pa.int32()),
                },
                schema=_INDEX_SCHEMA,
            )
        )
    figures = pa.concat_tables(tables) if tables else _INDEX_SCHEMA.empty_table()
    clusters = store.read_table(CLUSTERS, columns=[*CLUSTER_COLUMNS, "split"])
    joined = figures.join(clusters, "key", join_type="left outer")
    return joined.sort_by([("partition", "ascending"), ("row", "ascending")])


@dataclass(frozen=True)
class Plan:
    """The shards, the work of each figures partition, and the plan's identity."""

    shards: list[ShardPlan]
    work: list[PartitionWork]
    digest: str


@dataclass(frozen=True)
class PartitionWork:
    """What one piece-writing task needs: its partition, the cluster record of each of its
    figure rows (row-aligned), and the runs of samples shards take from it."""

    partition: int
    clusters: pa.Table
    runs: list[Run]


def _panel_parents(store: Store, index: pa.Table, offsets: dict[int, int]) -> tuple:
    """(figure index of each panel's parent or -1, row of each panel in its part), over all
    panels parts; split writes panels/part-N from figures/part-N, so parents are looked up
    among that partition's figures. Rows of rejected splits get -1: never samples."""
    parents, rows = [np.empty(0, np.int64)], [np.empty(0, np.int32)]
    for rel in store.list("panels", ".parquet"):
        p = partition_of(rel)
        table = read_part(store, rel, ["parent_key", "decision"], "split", "panels/")
        if p not in offsets or not table.num_rows:
            continue
        start, stop = offsets[p]
        local = pc.index_in(table["parent_key"], value_set=index["key"][start:stop])
        local = pc.fill_null(local, -1).to_numpy().astype(np.int64)
        rejected = pc.not_equal(table["decision"], "accepted").to_numpy(zero_copy_only=False)
        local[rejected] = -1  # rejected candidates are kept for inspection, never samples
        parents.append(np.where(local >= 0, local + start, -1))
        rows.append(np.arange(table.num_rows, dtype=np.int32))
    return np.concatenate(parents), np.concatenate(rows)


def plan(config: Config) -> Plan:
    """Every shard's samples, deterministic for the same inputs and settings.

    Columnar throughout: a PMC-scale build (~10M figures, ~25M panels) plans in a few GB on
    the driver, and each task receives only its own partition's share of the plan.
    """
    store = config.store
    index = _figure_index(store)
    if index["split"].null_count:
        missing = index.filter(pc.is_null(index["split"]))["key"][0]
        raise ValueError(f"figure {missing} has no dedupe cluster: rerun dedupe")
    partition = index["partition"].to_numpy()
    offsets = _partition_bounds(partition)
    own = pc.equal(index["key"], index["representative"]).to_numpy(zero_copy_only=False)
    charged = np.zeros(len(index), dtype=np.int64)
    if not config.keep_duplicates:
        counts = pc.value_counts(index["representative"].filter(pa.array(~own)))
        reps = pc.index_in(index["key"], value_set=counts.field("values"))
        found = pc.fill_null(reps, -1).to_numpy().astype(np.int64)
        per_rep = counts.field("counts").to_numpy()
        charged[found >= 0] = per_rep[found[found >= 0]]
    panel_parent, panel_row = (
        _panel_parents(store, index, offsets)
        if config.panels != "off"
        else (np.empty(0, np.int64), np.empty(0, np.int32))
    )
    split = pc.index_in(index["split"], value_set=pa.array(SPLITS)).to_numpy()
    samples = sample_order(
        partition,
        index["row"].to_numpy(),
        split,
        own | config.keep_duplicates,
        charged,
        panel_parent,
        panel_row,
        config.panels,
    )
    shards, runs = plan_shards(samples, config.samples_per_shard)
    by_partition: dict[int, list[Run]] = defaultdict(list)
    for shard, shard_runs in _runs_per_shard(shards, runs):
        for p, run in zip(shard.partitions, shard_runs, strict=True):
            by_partition[p].append(run)
    clusters = index.select([*CLUSTER_COLUMNS, "split"])
    work = [  # take, not slice: a pickled slice would carry the whole table's buffers
        PartitionWork(p, clusters.take(np.arange(*offsets[p])), rs)
        for p, rs in sorted(by_partition.items())
    ]
    return Plan(shards, work, plan_digest(shards, runs, config))


def _partition_bounds(partition: np.ndarray) -> dict[int, tuple[int, int]]:
    """partition -> [start, stop) of its rows in the (partition, row)-sorted index."""
    if not len(partition):
        return {}
    starts = np.flatnonzero(np.r_[True, partition[1:] != partition[:-1]]).tolist()
    stops = [*starts[1:], len(partition)]
    return {int(partition[a]): (a, b) for a, b in zip(starts, stops, strict=True)}


def _runs_per_shard(shards: list[ShardPlan], runs: list[Run]):
    """(shard, its runs): runs come in shard order, one per partition of the shard."""
    at = 0
    for shard in shards:
        yield shard, runs[at : at + len(shard.partitions)]
        at += len(shard.partitions)


def piece_path(split: str, name: str, partition: int) -> str:
    return f"{PIECES}/{split}/{name}/{part_name(partition, '.tar')}"


def write_pieces(config: Config, work: PartitionWork) -> int:
    """Dask task: read one figures (and panels) partition once; write each shard's samples
    from it as a piece. Returns the pieces written (finished shards need none)."""
    store = config.store
    todo = [
        run
        for run in work.runs
        if not store.exists(shard_paths(run.split, run.name)[0])
        and not store.exists(piece_path(run.split, run.name, work.partition))
    ]
    if not todo:
        return 0
    figures = read_figures(store, work.partition).to_pylist()
    clusters = work.clusters.to_pylist()
    # the split stage writes panels/part-N from figures/part-N: same partition, own rows
    wanted = any((run.kind == PANEL).any() for run in todo)
    panels = store.read_table(panels_path(work.partition)).to_pylist() if wanted else []
    for run in todo:
        samples = []
        for kind, row, parent in zip(
            run.kind.tolist(), run.row.tolist(), run.parent.tolist(), strict=True
        ):
            fig, cluster = figures[parent], clusters[parent]
            meta = figure_sample(fig, cluster, duplicate=fig["key"] != cluster["representative"])
            if kind == PANEL:
                samples.append((panel_sample(meta, panels[row]), panels[row]["image"]))
            else:
                samples.append((meta, fig["image"]))
        with store.atomic_writer(piece_path(run.split, run.name, work.partition)) as out:
            write_samples(out, samples)
    return len(todo)


def write_shard(config: Config, shard: ShardPlan) -> dict:
    """Dask task: join this shard's pieces into its tar, Parquet and stats, then drop them."""
    store = config.store
    tar_rel, parquet_rel, stats_rel = shard_paths(shard.split, shard.name)
    if store.exists(tar_rel):
        return json.loads(store.read_bytes(stats_rel))
    start = time.perf_counter()
    pieces = [piece_path(shard.split, shard.name, p) for p in shard.partitions]
    members, metas = [], []
    for rel in pieces:
        with store.open_read(rel) as f, tarfile.open(fileobj=f, mode="r:") as tar:
            for member in tar:
                data = tar.extractfile(member).read()
                members.append((member.name, data))
                if member.name.endswith(".json"):
                    metas.append(json.loads(data))
    store.write_table(parquet_rel, pa.Table.from_pylist(metas, schema=arrow_schema("sample")))
    with store.atomic_writer(tar_rel) as out:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, data in members:
                add_member(tar, name, data)
        stats = {
            "shard": f"{shard.name}.tar",
            "split": shard.split,
            "count": len(metas),
            "panels": sum(1 for m in metas if m["kind"] == "panel"),
            "bytes": out.tell(),
            "duplicates_dropped": shard.duplicates_dropped,
            "duration_s": round(time.perf_counter() - start, 3),
        }
        store.write_bytes(stats_rel, json.dumps(stats, sort_keys=True).encode())
    for rel in pieces:
        store.remove(rel)
    return stats


def plan_digest(shards: list[ShardPlan], runs: list[Run], config: Config) -> str:
    """Identity of a plan: a changed plan invalidates shards written under the old one."""
    h = hashlib.sha256()
    h.update(f"{config.samples_per_shard}|{config.keep_duplicates}|{config.panels}".encode())
    for shard, shard_runs in _runs_per_shard(shards, runs):
        h.update(f"{shard.split}/{shard.index}:{shard.partitions}".encode())
        for run in shard_runs:
            h.update(run.kind.tobytes() + run.row.tobytes() + run.parent.tobytes())
    return h.hexdigest()


def run_shard(config: Config, client) -> dict:
    """Plan, write every shard as a Dask task, then ``sizes.json`` per split."""
    store = config.store
    planned = plan(config)
    plans, digest = planned.shards, planned.digest
    if store.exists(PLAN) and json.loads(store.read_bytes(PLAN))["digest"] != digest:
        for split in SPLITS:  # inputs changed since those shards were written
            for rel in store.list(f"{SHARDS}/{split}"):
                store.remove(rel)
        store.remove_tree(PIECES)
    store.write_bytes(PLAN, json.dumps({"digest": digest, "shards": len(plans)}).encode())
    map_tasks(client, write_pieces, config, planned.work, desc="shard: read figures")
    stats = map_tasks(client, write_shard, config, plans, desc="shard: write", unit="shard")
    store.remove_tree(PIECES)
    summary: dict = {"shards": len(plans), "splits": {}}
    for split in SPLITS:
        sizes = {s["shard"]: s["count"] for s in stats if s["split"] == split}
        if sizes:
            store.write_bytes(f"{SHARDS}/{split}/sizes.json", json.dumps(sizes, indent=1).encode())
        summary["splits"][split] = sum(sizes.values())
    summary["duplicates_dropped"] = sum(s["duplicates_dropped"] for s in stats)
    return summary
