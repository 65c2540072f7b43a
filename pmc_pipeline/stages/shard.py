"""The ``shard`` stage: figures (+ panels) + dedupe clusters -> WebDataset shards per split.

The driver plans: it reads only keys (figures, panels) and the clusters table, orders
samples by (partition, row, panel), keeps cluster representatives (all samples, marked,
with ``--keep-duplicates``), and cuts each split into shards of ``samples_per_shard``.
Each shard is then one Dask task that reads just its rows and writes
``shards/<split>/NNNNN.tar`` (last: the completion marker), ``NNNNN.parquet`` and
``NNNNN_stats.json``. ``sizes.json`` per split, as open_clip reads it, closes the stage.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict

import pyarrow as pa
import pyarrow.compute as pc

from ..cluster import map_tasks
from ..config import Config
from ..schema import arrow_schema
from ..shards import SPLITS, ShardPlan, figure_sample, panel_sample, plan_shards, write_samples
from ..storage import Store, part_name, partition_of
from .dedupe import CLUSTERS

SHARDS = "shards"
PLAN = f"{SHARDS}/_plan.json"
CLUSTER_COLUMNS = ["key", "cluster_id", "representative", "reason", "distance", "degenerate"]


def shard_paths(split: str, name: str) -> tuple[str, str, str]:
    base = f"{SHARDS}/{split}/{name}"
    return f"{base}.tar", f"{base}.parquet", f"{base}_stats.json"


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
                }
            )
        )
    figures = pa.concat_tables(tables)
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


def write_shard(config: Config, shard: ShardPlan) -> dict:
    """Dask task: read this shard's rows and write its tar, Parquet and stats."""
    store = config.store
    tar_rel, parquet_rel, stats_rel = shard_paths(shard.split, shard.name)
    if store.exists(tar_rel):
        return json.loads(store.read_bytes(stats_rel))
    start = time.perf_counter()
    figures = _read_rows(store, "figures", {(item[3], item[4]) for item in shard.items})
    wanted_panels = {(item[1], item[2]) for item in shard.items if item[0] == "panel"}
    panel_rows = _read_rows(store, "panels", wanted_panels)
    samples = []
    for kind, p, r, fp, fr, cluster, _ in shard.items:
        fig = figures[(fp, fr)]
        meta = figure_sample(fig, cluster, duplicate=fig["key"] != cluster["representative"])
        if kind == "figure":
            samples.append((meta, fig["image"]))
        else:
            panel = panel_rows[(p, r)]
            samples.append((panel_sample(meta, panel), panel["image"]))
    metas = [m for m, _ in samples]
    store.write_table(parquet_rel, pa.Table.from_pylist(metas, schema=arrow_schema("sample")))
    with store.atomic_writer(tar_rel) as out:
        size = write_samples(out, samples)
        stats = {
            "shard": f"{shard.name}.tar",
            "split": shard.split,
            "count": len(samples),
            "panels": sum(1 for m in metas if m["kind"] == "panel"),
            "bytes": size,
            "duplicates_dropped": shard.duplicates_dropped,
            "duration_s": round(time.perf_counter() - start, 3),
        }
        store.write_bytes(stats_rel, json.dumps(stats, sort_keys=True).encode())
    return stats


def _read_rows(store: Store, folder: str, wanted: set[tuple[int, int]]) -> dict:
    """(partition, row) -> record, reading each needed partition once."""
    by_part: dict[int, list[int]] = defaultdict(list)
    for p, r in wanted:
        by_part[p].append(r)
    out = {}
    for p, rows in by_part.items():
        rows.sort()
        table = store.read_table(f"{folder}/{part_name(p, '.parquet')}").take(rows)
        for r, rec in zip(rows, table.to_pylist(), strict=True):
            out[(p, r)] = rec
    return out


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
    store.write_bytes(PLAN, json.dumps({"digest": digest, "shards": len(plans)}).encode())
    stats = map_tasks(client, write_shard, config, plans, desc="shard", unit="shard")
    summary: dict = {"shards": len(plans), "splits": {}}
    for split in SPLITS:
        sizes = {s["shard"]: s["count"] for s in stats if s["split"] == split}
        if sizes:
            store.write_bytes(f"{SHARDS}/{split}/sizes.json", json.dumps(sizes, indent=1).encode())
        summary["splits"][split] = sum(sizes.values())
    summary["duplicates_dropped"] = sum(s["duplicates_dropped"] for s in stats)
    return summary
