"""What a build will cost, from a sample of its articles (pure: records in, numbers out).

``plan`` reads a seeded random sample of the listed articles (their metadata, XML and the
sizes of their images) and scales each measured quantity to every listed article, with a
95% confidence interval from the sample's spread (zero when the sample is every article).
Disk for figures and shards and the CPU time come from per-figure ratios and per-core
throughputs measured by ``bench/`` (the constants below), not from the sample.
"""

from __future__ import annotations

import math
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from .jats import JatsError, parse_article
from .sources.base import row_files, select_media

# Measured 2026-12-03 (UTC) on the project's 2-core development machine, on the real corpus
# (../shared/corpus), in CPU seconds of one process (so other load on the machine does not
# count). Rerun the named bench and update these when a stage changes.
THROUGHPUTS = {
    # bench/extract_bench.py, its run_ours ("ours_figures_per_s_per_core"): hardened parse,
    # href resolution, decode, fit, JPEG, hashes of the 73 corpus figures
    "extract_figures_per_s_per_core": 162.6,
    # bench/subfigures_bench.py, bench_cost on the real figures: 24.36 ms of split_figure
    # per figure (the split stage; not run with panels off), the median of three runs on
    # 2026-12-06 (21.8-29.7 ms)
    "split_figures_per_s_per_core": 41.1,
}
PER_FIGURE_BYTES = {
    # a build of the fixture bucket (tests/fixtures/corpus_bucket.py: 30 articles kept, 73
    # figures extracted, 157 panel samples with split on): figures/*.parquet bytes and
    # shards/ bytes (tar + parquet + json) per extracted figure
    "figures": 65_956,
    "shards": 129_340,
}
BENCH_DATE = "2026-12-03"
Z95 = 1.96
BASIS = {
    "estimates": "sample mean x listed articles; ci95: 1.96 standard errors of that total, "
    "with the finite-population correction (0 when every article is sampled)",
    "throughputs": {**THROUGHPUTS, "measured": BENCH_DATE},
    "per_figure_bytes": {**PER_FIGURE_BYTES, "measured": BENCH_DATE},
    "disk": "bundles: XML + figure images as tar members; figures and shards: figure "
    "images x per_figure_bytes; bundles_discarded_peak: the bundles of 2 partitions per core",
    "hours": "list: (listing + metadata requests) / rps; then, fetch and extract overlapping "
    "per partition, the slowest of fetch's requests / rps, its bytes / bandwidth, and "
    "figure images x CPU seconds per figure (extract, and split unless panels are off) / cores",
}
# plan.json's estimated numbers -> the sampled column they scale (the rest are exact counts)
CI_FIELDS = {
    "articles": "kept",
    "figures": "figures",
    "figure_images": "images",
    "requests": "requests",
    "bytes": "bytes",
}


@dataclass(frozen=True)
class ArticleCost:
    """What one sampled (listed) article costs a build; all zero when list leaves it out.

    ``images``/``image_bytes``: the figure images fetch GETs (a listed one missing from the
    article's prefix is a request of 0 bytes, as fetch's failed GET); ``media``/
    ``media_bytes``: every image the metadata lists (what ``--media all`` would GET).
    """

    kept: int = 0
    figures: int = 0
    images: int = 0
    xml_bytes: int = 0
    image_bytes: int = 0
    media: int = 0
    media_bytes: int = 0
    bundle_bytes: int = 0


