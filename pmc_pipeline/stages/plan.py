"""The ``plan`` stage: what a build will take, known before any bulk download.

Lists the source as ``list`` does (inventory or ListObjectsV2, the same version choice and
filters), then for a seeded random sample of the listed articles reads the metadata
(judged by ``list``'s own code), and for each kept one GETs its XML and lists its prefix
once for the sizes of its images. ``OUT/plan.json`` holds the articles, figures, requests,
bytes, disk and hours this predicts (``planning.py``), each estimate with a 95% interval;
exact when the sample is every article. Runs in the driver: a few thousand articles need
no cluster.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pyarrow as pa
from tqdm.auto import tqdm

from .. import planning
from ..config import Config
from ..planning import ArticleCost
from ..sources import BucketSource, SourceError
from .listing import judge_chunk, list_latest, only_wanted, source_from_config

PLAN_JSON = "plan.json"
CHUNK = 200  # sampled articles judged at a time (the progress bar's step)


def run_plan(
    config: Config,
    *,
    sample: int = 3000,
    seed: int = 0,
    cores: int | None = None,
    bandwidth_mb_s: float = 100.0,
) -> dict:
    """Write ``OUT/plan.json`` for a build of ``config`` on the named resources; returns it."""
    source = source_from_config(config)
    if not isinstance(source, BucketSource):
        raise SourceError(f"plan reads sources in the bucket's layout; {source.uri} is not one")
    latest, _ = list_latest(source, config)
    listing_requests = source.requests  # the enumeration's pages and GETs, as list makes them
    latest = only_wanted(latest, config)
    chosen = latest.take(planning.sample_indices(latest.num_rows, sample, seed))
    resources = planning.Resources(
        cores=cores or os.cpu_count() or 1,
        bandwidth_mb_s=bandwidth_mb_s,
        requests_per_second=config.requests_per_second,
        partition_size=config.partition_size,
        panels=config.panels != "off",
    )
    plan = {
        "source": config.source,
        "sample": {
            "listed": latest.num_rows,
            "sampled": chosen.num_rows,
            "seed": seed,
            "exact": chosen.num_rows == latest.num_rows,
        },
        **planning.project(
            sample_costs(config, source, chosen), latest.num_rows, listing_requests, resources
        ),
    }
    config.store.write_bytes(
        PLAN_JSON, (json.dumps(plan, indent=2, sort_keys=True) + "\n").encode()
    )
    return plan


def sample_costs(config: Config, source: BucketSource, chosen: pa.Table) -> list[ArticleCost]:
    """One cost per sampled listing row (zero for those list leaves out)."""
    costs: list[ArticleCost] = []
    with (
        tqdm(
            total=chosen.num_rows, desc="plan sample", unit="article", disable=not config.progress
        ) as bar,
        ThreadPoolExecutor(max(1, config.concurrency)) as pool,
    ):
        for start in range(0, chosen.num_rows, CHUNK):
            chunk = chosen.slice(start, CHUNK)
            verdicts = judge_chunk(config, (chunk, None))
            costs.extend(pool.map(partial(article_cost, source), verdicts.kept.to_pylist()))
            costs.extend(ArticleCost() for _ in range(chunk.num_rows - verdicts.kept.num_rows))
            bar.update(chunk.num_rows)
    return costs


def article_cost(source: BucketSource, row: dict) -> ArticleCost:
    """One kept article: its XML (as fetch GETs it) and one listing of its prefix."""
    try:
        xml = source.get(row["xml_key"], row["xml_md5"])
    except SourceError:
        return planning.article_cost(row, None, {})
    prefix = row["xml_key"].rsplit("/", 1)[0] + "/"
    try:
        sizes = {o.key: o.size for o in source.list_objects(prefix) if o.size is not None}
    except SourceError:
        sizes = {}
    return planning.article_cost(row, xml, sizes)
