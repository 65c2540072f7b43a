"""The ``report`` stage: read what the build has written so far, write ``build.json``,
``report/index.html`` and, once split has run, ``report/split.html``.

It reads only small things: stats JSONs, Parquet footers and narrow columns (never the
``image`` column, except the first rows of the first figures part for the sample grid
and the row groups holding the few figures split.html shows), and reduces each part as it
goes, so memory stays flat on a 15M-figure build. Files are
read by a thread pool because on S3 each is a round trip. A stage that has not run is a
``skipped`` check; a file that cannot be read is listed, fails the verdict, and does not
stop the report. Runs any time, in the driver: no Dask needed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .. import report as rp
from .. import split_page
from ..config import Config
from ..licenses import license_summary
from ..storage import Store, partition_of
from .card import read_sample_licenses, write_card
from .parts import figures_path
from .plan import PLAN_JSON

T = TypeVar("T")

BUILD_JSON = "build.json"
REPORT_HTML = "report/index.html"
SPLIT_HTML = "report/split.html"
TIMINGS_JSON = "timings.json"  # optional {stage: seconds}, written by whoever times the build
SAMPLES = 24
THREADS = 16
CLUSTER_BATCH = 1 << 20
FIGURE_ID = re.compile(r"^PMC\d+_")  # error rows about one figure carry its sample key
FIGURE_COLUMNS = ["pmcid", "license_code", "caption", "orig_width", "orig_height"]
SAMPLE_COLUMNS = ["key", "license_code", "caption", "image"]
PANEL_COLUMNS = [
    "parent_key",
    "panel_index",
    "box",
    "label",
    "subcaption",
    "aligned",
    "decision",
    "reason",
    "confidence",
]
READ_ERRORS = (OSError, ValueError, KeyError, pa.ArrowException)


class BuildFiles:
    """Reads build files through the Store, recording (not raising) unreadable ones."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.unreadable: list[str] = []

    def each(self, fn: Callable[[str], T], rels: Iterable[str]) -> dict[str, T]:
        """``fn`` over ``rels`` in a thread pool; files whose read fails are left out."""

        def guarded(rel: str) -> tuple[str, T | None, str | None]:
            try:
                return rel, fn(rel), None
            except READ_ERRORS as exc:
                return rel, None, f"{rel}: {type(exc).__name__}: {exc}"

        out = {}
        with ThreadPoolExecutor(THREADS) as pool:
            for rel, value, problem in pool.map(guarded, list(rels)):
                if problem:
                    self.unreadable.append(problem)
                else:
                    out[rel] = value
        return out

    def json(self, rel: str) -> dict:
        """A JSON object (every build JSON is one); anything else counts as unreadable."""
        data = json.loads(self.store.read_bytes(rel))
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return data

    def json_if_exists(self, rel: str) -> dict | None:
        return self.each(self.json, [rel]).get(rel) if self.store.exists(rel) else None

    def num_rows(self, rel: str) -> int:
        with self.store.open_read(rel) as f:
            return pq.ParquetFile(f).metadata.num_rows

    def subdirs(self, rel: str) -> list[str]:
        """Folder names directly under ``rel``: the stages in errors/, the splits in shards/."""
        selector = pafs.FileSelector(self.store.path(rel), allow_not_found=True)
        infos = self.store.fs.get_file_info(selector)
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)


def by_partition(found: dict[str, T]) -> dict[int, T]:
    return {partition_of(rel): v for rel, v in found.items()}


def read_manifest(files: BuildFiles) -> tuple[dict[int, int], Counter]:
    """Kept articles per partition and their license mix (one narrow column)."""
    rels = [r for r in files.store.list("manifest", ".parquet") if "part-" in r]
    tables = files.each(lambda rel: files.store.read_table(rel, ["license_code"]), rels)
    licenses: Counter = Counter()
    for t in tables.values():
        licenses += rp.category_counts(t.column("license_code").to_pylist())
    return {p: t.num_rows for p, t in by_partition(tables).items()}, licenses


