"""Fetch throughput against a loopback S3 server at 1, 8 and 32 requests in flight.

A synthetic bucket (the bundled demo generator, N articles) is served by moto on
127.0.0.1; ``list`` runs once, then ``fetch`` runs into a fresh build folder per
concurrency level on a one-worker LocalCluster, so the only variable is the thread pool.
moto is a Python server sharing the two cores with the client, so with no added latency
it, not the client, is the limit. Real S3 answers in ~20-50 ms, which is what
concurrency hides: ``--latency-ms`` adds that per request through a loopback proxy. The
reference is the same fetch at concurrency 1, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from pmc_pipeline.cluster import dask_client
from pmc_pipeline.config import Config
from pmc_pipeline.demo import build_demo_source
from pmc_pipeline.stages.fetch import fetch_all
from pmc_pipeline.stages.listing import run_list


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0, 30])
    args = parser.parse_args(argv)
    from tests.fixtures.s3server import FaultProxy, MotoS3

    with (
        tempfile.TemporaryDirectory() as tmp_name,
        MotoS3() as s3,
        FaultProxy(s3.endpoint_url) as proxy,
    ):
        tmp = Path(tmp_name)
        s3.upload_tree(build_demo_source(tmp / "bucket", n_articles=args.articles))
        base = Config(
            out=str(tmp / "listed"),
            source="s3://pmc-oa-opendata",
            endpoint_url=proxy.url,
            workers=1,
            threads_per_worker=1,
            requests_per_second=0,  # no cap: measure the transport
            partition_size=50,
            progress=False,
        )
        results = []
        with dask_client(base) as client:
            run_list(base, client)
            for latency, level in [(ms, c) for ms in args.latency_ms for c in args.concurrency]:
                proxy.reset()
                if latency:
                    proxy.delay("/", latency / 1000)
                out = tmp / f"l{latency}-c{level}"
                shutil.copytree(tmp / "listed", out)
                config = base.replace(out=str(out), concurrency=level)
                start = time.perf_counter()
                parts = fetch_all(config, client)
                seconds = time.perf_counter() - start
                articles = sum(p["articles"] for p in parts)
                megabytes = sum(p["bytes"] for p in parts) / 1e6
                results.append(
                    {
                        "latency_ms": latency,
                        "concurrency": level,
                        "articles": articles,
                        "MB": round(megabytes, 1),
                        "seconds": round(seconds, 2),
                        "articles_per_s": round(articles / seconds, 1),
                        "MB_per_s": round(megabytes / seconds, 2),
                        "requests_per_article": round(
                            sum(p["requests"] for p in parts) / max(1, articles), 2
                        ),
                    }
                )
    server = "moto ThreadedMotoServer on loopback, through a loopback proxy adding latency_ms"
    result = {"bench": "fetch", "server": server, "runs": results}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
