"""The build graph: list -> (fetch -> extract -> split) per partition -> dedupe -> shard -> report.

The per-partition stages are chained per partition, so partition 7 can be extracting
while partition 8 downloads; with ``--discard-bundles`` a partition's bundle is deleted as
soon as its figures are written. Dedupe is the one barrier. Each stage skips what is done,
so rerunning ``build`` after a crash or Ctrl-C redoes only unfinished partitions.
``dags/`` holds launchers (a running scheduler, SLURM, Kubernetes) of this same graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from distributed import Client, as_completed
from tqdm.auto import tqdm

from .cluster import share_rate
from .config import Config
from .stages.dedupe import run_dedupe
from .stages.extract import extract_partition
from .stages.fetch import discard_bundle, fetch_partition
from .stages.listing import manifest_partitions, run_list
from .stages.report import run_report
from .stages.shard import run_shard
from .stages.split import split_partition

PartitionStage = Callable[[Config, int], dict]


def partition_stages(config: Config) -> list[tuple[str, PartitionStage]]:
    """The per-partition stages of a build, in order."""
    stages: list[tuple[str, PartitionStage]] = [
        ("fetch", fetch_partition),
        ("extract", extract_partition),
    ]
    if config.discard_bundles:
        stages.append(("discard", discard_bundle))
    if config.panels != "off":
        stages.append(("split", split_partition))
    return stages


def _after(fn: PartitionStage, config: Config, partition: int, _previous: Any) -> dict:
    """Run ``fn`` once the previous stage of the same partition has finished."""
    return fn(config, partition)


def run_chains(
    client: Client, config: Config, partitions: list[int], stages: list[tuple[str, PartitionStage]]
) -> dict[str, list[dict]]:
    """Submit every partition's stage chain; one progress bar per stage."""
    futures, stage_of = [], {}
    for p in partitions:
        previous = None
        for name, fn in stages:
            previous = client.submit(_after, fn, config, p, previous, pure=False, retries=2)
            futures.append(previous)
            stage_of[previous.key] = name
    results: dict[str, list[dict]] = {name: [] for name, _ in stages}
    bars = {
        name: tqdm(total=len(partitions), desc=name, unit="part", disable=not config.progress)
        for name, _ in stages
    }
    try:
        for future in as_completed(futures):
            name = stage_of[future.key]
            results[name].append(future.result())
            bars[name].update(1)
    finally:
        for bar in bars.values():
            bar.close()
    for name in results:
        results[name].sort(key=lambda r: r["partition"])
    return results


def build(config: Config, client: Client, *, force_list: bool = False) -> dict:
    """Run the whole graph; returns each stage's summary and the funnel."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    summary: dict[str, Any] = {"stale_temp_files_removed": config.store.sweep_temp()}
    summary["list"] = run_list(config, client, force=force_list)
    timings["list"] = time.perf_counter() - start
    partitions = manifest_partitions(config.store)
    start = time.perf_counter()
    chains = run_chains(client, share_rate(config, client), partitions, partition_stages(config))
    timings["partitions"] = time.perf_counter() - start
    for name, results in chains.items():
        summary[name] = add_counts(results)
    for name, step in (("dedupe", run_dedupe), ("shard", run_shard)):
        start = time.perf_counter()
        summary[name] = step(config, client)
        timings[name] = time.perf_counter() - start
    summary["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    summary["report"] = {"ok": run_report(config).get("ok")}
    return summary


def add_counts(results: list[dict]) -> dict:
    """Add up per-partition summaries (numbers and error classes) for the command's report."""
    total: dict = {"partitions": len(results)}
    for r in results:
        for k, v in r.items():
            if k == "partition":
                continue
            if isinstance(v, bool | int):
                total[k] = total.get(k, 0) + int(v)
            elif isinstance(v, dict):
                sub = total.setdefault(k, {})
                for kk, vv in v.items():
                    sub[kk] = sub.get(kk, 0) + vv
    return total