def read_errors(files: BuildFiles) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Error rows by stage and class, and the extract rows that concern one figure."""
    by_stage: dict[str, dict[str, int]] = {}
    figure_rows: Counter = Counter()
    for stage in files.subdirs("errors"):
        rels = files.store.list(f"errors/{stage}", ".parquet")
        tables = files.each(lambda rel: files.store.read_table(rel, ["id", "error_class"]), rels)
        counts: Counter = Counter()
        for t in tables.values():
            ids, classes = t.column("id").to_pylist(), t.column("error_class").to_pylist()
            counts.update(classes)
            if stage == "extract":
                figure_rows.update(c for i, c in zip(ids, classes, strict=True) if _figure_id(i))
        by_stage[stage] = dict(counts)
    return by_stage, dict(figure_rows)


def _figure_id(item_id: str | None) -> bool:
    return bool(item_id and FIGURE_ID.match(item_id))


def figure_part_summary(store: Store, rel: str) -> dict[str, Any]:
    """Rows and additive histogram counts of one figures part (narrow columns only)."""
    t = store.read_table(rel, FIGURE_COLUMNS)
    return {
        "rows": t.num_rows,
        "articles": len(pc.unique(t.column("pmcid"))),
        "licenses": rp.category_counts(t.column("license_code").to_pylist()),
        "image_side": rp.binned(
            rp.longer_side(t.column("orig_width"), t.column("orig_height")), rp.IMAGE_SIDE_EDGES
        ),
        "caption_words": rp.binned(
            rp.caption_words(t.column("caption").to_pylist()), rp.CAPTION_WORD_EDGES
        ),
        "figures_per_article": rp.binned(
            rp.figures_per_article(t.column("pmcid")), rp.FIGURES_PER_ARTICLE_EDGES
        ),
    }


def read_figures(files: BuildFiles) -> tuple[dict[int, int], dict[str, Any]]:
    """Rows per figures part and the figure histograms, summed over parts."""
    rels = files.store.list("figures", ".parquet")
    parts = files.each(lambda rel: figure_part_summary(files.store, rel), rels)
    total: dict[str, Any] = {"articles": 0, "licenses": Counter()}
    for key, edges in (
        ("image_side", rp.IMAGE_SIDE_EDGES),
        ("caption_words", rp.CAPTION_WORD_EDGES),
        ("figures_per_article", rp.FIGURES_PER_ARTICLE_EDGES),
    ):
        total[key] = np.zeros(len(edges), dtype=np.int64)
    for s in parts.values():
        for key in total:
            total[key] += s[key]
    return {p: s["rows"] for p, s in by_partition(parts).items()}, total


def read_clusters(files: BuildFiles, rel: str = "dedupe/clusters.parquet") -> dict | None:
    """Figures and duplicates per split, and cluster sizes, streamed in batches: only the
    representatives of duplicates (a minority) are held."""

    def scan(rel: str) -> dict:
        splits: dict[str, dict[str, int]] = {}
        reps, singles = [], 0
        with files.store.open_read(rel) as f:
            columns = ["key", "representative", "reason", "split"]
            for batch in pq.ParquetFile(f).iter_batches(CLUSTER_BATCH, columns=columns):
                dup = pc.not_equal(batch.column("key"), batch.column("representative"))
                published = pc.equal(batch.column("reason"), "published")
                split = batch.column("split")
                for s in pc.unique(split).to_pylist():
                    in_split = pc.equal(split, s)
                    c = splits.setdefault(s, {"figures": 0, "duplicates": 0, "published": 0})
                    c["figures"] += pc.sum(in_split).as_py() or 0
                    c["duplicates"] += pc.sum(pc.and_(in_split, dup)).as_py() or 0
                    c["published"] += pc.sum(pc.and_(in_split, published)).as_py() or 0
                reps.append(pc.filter(batch.column("representative"), dup))
                singles += len(batch) - len(reps[-1])
        sizes = rp.cluster_sizes(pa.chunked_array(reps, pa.string()))
        counts = rp.binned(sizes, rp.CLUSTER_SIZE_EDGES)
        counts[0] += singles - len(sizes)  # representatives of clusters with duplicates
        return {"splits": splits, "cluster_size": counts}

    if not files.store.exists(rel):
        return None
    return files.each(scan, [rel]).get(rel)


def read_shards(files: BuildFiles) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Every shard's stats and each split's sizes.json."""
    stats, sizes = {}, {}
    for split in files.subdirs("shards"):
        rels = files.store.list(f"shards/{split}", "_stats.json")
        if rels:
            stats[split] = list(files.each(files.json, rels).values())
        found = files.json_if_exists(f"shards/{split}/sizes.json")
        if found is not None:
            sizes[split] = found
    return stats, sizes


