"""Dedupe at PMC scale: N synthetic figures (default 15M) through the real dedupe stage.

Writes figures parts (~500k rows each, hash columns plus an empty ``image`` column the stage
must not read) with planted duplicates, runs ``run_dedupe`` on a LocalCluster, and reports
wall time, peak RSS summed over the process tree (sampled every 0.2 s) and whether every
planted pair ended up in one cluster. Target on 2 cores / 24 GB: < 15 min, < 8 GB.

    python -m bench.dedupe_scale --n 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmc_pipeline.cluster import dask_client
from pmc_pipeline.config import Config
from pmc_pipeline.dedupe import u64_hex
from pmc_pipeline.stages.dedupe import CLUSTERS, run_dedupe

ROWS_PER_PART = 500_000
NEAR_FRACTION = 0.01  # rows that are a copy of another with 0-4 flipped pHash bits
EXACT_FRACTION = 0.005  # rows with the same sha256 (and pHash) as another


def splitmix(x: np.ndarray) -> np.ndarray:
    """A fast, deterministic 64-bit mixer: synthetic hashes as functions of a content id."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def plant(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Content ids (equal: same sha256), pHashes, and the planted (copy, source) pairs."""
    rng = np.random.default_rng(seed)
    content = np.arange(n, dtype=np.uint64)
    phash = splitmix(content ^ np.uint64(0xA5A5A5A5))
    picked = rng.permutation(n)[: int(n * (NEAR_FRACTION + EXACT_FRACTION))]
    n_near = int(n * NEAR_FRACTION)
    copies = np.zeros(n, dtype=bool)
    copies[picked] = True
    originals = np.flatnonzero(~copies)
    source = originals[rng.integers(0, len(originals), len(picked))]
    near, near_src = picked[:n_near], source[:n_near]
    flips = np.zeros(n_near, dtype=np.uint64)
    n_flips = rng.integers(0, 5, n_near)
    for k in range(4):
        bit = rng.integers(0, 64, n_near).astype(np.uint64)
        flips ^= np.where(n_flips > k, np.uint64(1) << bit, np.uint64(0))
    phash[near] = phash[near_src] ^ flips  # repeated bits cancel: 0-4 flips
    exact, exact_src = picked[n_near:], source[n_near:]
    content[exact] = content[exact_src]
    phash[exact] = phash[exact_src]
    return content, phash, np.column_stack([near, near_src]), np.column_stack([exact, exact_src])


def sha_hex(content: np.ndarray) -> pa.Array:
    """A 64-hex 'sha256' per content id (four mixed words)."""
    words = [splitmix(content * np.uint64(4) + np.uint64(k)) for k in range(4)]
    parts = [u64_hex(w) for w in words]
    return pc.binary_join_element_wise(*parts, "")


def crop_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """A crop hash sits a few bits from its own pHash (2-8 on the corpus): flip 3 bits."""
    bits = rng.integers(0, 64, (3, n)).astype(np.uint64)
    return (np.uint64(1) << bits[0]) ^ (np.uint64(1) << bits[1]) ^ (np.uint64(1) << bits[2])


def write_parts(out: Path, content: np.ndarray, phash: np.ndarray, seed: int) -> int:
    """figures/part-NNNNN.parquet of ROWS_PER_PART rows; keys built with pyarrow compute."""
    rng = np.random.default_rng(seed + 1)
    folder = out / "figures"
    folder.mkdir(parents=True)
    n = len(phash)
    for p, lo in enumerate(range(0, n, ROWS_PER_PART)):
        hi = min(lo + ROWS_PER_PART, n)
        idx = np.arange(lo, hi)
        pmcid = pc.binary_join_element_wise("PMC", pa.array(idx // 5 + 1000).cast(pa.string()), "")
        key = pc.binary_join_element_wise(pmcid, pa.array(idx % 5).cast(pa.string()), "_fig")
        side = rng.integers(200, 3000, (2, hi - lo)).astype(np.int32)
        table = pa.table(
            {
                "key": key,
                "pmcid": pmcid,
                "width": np.minimum(side[0], 1024).astype(np.int32),
                "height": np.minimum(side[1], 1024).astype(np.int32),
                "orig_width": side[0],
                "orig_height": side[1],
                "sha256": sha_hex(content[lo:hi]),
                "phash": phash[lo:hi],
                "phash_crop": phash[lo:hi] ^ crop_noise(rng, hi - lo),
                "dhash": splitmix(phash[lo:hi]),
                "gray_std": rng.uniform(10, 90, hi - lo).astype(np.float32),
                "image": pa.array([b""] * (hi - lo), pa.binary()),
            }
        )
        pq.write_table(table, folder / f"part-{p:05d}.parquet", compression="zstd")
    return n


class PeakRSS:
    """Peak of the summed RSS of this process and all its descendants, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a process may have just exited
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def check(out: Path, near: np.ndarray, exact: np.ndarray) -> dict[str, int]:
    """How many planted pairs did not end up in one cluster (rows looked up by key)."""
    table = pq.read_table(out / CLUSTERS, columns=["key", "cluster_id", "reason"])
    row = _row_of_key(table["key"])
    cid = table["cluster_id"].to_numpy(zero_copy_only=False)[row]

    def missed(pairs: np.ndarray) -> int:
        return int((cid[pairs[:, 0]] != cid[pairs[:, 1]]).sum())

    reasons = pc.value_counts(table["reason"]).to_pylist()
    return {
        "near_planted": len(near),
        "near_missed": missed(near),
        "exact_planted": len(exact),
        "exact_missed": missed(exact),
        **{f"reason_{r['values']}": r["counts"] for r in reasons},
    }


def _row_of_key(keys: pa.ChunkedArray) -> np.ndarray:
    """Generation row index of each key (PMC<i//5+1000>_fig<i%5>), in the table's order."""
    parts = pc.split_pattern(keys, "_fig")
    pmc = pc.cast(pc.utf8_slice_codeunits(pc.list_element(parts, 0), 3), pa.int64()).to_numpy()
    fig = pc.cast(pc.list_element(parts, 1), pa.int64()).to_numpy()
    gen = (pmc - 1000) * 5 + fig
    order = np.empty(len(gen), dtype=np.int64)
    order[gen] = np.arange(len(gen))
    return order


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=15_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--near-distance", type=int, default=Config().near_distance)
    ap.add_argument("--dir", default=None, help="build folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        content, phash, near, exact = plant(args.n, args.seed)
        write_parts(out, content, phash, args.seed)
        del content, phash
        gen_s = time.perf_counter() - t0
        config = Config(
            out=str(out), workers=args.workers, near_distance=args.near_distance, progress=False
        )
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            with dask_client(config) as client:
                summary = run_dedupe(config, client)
            wall = time.perf_counter() - t0
        result = {
            "n": args.n,
            "generate_s": round(gen_s, 1),
            "dedupe_wall_s": round(wall, 1),
            "peak_rss_gb": round(rss.peak / 2**30, 2),
            **check(out, near, exact),
            "summary": summary,
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
