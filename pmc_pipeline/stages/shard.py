"""The ``shard`` stage: figures (+ panels) + dedupe clusters -> WebDataset shards per split.

The driver plans: it reads only keys (figures, panels) and the clusters table, orders
samples by (partition, row, panel), keeps cluster representatives (all samples, marked,
with ``--keep-duplicates``), and cuts each split into shards of ``samples_per_shard``.
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
from itertools import groupby

import pyarrow as pa
import pyarrow.compute as pc

from ..cluster import map_tasks
from ..config import Config
from ..schema import arrow_schema
from ..shards import SPLITS, ShardPlan, figure_sample, panel_sample, plan_shards, write_samples
from ..storage import Store, part_name, partition_of
from ..tarball import add_member
from .dedupe import CLUSTERS

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


def _panels_by_parent(store: Store) -> dict[str, list[tuple[int, int]]]:
    """parent key -> [(panels partition, row)] in panel order."""
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for rel in store.list("panels", ".parquet"):
        p = partition_of(rel)
        parents = store.read_table(rel, columns=["parent_key"])["parent_key"].to_pylist()
        for row, parent in enumerate(parents):
            out[parent].append((p, row))
    return out


def plan(config: Config) -> list[ShardPlan]:
    """Every shard's rows, deterministic for the same inputs and settings."""
    store = config.store
    index = _figure_index(store)
    if index["split"].null_count:
        missing = index.filter(pc.is_null(index["split"]))["key"][0]
        raise ValueError(f"figure {missing} has no dedupe cluster: rerun dedupe")
    panels = _panels_by_parent(store) if config.panels != "off" else {}
    records = index.to_pylist()
    dropped: dict[str, int] = defaultdict(int)  # representative -> duplicates left out
    if not config.keep_duplicates:
        for rec in records:
            if rec["key"] != rec["representative"]:
                dropped[rec["representative"]] += 1
    entries: dict[str, list] = defaultdict(list)
    for rec in records:
        if dropped and rec["key"] != rec["representative"]:
            continue
        cluster = {k: rec[k] for k in (*CLUSTER_COLUMNS, "split")}
        p, r = rec["partition"], rec["row"]
        items = [] if config.panels == "only" else [("figure", p, r)]
        items += [("panel", pp, pr) for pp, pr in panels.get(rec["key"], [])]
        for i, (kind, ip, ir) in enumerate(items):
            charged = dropped.get(rec["key"], 0) if i == 0 else 0
            entries[rec["split"]].append((kind, ip, ir, p, r, cluster, charged))
    return plan_shards(entries, config.samples_per_shard)


def pieces_by_partition(plans: list[ShardPlan]) -> dict[int, list[tuple[ShardPlan, list]]]:
    """Figures partition -> the (shard, its run of items) that draw on that partition.

    Plan order is (partition, row, panel), so a shard's items from one partition are one
    contiguous run, and a shard is its pieces concatenated in partition order.
    """
    out: dict[int, list[tuple[ShardPlan, list]]] = defaultdict(list)
    for shard in plans:
        for p, items in groupby(shard.items, key=lambda item: item[3]):
            out[p].append((shard, list(items)))
    return out


def piece_path(shard: ShardPlan, partition: int) -> str:
    return f"{PIECES}/{shard.split}/{shard.name}/{part_name(partition, '.tar')}"


def write_pieces(config: Config, work: tuple[int, list[tuple[ShardPlan, list]]]) -> int:
    """Dask task: read one figures (and panels) partition once; write each shard's samples
    from it as a piece. Returns the pieces written (finished shards need none)."""
    partition, runs = work
    store = config.store
    todo = [
        (shard, items)
        for shard, items in runs
        if not store.exists(shard_paths(shard.split, shard.name)[0])
        and not store.exists(piece_path(shard, partition))
    ]
    if not todo:
        return 0
    figures = _read_part(store, "figures", partition)
    # the split stage writes panels/part-N from figures/part-N: same partition, own rows
    panels = (
        _read_part(store, "panels", partition)
        if any(item[0] == "panel" for _, items in todo for item in items)
        else []
    )
    for shard, items in todo:
        samples = []
        for kind, _, r, _, fr, cluster, _ in items:
            fig = figures[fr]
            meta = figure_sample(fig, cluster, duplicate=fig["key"] != cluster["representative"])
            if kind == "figure":
                samples.append((meta, fig["image"]))
            else:
                samples.append((panel_sample(meta, panels[r]), panels[r]["image"]))
        with store.atomic_writer(piece_path(shard, partition)) as out:
            write_samples(out, samples)
    return len(todo)


def _read_part(store: Store, folder: str, partition: int) -> list[dict]:
    return store.read_table(f"{folder}/{part_name(partition, '.parquet')}").to_pylist()


def write_shard(config: Config, shard: ShardPlan) -> dict:
    """Dask task: join this shard's pieces into its tar, Parquet and stats, then drop them."""
    store = config.store
    tar_rel, parquet_rel, stats_rel = shard_paths(shard.split, shard.name)
    if store.exists(tar_rel):
        return json.loads(store.read_bytes(stats_rel))
    start = time.perf_counter()
    pieces = [piece_path(shard, p) for p in dict.fromkeys(item[3] for item in shard.items)]
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


def plan_digest(plans: list[ShardPlan], config: Config) -> str:
    """Identity of a plan: a changed plan invalidates shards written under the old one."""
    h = hashlib.sha256()
    h.update(f"{config.samples_per_shard}|{config.keep_duplicates}|{config.panels}".encode())
    for s in plans:
        h.update(f"{s.split}/{s.index}:{[item[:5] for item in s.items]}".encode())
    return h.hexdigest()


def run_shard(config: Config, client) -> dict:
    """Plan, write every shard as a Dask task, then ``sizes.json`` per split."""
    store = config.store
    plans = plan(config)
    digest = plan_digest(plans, config)
    if store.exists(PLAN) and json.loads(store.read_bytes(PLAN))["digest"] != digest:
        for split in SPLITS:  # inputs changed since those shards were written
            for rel in store.list(f"{SHARDS}/{split}"):
                store.remove(rel)
        store.remove_tree(PIECES)
    store.write_bytes(PLAN, json.dumps({"digest": digest, "shards": len(plans)}).encode())
    work = sorted(pieces_by_partition(plans).items())
    map_tasks(client, write_pieces, config, work, desc="shard: read figures")
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