def read_samples(files: BuildFiles, n: int = SAMPLES) -> list[dict]:
    """The first ``n`` figures of the first parts. Parquet readers decode whole row groups,
    so this reads one row group of images (<= 1000, ~70 MB at the corpus' 70 KB a figure)."""
    samples: list[dict] = []

    def first_rows(rel: str) -> list[dict]:
        with files.store.open_read(rel) as f:
            batches = pq.ParquetFile(f).iter_batches(n - len(samples), columns=SAMPLE_COLUMNS)
            return next(batches, pa.RecordBatch.from_pylist([])).to_pylist()

    for rel in files.store.list("figures", ".parquet"):
        if len(samples) >= n:
            break
        for row in files.each(first_rows, [rel]).get(rel, []):
            samples.append({**row, "thumbnail": rp.thumbnail(row.pop("image"))})
    return samples


def panel_part_summary(store: Store, rel: str, n: int = split_page.SAMPLES) -> dict[str, Any]:
    """Accepted panel rows of one panels part, and the rows (no images) of the ``n``
    accepted and ``n`` rejected figures of lowest :func:`split_page.sample_rank` in it: the
    build's sample is among the union of the parts' samples, so memory stays flat. A part
    written before split decisions has no ``decision``: every row counts as accepted."""
    with store.open_read(rel) as f:
        pf = pq.ParquetFile(f)
        names = set(pf.schema_arrow.names)
        t = pf.read(columns=[c for c in PANEL_COLUMNS if c in names])
    if "decision" in names:
        decision = pc.fill_null(t.column("decision"), "accepted")
    else:
        decision = pa.chunked_array([pa.array(["accepted"] * t.num_rows, pa.string())])
    accepted = pc.equal(decision, "accepted")
    verdict = dict(zip(t.column("parent_key").to_pylist(), decision.to_pylist(), strict=True))
    chosen = {}
    for state in ("accepted", "rejected"):
        keys = [k for k, d in verdict.items() if (d == "accepted") == (state == "accepted")]
        chosen[state] = sorted(keys, key=split_page.sample_rank)[:n]
    wanted = pc.is_in(
        t.column("parent_key"), pa.array([*chosen["accepted"], *chosen["rejected"]], pa.string())
    )
    rows: dict[str, list[dict]] = {}
    for row in t.filter(wanted).to_pylist():
        rows.setdefault(row["parent_key"], []).append(row)
    return {
        "accepted_rows": pc.sum(accepted).as_py() or 0,
        "samples": {s: [(k, rows[k]) for k in keys] for s, keys in chosen.items()},
    }


def read_panels(
    files: BuildFiles, rels: list[str], n: int = split_page.SAMPLES
) -> tuple[dict[int, int], dict]:
    """Accepted panel rows per panels part (``rels``), and the build's sample of accepted
    and rejected figures: {"accepted"|"rejected": [(partition, parent key, panel rows)]} in
    sample order."""
    parts = by_partition(files.each(lambda rel: panel_part_summary(files.store, rel, n), rels))
    samples = {}
    for state in ("accepted", "rejected"):
        found = [(p, k, rows) for p, s in parts.items() for k, rows in s["samples"][state]]
        samples[state] = sorted(found, key=lambda x: split_page.sample_rank(x[1]))[:n]
    return {p: s["accepted_rows"] for p, s in parts.items()}, samples


def read_parents(store: Store, rel: str, keys: set[str]) -> dict[str, dict]:
    """``key``, ``caption`` and ``image`` of the figures ``keys`` of one figures part,
    reading only the row groups that hold them (parts are written in groups of 1000 rows)."""
    with store.open_read(rel) as f:
        pf = pq.ParquetFile(f)
        value_set = pa.array(sorted(keys), pa.string())
        found: dict[str, dict] = {}
        for g in range(pf.num_row_groups):
            group_keys = pf.read_row_group(g, columns=["key"]).column("key")
            if not pc.any(pc.is_in(group_keys, value_set)).as_py():
                continue
            t = pf.read_row_group(g, columns=["key", "caption", "image"])
            t = t.filter(pc.is_in(t.column("key"), value_set))
            found.update((r["key"], r) for r in t.to_pylist())
    return found


def render_split(files: BuildFiles, counts: dict | None, samples: dict) -> str:
    """split.html for the sampled figures, with their images read from figures/."""
    wanted: dict[int, set[str]] = {}
    for found in samples.values():
        for p, key, _ in found:
            wanted.setdefault(p, set()).add(key)
    read = files.each(
        lambda rel: read_parents(files.store, rel, wanted[partition_of(rel)]),
        [figures_path(p) for p in wanted],
    )
    parents = {k: r for found in read.values() for k, r in found.items()}

    def blocks(state: str) -> list[tuple[dict, list[dict]]]:
        return [(parents.get(k, {"key": k}), rows) for _, k, rows in samples[state]]

    return split_page.render_split_page(counts or {}, blocks("accepted"), blocks("rejected"))