def tar_bytes(size: int) -> int:
    """A member's bytes in a tar: its header block and its data padded to whole blocks."""
    return tarfile.BLOCKSIZE + math.ceil(size / tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def article_cost(row: Mapping, xml: bytes | None, sizes: Mapping[str, int]) -> ArticleCost:
    """The cost of one kept article (a manifest row), given its XML (None: the GET failed,
    so fetch makes that one request only) and the sizes of its prefix's objects by key.

    The images are chosen by :func:`sources.base.select_media`, the function fetch uses.
    """
    if xml is None:
        return ArticleCost(kept=1)
    _, *media = row_files(row)
    wanted, _ = select_media(xml, media, lambda f: f.name, "figures")
    try:
        figures = len(parse_article(xml).figures)
    except JatsError:
        figures = 0
    image_bytes = sum(sizes.get(f.key, 0) for f in wanted)
    members = [len(xml), *(sizes[f.key] for f in wanted if f.key in sizes)]
    return ArticleCost(
        kept=1,
        figures=figures,
        images=len(wanted),
        xml_bytes=len(xml),
        image_bytes=image_bytes,
        media=len(media),
        media_bytes=sum(sizes.get(f.key, 0) for f in media),
        bundle_bytes=sum(tar_bytes(n) for n in members),
    )


def sample_indices(population: int, sample: int, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded random sample without replacement; every row when
    ``sample`` is 0 or covers the population."""
    if sample <= 0 or sample >= population:
        return np.arange(population)
    return np.sort(np.random.default_rng(seed).choice(population, size=sample, replace=False))


def scale(values: np.ndarray, population: int) -> tuple[float, float]:
    """Population total from a simple random sample, and its 95% half-width (with the
    finite-population correction: 0 when the sample is the population)."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    total = population * float(values.mean())
    if n >= population or n < 2:
        return total, 0.0 if n >= population else math.inf
    se = population * float(values.std(ddof=1)) / math.sqrt(n) * math.sqrt(1 - n / population)
    return total, Z95 * se


@dataclass(frozen=True)
class Resources:
    """What the user will build with."""

    cores: int
    bandwidth_mb_s: float
    requests_per_second: float
    partition_size: int
    panels: bool  # whether the build runs split (``--panels`` add or only)


def project(
    costs: Sequence[ArticleCost], population: int, listing_requests: int, res: Resources
) -> dict:
    """plan.json's numbers (see ``schemas/plan.schema.json``) from the sampled costs."""
    columns = {
        f.name: np.array([getattr(c, f.name) for c in costs], float) for f in fields(ArticleCost)
    }
    columns["requests"] = columns["kept"] + columns["images"]
    columns["bytes"] = columns["xml_bytes"] + columns["image_bytes"]
    columns["requests_all_media"] = columns["kept"] + columns["media"]
    columns["bytes_all_media"] = columns["xml_bytes"] + columns["media_bytes"]
    est = {k: scale(v, population) for k, v in columns.items()}

    def total(name: str) -> int:
        return round(est[name][0])

    articles, images = total("kept"), total("images")
    fetch = {
        "requests": total("requests"),
        "bytes": total("bytes"),
        "requests_all_media": total("requests_all_media"),
        "bytes_all_media": total("bytes_all_media"),
    }
    fetch["requests_avoided"] = fetch["requests_all_media"] - fetch["requests"]
    fetch["bytes_avoided"] = fetch["bytes_all_media"] - fetch["bytes"]
    requests = {
        "listing": listing_requests,
        "metadata": population,
        "xml": articles,
        "images": fetch["requests"] - articles,
    }
    partitions = math.ceil(articles / res.partition_size) if articles else 0
    bundles = total("bundle_bytes") + partitions * tarfile.RECORDSIZE
    in_flight = min(partitions, 2 * res.cores)  # per core: one extracting, one just fetched
    disk = {
        "bundles": bundles,
        "bundles_discarded_peak": round(bundles * in_flight / partitions) if partitions else 0,
        "figures": images * PER_FIGURE_BYTES["figures"],
        "shards": images * PER_FIGURE_BYTES["shards"],
    }
    disk["total"] = disk["bundles"] + disk["figures"] + disk["shards"]
    disk["total_discard_bundles"] = (
        disk["bundles_discarded_peak"] + disk["figures"] + disk["shards"]
    )
    return {
        "articles": articles,
        "figures": total("figures"),
        "figure_images": images,
        "requests": sum(requests.values()),
        "bytes": fetch["bytes"],
        "requests_by_kind": requests,
        "fetch": fetch,
        "ci95": {name: _round(est[k][1]) for name, k in CI_FIELDS.items()},
        "disk_bytes": disk,
        "hours": hours(requests, fetch["bytes"], images, res),
        "resources": asdict(res),
        "basis": BASIS,
    }


def hours(requests: Mapping[str, int], download: int, images: int, res: Resources) -> dict:
    """Hours of a build: list (its requests at the cap), then fetch and extract overlapping
    per partition, so the slowest of requests, bandwidth and CPU bounds them."""
    rps = res.requests_per_second or math.inf
    listing = (requests["listing"] + requests["metadata"]) / rps / 3600
    bounds = {
        "requests": (requests["xml"] + requests["images"]) / rps / 3600,
        "bandwidth": download / (res.bandwidth_mb_s * 1e6) / 3600,
        "cpu": images * cpu_seconds_per_figure(res.panels) / res.cores / 3600,
    }
    bottleneck = max(bounds, key=bounds.__getitem__)
    return {
        "list": round(listing, 6),
        **{f"build_{k}_bound": round(v, 6) for k, v in bounds.items()},
        "bottleneck": bottleneck,
        "total": round(listing + bounds[bottleneck], 6),
    }


def cpu_seconds_per_figure(panels: bool) -> float:
    """CPU seconds one figure costs extract (and split, when it runs), from the benches;
    list, fetch, dedupe and shard wait on the network or take minutes in all."""
    seconds = 1 / THROUGHPUTS["extract_figures_per_s_per_core"]
    return seconds + (1 / THROUGHPUTS["split_figures_per_s_per_core"] if panels else 0.0)


def _round(x: float) -> int | None:
    return None if math.isinf(x) else round(x)


def summary(plan: Mapping) -> str:
    """A few lines for a person: the estimates with their 95% intervals, disk and hours."""
    ci, disk, h, res = plan["ci95"], plan["disk_bytes"], plan["hours"], plan["resources"]
    s, f, kinds = plan["sample"], plan["fetch"], plan["requests_by_kind"]
    basis = "exact: every article read" if s["exact"] else f"sample of {s['sampled']:,}, 95% CI"

    def pm(name: str) -> str:
        half = ci[name]
        return "" if half == 0 else (" ± ?" if half is None else f" ± {half:,}")

    return "\n".join(
        [
            f"plan for {plan['source']}: {s['listed']:,} articles listed ({basis})",
            f"  articles  {plan['articles']:,}{pm('articles')} kept",
            f"  figures   {plan['figures']:,}{pm('figures')}, "
            f"with an image {plan['figure_images']:,}{pm('figure_images')}",
            f"  requests  {plan['requests']:,}{pm('requests')}: listing {kinds['listing']:,}, "
            f"metadata {kinds['metadata']:,}, XML {kinds['xml']:,}, images {kinds['images']:,}",
            f"  download  {_size(plan['bytes'])}{_size_pm(ci['bytes'])} "
            f"(every image medium: {f['requests_avoided']:,} more GETs, "
            f"{_size(f['bytes_avoided'])} more)",
            f"  disk      bundles {_size(disk['bundles'])}, figures {_size(disk['figures'])}, "
            f"shards {_size(disk['shards'])}: {_size(disk['total'])}; with --discard-bundles "
            f"{_size(disk['total_discard_bundles'])}",
            f"  time      {_duration(h['total'])} at {res['cores']} cores, "
            f"{res['bandwidth_mb_s']:g} MB/s, {res['requests_per_second']:g} requests/s: list "
            f"{_duration(h['list'])}, then the slowest of requests "
            f"{_duration(h['build_requests_bound'])}, bandwidth "
            f"{_duration(h['build_bandwidth_bound'])}, CPU {_duration(h['build_cpu_bound'])}",
        ]
    )


def _size(n: float) -> str:
    """Bytes in decimal units (1 GB = 1e9 bytes)."""
    units = ("B", "KB", "MB", "GB", "TB", "PB")
    i = 0
    while abs(n) >= 1000 and i < len(units) - 1:
        n, i = n / 1000, i + 1
    return f"{n:,.0f} B" if i == 0 else f"{n:,.1f} {units[i]}"


def _duration(hours: float) -> str:
    seconds = hours * 3600
    for unit, length in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds / length:,.1f} {unit}"
    return f"{seconds:.1f} s"


def _size_pm(half: int | None) -> str:
    return "" if half == 0 else (" ± ?" if half is None else f" ± {_size(half)}")
