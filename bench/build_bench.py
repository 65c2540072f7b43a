"""End-to-end build throughput: the corpus bucket on a loopback S3 server -> shards.

The 28 corpus articles (plus the fixture's filter cases) are laid out as pmc-oa-opendata,
served by moto on 127.0.0.1, and built with ``pmc-pipeline build``'s graph on a
LocalCluster. ``--copies K`` repeats every article under K PMCIDs so the run is long
enough to measure (the copies are exact duplicates, which dedupe then removes). Reports
figures extracted per second of wall time and per core (wall time x worker processes),
with the per-stage timings the build records.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from pmc_pipeline.bucket_layout import write_bucket
from pmc_pipeline.cluster import dask_client
from pmc_pipeline.config import Config
from pmc_pipeline.dag import build

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_copies(corpus: Path, copies: int) -> list:
    """The fixture bucket's articles, each repeated under ``copies`` distinct PMCIDs."""
    from tests.fixtures.corpus_bucket import corpus_articles

    specs = corpus_articles(corpus)
    out = []
    for k in range(copies):
        for spec in specs:
            number = int(spec.pmcid.removeprefix("PMC")) + k * 10_000_000
            out.append(dataclasses.replace(spec, pmcid=f"PMC{number}"))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--panels", choices=["off", "add"], default="add")
    args = parser.parse_args(argv)
    from tests.fixtures.s3server import MotoS3

    with tempfile.TemporaryDirectory() as tmp_name, MotoS3() as s3:
        tmp = Path(tmp_name)
        write_bucket(tmp / "bucket", corpus_copies(args.corpus, args.copies), inventory=True)
        s3.upload_tree(tmp / "bucket")
        config = Config(
            out=str(tmp / "out"),
            source="s3://pmc-oa-opendata",
            endpoint_url=s3.endpoint_url,
            workers=args.workers,
            partition_size=20,
            panels=args.panels,
            progress=False,
        )
        start = time.perf_counter()
        with dask_client(config) as client:
            summary = build(config, client)
        wall = time.perf_counter() - start
    figures = summary["extract"]["figures_extracted"]
    result = {
        "bench": "build",
        "articles_kept": summary["list"]["articles_kept"],
        "figures_extracted": figures,
        "panels": summary.get("split", {}).get("panels", 0),
        "samples_written": sum(summary["shard"]["splits"].values()),
        "workers": args.workers,
        "wall_s": round(wall, 1),
        "figures_per_s": round(figures / wall, 1),
        "figures_per_s_per_core": round(figures / wall / args.workers, 1),
        "stage_timings_s": summary["timings_s"],
        "funnel_ok": summary["report"]["ok"],
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