def load_inputs(files: BuildFiles) -> tuple[dict[str, Any], dict[str, dict]]:
    """Everything the funnel and the histograms need, read from the build folder."""
    store = files.store
    manifest_rows, article_licenses = read_manifest(files)
    fetch = files.each(files.json, store.list("stats/fetch", ".json"))
    extract = by_partition(files.each(files.json, store.list("stats/extract", ".json")))
    errors, figure_errors = read_errors(files)
    figure_rows, fig = read_figures(files)
    clusters = read_clusters(files)
    shard_stats, sizes = read_shards(files)
    split = by_partition(files.each(files.json, store.list("stats/split", ".json")))
    inputs = {
        "manifest": files.json_if_exists("manifest/_SUCCESS.json"),
        "manifest_rows": manifest_rows,
        "fetch": by_partition(fetch),
        "extract": extract,
        "errors": errors,
        "extract_figure_errors": figure_errors,
        "figure_rows": figure_rows,
        "dedupe": files.json_if_exists("dedupe/summary.json"),
        "clusters": clusters["splits"] if clusters else None,
        "shards": shard_stats,
        "sizes": sizes,
        "split": split,
        "plan": files.json_if_exists(PLAN_JSON),
    }
    # articles that were read fine but hold no extracted figure
    articles_ok = sum(s.get("articles", 0) - s.get("articles_failed", 0) for s in extract.values())
    fig["figures_per_article"][0] += max(0, articles_ok - fig["articles"])
    histograms = {}
    if manifest_rows:
        histograms["license_articles"] = rp.categories(article_licenses)
    if figure_rows:
        histograms["license_figures"] = rp.categories(fig["licenses"])
        histograms["image_side"] = rp.histogram(fig["image_side"], rp.IMAGE_SIDE_EDGES)
        histograms["caption_words"] = rp.histogram(fig["caption_words"], rp.CAPTION_WORD_EDGES)
        histograms["figures_per_article"] = rp.histogram(
            fig["figures_per_article"], rp.FIGURES_PER_ARTICLE_EDGES
        )
    if clusters:
        histograms["cluster_size"] = rp.histogram(clusters["cluster_size"], rp.CLUSTER_SIZE_EDGES)
    return inputs, histograms


def timings(recorded: dict | None, shards: dict[str, dict] | None) -> dict[str, Any]:
    """Stage timings where the build recorded them (timings.json, shard durations)."""
    out: dict[str, Any] = {}
    if recorded is not None:
        out["stages_s"] = recorded
    if shards:
        out["shard_s"] = {s: t["duration_s"] for s, t in shards.items()}
    return out


def run_report(config: Config) -> dict:
    """Write ``build.json`` and ``report/index.html`` for the build so far; returns the funnel."""
    store = config.store
    files = BuildFiles(store)
    inputs, histograms = load_inputs(files)
    samples = read_samples(files)
    panel_rels = store.list("panels", ".parquet")
    has_panels = bool(panel_rels)
    if has_panels:
        inputs["panels"], panel_samples = read_panels(files, panel_rels)
    recorded = files.json_if_exists(TIMINGS_JSON)
    inputs["unreadable"] = files.unreadable
    inputs["keep_duplicates"] = config.keep_duplicates
    result = rp.funnel(inputs)
    licenses = read_sample_licenses(files)
    if licenses.per_split:
        histograms["license_samples"] = rp.categories(licenses.codes)
    build = {"funnel": result, "histograms": histograms}
    build["licenses"] = license_summary(licenses.codes, config.licenses)
    if spent := timings(recorded, result["shards"]):
        build["timings"] = spent
    store.write_bytes(BUILD_JSON, (json.dumps(build, indent=2, sort_keys=True) + "\n").encode())
    if has_panels:
        page = render_split(files, result["split_stage"], panel_samples)
        store.write_bytes(SPLIT_HTML, page.encode())
    links = [("split.html", "Split decisions")] if has_panels else []
    html = rp.render_html(result, histograms, samples, links, build["licenses"]["notes"])
    store.write_bytes(REPORT_HTML, html.encode())
    write_card(config, store, inputs, result, licenses)
    return result
