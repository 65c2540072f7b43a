"""list's driver memory on a synthetic S3 Inventory, extrapolated to all of PMC (9.3M keys).

A full build lists ~9.3M metadata keys; the driver (which also hosts the LocalCluster's
scheduler) must stay within 2 GB. The bench writes a synthetic bucket folder holding only
an S3 Inventory (manifest.json + gzipped CSVs) of N metadata keys, ~1.33 versions per
article as in the real bucket, then runs ``run_list`` in a fresh driver process on a real
LocalCluster and reports that process's peak RSS (VmHWM) above its baseline (its peak
after imports and cluster start, before listing).

What is real: enumeration (the inventory is read and parsed by ``LocalSource``), version
picking, the Dask tasks and their results travelling back, the manifest and excluded
writes. What is stubbed: the workers' metadata GETs. A worker plugin replaces the
workers' source with one that makes each article's metadata JSON up from its key (fields
of realistic length, ~15% left out), so no 1M files are written; the workers' memory is
not measured anyway. Each size runs twice: a first build, then an incremental one with
the first as ``--previous`` (every verdict carried over; no metadata read).

Two sizes give the slope, bytes per key, so the projection to 9.3M keys does not assume
the baseline is the only fixed cost. The target is a ratio-free bound: projected peak
<= 2 GB. Timings are printed for comparison between code versions, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

PMC_KEYS = 9_300_000
TARGET_BYTES = 2 * 2**30
DATE = "2026-11-27T01-00Z"


def synthetic_keys(n_keys: int, seed: int = 0) -> list[str]:
    """``metadata/PMC<id>.<v>.json`` keys: a quarter of articles have a 2nd version, 1/12 a 3rd."""
    keys: list[str] = []
    article = 0
    while len(keys) < n_keys:
        number = 1_000_000 + 7 * article
        versions = 1 + (article % 4 == 0) + (article % 12 == 0)
        keys.extend(f"metadata/PMC{number}.{v}.json" for v in range(1, versions + 1))
        article += 1
    keys = keys[:n_keys]
    order = np.random.default_rng(seed).permutation(n_keys)  # inventories are not sorted
    return [keys[i] for i in order]


def write_inventory(root: Path, n_keys: int) -> None:
    """A bucket folder holding only an S3 Inventory of ``n_keys`` metadata keys."""
    from pmc_pipeline.bucket_layout import inventory_objects, write_tree

    keys = synthetic_keys(n_keys)
    etags = {k: hashlib.md5(k.encode()).hexdigest() for k in keys}
    write_tree(root, inventory_objects(DATE, keys, etags, n_files=max(1, n_keys // 250_000)))
    (root / "metadata").mkdir(exist_ok=True)


class SyntheticMetadata:
    """Stands in for the source in workers: a metadata record of realistic size per key."""

    def read_metadata(self, ref) -> dict:
        n = int(ref.pmcid.removeprefix("PMC"))
        prefix = f"{ref.pmcid}.{ref.version}"

        def url(name: str) -> str:
            md5 = hashlib.md5(f"{prefix}/{name}".encode()).hexdigest()
            return f"s3://pmc-oa-opendata/{prefix}/{name}?md5={md5}"

        figures = [f"pone.{n:07d}.g{k:03d}" for k in range(1, 1 + n % 9)]
        return {
            "pmcid": ref.pmcid,
            "version": ref.version,
            "pmid": str(20_000_000 + n),
            "doi": f"10.1371/journal.pone.{n:07d}",
            "mid": None,
            "title": f"Synthetic article {n}: a title of the length most PMC titles have, "
            "about a hundred characters",
            "citation": f"PLoS One. 2012; 7({n % 12 + 1}):e{n}",
            "is_pmc_openaccess": n % 10 != 3,
            "is_manuscript": n % 20 == 1,
            "is_historical_ocr": False,
            "is_retracted": False,
            "license_code": ("CC BY", "CC BY-NC", "CC0", "CC BY-NC-ND")[n % 4],
            "xml_url": url(f"{prefix}.xml"),
            "text_url": url(f"{prefix}.txt"),
            "pdf_url": url(f"{prefix}.pdf"),
            "media_urls": [url(f"{f}.{ext}") for f in figures for ext in ("jpg", "gif")],
        }


class StubMetadataReads(WorkerPlugin):
    """Worker plugin: judge_chunk reads metadata from :class:`SyntheticMetadata`."""

    name = "stub-metadata-reads"

    def setup(self, worker) -> None:
        from pmc_pipeline.stages import listing

        listing.source_from_config = lambda config: SyntheticMetadata()


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def peak_rss() -> int:
    """Peak resident bytes of this process so far: VmHWM, not ``ru_maxrss``, which Linux
    carries over from the parent across fork and exec."""
    return _status_bytes("VmHWM")


def child(bucket: str, out: str, previous: str | None, workers: int) -> dict:
    """One list run in this (fresh) process; its peak RSS above the pre-list baseline."""
    import gc

    from pmc_pipeline.cluster import dask_client
    from pmc_pipeline.config import Config
    from pmc_pipeline.stages.listing import run_list

    config = Config(
        out=out,
        source=bucket,
        previous=previous,
        workers=workers,
        threads_per_worker=1,
        concurrency=1,
        requests_per_second=0,
        progress=False,
    )
    with dask_client(config) as client:
        client.register_plugin(StubMetadataReads())
        gc.collect()
        baseline = peak_rss()
        start = time.perf_counter()
        summary = run_list(config, client)
        seconds = time.perf_counter() - start
        peak = peak_rss()
    return {
        "baseline_MB": round(baseline / 2**20, 1),
        "peak_MB": round(peak / 2**20, 1),
        "seconds": round(seconds, 1),
        "versions_listed": summary["versions_listed"],
        "articles_kept": summary["articles_kept"],
        "metadata_read": summary["metadata_read"],
    }


def run_child(bucket: Path, out: Path, previous: Path | None, workers: int) -> dict:
    cmd = [sys.executable, "-m", "bench.list_memory_bench", "--child", str(bucket), str(out)]
    cmd += ["--workers", str(workers)] + (["--previous", str(previous)] if previous else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def projection(small: dict, big: dict) -> dict:
    """Bytes per key from the two sizes' peaks, and the peak that gives at 9.3M keys."""
    keys = big["versions_listed"] - small["versions_listed"]
    per_key = (big["peak_MB"] - small["peak_MB"]) * 2**20 / keys
    above = (big["peak_MB"] - big["baseline_MB"]) * 2**20 / big["versions_listed"]
    projected = big["peak_MB"] * 2**20 + per_key * (PMC_KEYS - big["versions_listed"])
    return {
        "bytes_per_key_slope": round(per_key),
        "bytes_per_key_above_baseline": round(above),
        "projected_peak_GB_at_9.3M": round(projected / 2**30, 2),
        "within_2GB": projected <= TARGET_BYTES,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys of the larger run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("BUCKET", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--previous", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(*args.child, args.previous, args.workers)
        print(json.dumps(result))
        return result
    sizes = [args.keys // 4, args.keys]
    runs: dict[str, dict] = {"full": {}, "incremental": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            bucket = tmp / f"bucket-{n}"
            write_inventory(bucket, n)
            first, second = tmp / f"first-{n}", tmp / f"second-{n}"
            runs["full"][n] = run_child(bucket, first, None, args.workers)
            runs["incremental"][n] = run_child(bucket, second, first, args.workers)
    result = {
        "bench": "list_memory",
        "measured": "driver process peak RSS (VmHWM), LocalCluster scheduler included; "
        "workers' metadata reads stubbed",
        "runs": {kind: {str(n): r for n, r in by.items()} for kind, by in runs.items()},
        "projection": {kind: projection(by[sizes[0]], by[sizes[1]]) for kind, by in runs.items()},
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
