"""The report stage on a small synthetic build folder written in every stage's file contract.

The build has 3 manifest partitions of 3 articles, one article whose fetch failed, one whose
XML did not parse, figures without a graphic and failed figures with error rows, exact
duplicates, two splits with shards (one dropped duplicate, panels), so every funnel check
has something to add up.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from pmc_pipeline import report as rp
from pmc_pipeline.config import Config
from pmc_pipeline.errors import ERROR_SCHEMA
from pmc_pipeline.schema import arrow_schema
from pmc_pipeline.stages.report import BUILD_JSON, REPORT_HTML, run_report
from pmc_pipeline.storage import Store, part_name

LICENSES = ["CC BY", "CC BY-NC", None]
FETCH_FAILED = "PMC5"
XML_BROKEN = "PMC9"
NO_GRAPHIC = {"PMC1"}  # its last figure has no <graphic>
FAILED = {"PMC2_F2": "ImageError", "PMC7_F1": "Unresolved"}
DUPLICATES = {"PMC4_F1": "PMC3_F1", "PMC7_F2": "PMC3_F1"}  # key -> representative
TEST_SPLIT = {"PMC8"}  # its figures go to the test split


def jpeg(seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG")
    return out.getvalue()


def figure_row(key: str, pmcid: str, license_code: str | None, n: int) -> dict:
    return {
        "key": key,
        "pmcid": pmcid,
        "version": 1,
        "license_code": license_code,
        "fig_id": key.split("_", 1)[1],
        "caption": f'Figure {n} of {pmcid}: <b>x</b> & "y" ' + "word " * (n * 7),
        "context": "",
        "mentions": [],
        "href": key,
        "file": f"{key}.jpg",
        "position": n,
        "image": jpeg(n),
        "width": 48,
        "height": 32,
        "orig_format": "JPEG",
        "orig_width": 48 * n,
        "orig_height": 32 * n,
        "orig_bytes": 1000,
        "sha256": "0" * 64,
        "phash": n,
        "phash_crop": n,
        "dhash": n,
        "gray_std": 50.0,
    }


def write_json(store: Store, rel: str, data: dict) -> None:
    store.write_bytes(rel, json.dumps(data).encode())


def build_folder(root: Path) -> Store:
    """Every stage's output for 9 kept articles (PMC1..PMC9) in 3 partitions."""
    store = Store(str(root))
    write_json(
        store,
        "manifest/_SUCCESS.json",
        {
            "versions_listed": 14,
            "superseded_versions": 2,
            "articles_listed": 12,
            "articles_kept": 9,
            "excluded": {"license": 2, "retracted": 1},
            "removed": 0,
            "partitions": 3,
        },
    )
    store.write_table(
        "manifest/excluded.parquet",
        pa.table({"pmcid": ["PMC10", "PMC11", "PMC12"], "reason": ["license"] * 2 + ["retracted"]}),
    )
    clusters = []
    for p in range(3):
        pmcids = [f"PMC{3 * p + i + 1}" for i in range(3)]
        lic = [LICENSES[int(x[3:]) % 3] for x in pmcids]
        store.write_table(
            f"manifest/{part_name(p, '.parquet')}",
            pa.table({"pmcid": pmcids, "version": [1] * 3, "license_code": lic}),
        )
        fetched = [x for x in pmcids if x != FETCH_FAILED]
        ferr = [
            {
                "id": x,
                "stage": "fetch",
                "partition": p,
                "error_class": "SourceError",
                "message": "404",
            }
            for x in pmcids
            if x == FETCH_FAILED
        ]
        store.write_table(
            f"errors/fetch/{part_name(p, '.parquet')}", pa.Table.from_pylist(ferr, ERROR_SCHEMA)
        )
        write_json(
            store,
            f"stats/fetch/{part_name(p, '.json')}",
            {
                "partition": p,
                "skipped": False,
                "articles": len(fetched),
                "articles_failed": len(ferr),
                "images": 2 * len(fetched),
                "images_failed": 0,
                "bytes": 5000 * len(fetched),
                "errors": {"SourceError": len(ferr)} if ferr else {},
            },
        )
        rows, errs = [], []
        found = without = 0
        for pmcid, license_code in zip(pmcids, lic, strict=True):
            if pmcid == FETCH_FAILED:
                continue
            if pmcid == XML_BROKEN:
                errs.append((pmcid, "JatsError"))
                continue
            n_figs = int(pmcid[3:]) % 3 + 1
            found += n_figs + (pmcid in NO_GRAPHIC)
            without += pmcid in NO_GRAPHIC
            for n in range(1, n_figs + 1):
                key = f"{pmcid}_F{n}"
                if key in FAILED:
                    errs.append((key, FAILED[key]))
                    continue
                rows.append(figure_row(key, pmcid, license_code, n))
                split = "test" if pmcid in TEST_SPLIT else "train"
                clusters.append((key, DUPLICATES.get(key, key), split))
        errs.append((f"PMC{3 * p + 1}.1", "Unexpected"))  # a folder-level row, not a figure
        store.write_table(
            f"errors/extract/{part_name(p, '.parquet')}",
            pa.Table.from_pylist(
                [
                    {"id": i, "stage": "extract", "partition": p, "error_class": c, "message": "m"}
                    for i, c in errs
                ],
                ERROR_SCHEMA,
            ),
        )
        failed = sum(1 for i, _ in errs if i in FAILED)
        write_json(
            store,
            f"stats/extract/{part_name(p, '.json')}",
            {
                "partition": p,
                "skipped": False,
                "articles": len(fetched),
                "articles_failed": sum(1 for i, c in errs if c == "JatsError"),
                "figures_found": found,
                "figures_without_graphic": without,
                "figures_failed": failed,
                "figures_extracted": len(rows),
                "errors": {},
            },
        )
        store.write_table(
            f"figures/{part_name(p, '.parquet')}",
            pa.Table.from_pylist(rows, schema=arrow_schema("figure")),
        )
    keys, reps, splits = zip(*sorted(clusters), strict=True)
    store.write_table(
        "dedupe/clusters.parquet",
        pa.table(
            {
                "key": keys,
                "cluster_id": [r.encode().hex()[:16] for r in reps],
                "representative": reps,
                "reason": [
                    "exact" if k != r else "unique" for k, r in zip(keys, reps, strict=True)
                ],
                "distance": [0] * len(keys),
                "degenerate": [False] * len(keys),
                "split": splits,
            }
        ),
    )
    write_json(store, "dedupe/summary.json", {"figures": len(keys), "clusters": len(set(reps))})
    store.write_table(
        f"panels/{part_name(0, '.parquet')}",
        pa.table({"key": ["PMC3_F1_p0", "PMC3_F1_p1"], "parent_key": ["PMC3_F1"] * 2}),
    )
    per_split = {s: [k for k, _, sp in clusters if sp == s] for s in ("train", "test")}
    for split, members in per_split.items():
        dropped = sum(1 for k in members if k in DUPLICATES)
        panels = 2 if split == "train" else 0
        count = len(members) - dropped + panels
        write_json(
            store,
            f"shards/{split}/00000_stats.json",
            {
                "shard": 0,
                "split": split,
                "count": count,
                "bytes": 999,
                "duplicates_dropped": dropped,
                "panels": panels,
                "duration_s": 0.25,
            },
        )
        write_json(store, f"shards/{split}/sizes.json", {"00000.tar": count})
        store.write_bytes(f"shards/{split}/00000.tar", b"")
    return store


@pytest.fixture
def build(tmp_path: Path) -> Store:
    return build_folder(tmp_path / "out")


def report(store: Store) -> dict:
    return run_report(Config(out=store.uri, progress=False))


class Page(HTMLParser):
    """Collects what the test asserts on: attributes with URLs, svg count, visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.svgs = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.svgs += tag == "svg"
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


# ------------------------------------------------------------------ the stage


def test_funnel_adds_up(build: Store) -> None:
    f = report(build)
    assert {name: c["status"] for name, c in f["checks"].items()} == dict.fromkeys(
        f["checks"], "ok"
    )
    assert f["ok"] and f["unreadable"] == []
    a, fig = f["articles"], f["figures"]
    assert (a["listed"], a["kept"], a["excluded"]) == (12, 9, {"license": 2, "retracted": 1})
    assert (a["fetched"], a["fetch_failed"], a["extracted"], a["extract_failed"]) == (8, 1, 7, 1)
    # PMC1,2,3,4,6,7,8: 2+3+1+2+1+2+3 figures, plus PMC1's figure without a graphic
    assert (fig["found"], fig["without_graphic"]) == (15, 1)
    assert fig["failed"] == {"ImageError": 1, "Unresolved": 1}
    assert fig["extracted"] == 12 and fig["split"] == {"test": 3, "train": 9}
    assert (fig["duplicates"], fig["duplicates_dropped"]) == (2, 2)
    assert fig["written"] == {"test": 3, "train": 7}
    assert (fig["panels_found"], fig["panels_written"]) == (2, 2)
    assert f["errors"]["extract"] == {
        "ImageError": 1,
        "JatsError": 1,
        "Unexpected": 3,
        "Unresolved": 1,
    }
    assert f["checks"]["fetch"]["right"] == {"fetched": 8, "fetch_failed": 1}


def test_build_json_is_written_sorted(build: Store) -> None:
    f = report(build)
    text = build.read_bytes(BUILD_JSON).decode()
    saved = json.loads(text)
    assert saved["funnel"] == json.loads(json.dumps(f))
    assert text == json.dumps(saved, indent=2, sort_keys=True) + "\n"
    h = saved["histograms"]
    assert set(h) == set(rp.HISTOGRAM_TITLES)
    assert sum(h["license_figures"]["counts"]) == 12
    assert sum(h["caption_words"]["counts"]) == sum(h["image_side"]["counts"]) == 12
    # 7 articles with figures; none extracted without figures
    assert sum(h["figures_per_article"]["counts"]) == 7
    assert h["cluster_size"]["counts"][:3] == [9, 0, 1]  # 9 singletons, one cluster of 3
    assert saved["timings"]["shard_s"] == {"test": 0.25, "train": 0.25}


def test_a_broken_count_fails_its_check(build: Store) -> None:
    rel = "stats/extract/part-00001.json"
    stats = json.loads(build.read_bytes(rel))
    stats["figures_found"] += 1  # a figure that vanished without an error row
    write_json(build, rel, stats)
    f = report(build)
    failed = {name for name, c in f["checks"].items() if c["status"] == "failed"}
    assert failed == {"figures"}
    assert not f["ok"] and f["checks"]["figures"]["ok"] is False
    assert f["checks"]["figures"]["left"] == 16
    assert "<tr class=failed><td>figures</td>" in build.read_bytes(REPORT_HTML).decode()


def test_a_dropped_shard_sample_fails_shards(build: Store) -> None:
    rel = "shards/train/00000_stats.json"
    stats = json.loads(build.read_bytes(rel))
    stats["count"] -= 1
    write_json(build, rel, stats)
    f = report(build)
    assert {n for n, c in f["checks"].items() if not c["ok"] and c["ok"] is not None} == {
        "shards",
        "shard_sizes",
    }


def test_html_is_self_contained_and_escaped(build: Store) -> None:
    report(build)
    html = build.read_bytes(REPORT_HTML).decode()
    page = Page()
    page.feed(html)
    page.close()
    assert page.svgs == len(rp.HISTOGRAM_TITLES)
    assert page.urls and all(u.startswith("data:image/jpeg;base64,") for u in page.urls)
    assert len(page.urls) == 12  # fewer figures than the sample size: all of them
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;" in html
    assert "<b>x</b>" not in html
    assert "PMC1_F1" in "".join(page.text)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)


def test_partial_build_skips_missing_stages(tmp_path: Path) -> None:
    full = build_folder(tmp_path / "full")
    part = Store(str(tmp_path / "part"))
    for rel in ["manifest/_SUCCESS.json", "stats/fetch/part-00000.json"]:
        part.write_bytes(rel, full.read_bytes(rel))
    for p in range(3):
        rel = f"manifest/{part_name(p, '.parquet')}"
        part.write_bytes(rel, full.read_bytes(rel))
    f = report(part)
    status = {name: c["status"] for name, c in f["checks"].items()}
    assert status["list"] == status["manifest"] == status["fetch"] == "ok"
    assert f["checks"]["fetch"]["partitions"] == 1 and f["checks"]["fetch"]["partitions_total"] == 3
    assert {s for n, s in status.items() if n not in ("list", "manifest", "fetch")} == {"skipped"}
    assert f["ok"] and f["figures"]["extracted"] is None
    assert part.exists(BUILD_JSON) and part.exists(REPORT_HTML)


def test_empty_build_folder(tmp_path: Path) -> None:
    f = run_report(Config(out=str(tmp_path)))
    assert {c["status"] for c in f["checks"].values()} == {"skipped"}
    assert f["ok"] and f["articles"]["listed"] is None
    assert json.loads(Store(str(tmp_path)).read_bytes(BUILD_JSON))["histograms"] == {}


def test_unreadable_file_is_reported_not_raised(build: Store) -> None:
    build.write_bytes("stats/fetch/part-00002.json", b"{not json")
    build.write_bytes("shards/test/sizes.json", b"[1, 2]")
    f = report(build)
    assert len(f["unreadable"]) == 2 and "part-00002.json" in f["unreadable"][0]
    assert "expected a JSON object" in f["unreadable"][1]
    assert not f["ok"]
    assert f["checks"]["extract_articles"]["status"] == "failed"  # part 2's fetch is unknown
    assert "Unreadable files" in build.read_bytes(REPORT_HTML).decode()


# ------------------------------------------------------------------ pure helpers


def test_binned_and_labels() -> None:
    edges = (0, 1, 5, 10)
    assert rp.bin_labels(edges) == ["0", "1–4", "5–9", "≥10"]
    assert rp.binned([0, 1, 4, 5, 9, 10, 1000], edges).tolist() == [1, 2, 2, 2]
    assert rp.binned(pa.array([3, 3], pa.int32()), edges).tolist() == [0, 2, 0, 0]
    assert rp.binned([], edges).tolist() == [0, 0, 0, 0]


def test_text_and_group_helpers() -> None:
    captions = ["a b  c", "", None, " one\ttwo\n", "x\u00a0y\u2009z é"]
    assert rp.caption_words(captions).tolist() == [3, 0, 0, 2, 4]
    assert sorted(rp.figures_per_article(pa.array(["P1", "P2", "P1"])).tolist()) == [1, 2]
    assert sorted(rp.cluster_sizes(pa.array(["r1", "r1", "r2"])).tolist()) == [2, 3]
    assert rp.cluster_sizes(pa.array([], pa.string())).tolist() == []
    counts = rp.category_counts(["CC BY", None, "CC BY", "CC0"])
    assert rp.categories(counts) == {"labels": ["CC BY", "CC0", "none"], "counts": [2, 1, 1]}


def test_equation_and_skipped() -> None:
    good = rp.equation("a == b + c", 5, {"b": 2, "c": 3})
    assert good["ok"] is True and good["status"] == "ok"
    bad = rp.equation("a == b", 5, {"b": 4})
    assert bad["ok"] is False and bad["status"] == "failed"
    assert rp.skipped("r", "why")["ok"] is None


def test_keep_duplicates_shards_still_add_up() -> None:
    """With --keep-duplicates nothing is dropped and every figure is written."""
    clusters = {"train": {"figures": 5, "duplicates": 2}}
    shard = {"count": 5, "bytes": 1, "duplicates_dropped": 0, "panels": 0, "duration_s": 1}
    f = rp.funnel({"figure_rows": {0: 5}, "clusters": clusters, "shards": {"train": [shard]}})
    assert f["checks"]["shards"]["ok"] and f["checks"]["dedupe"]["ok"]
    assert f["checks"]["shard_sizes"]["ok"] is False  # no sizes.json


def test_thumbnail_and_svg() -> None:
    thumb = rp.thumbnail(jpeg(1, (800, 400)))
    assert thumb is not None and Image.open(io.BytesIO(thumb)).size == (rp.THUMB_SIDE, 96)
    assert rp.thumbnail(b"not an image") is None
    svg = rp.svg_bars("T <1>", ["a&b", "c"], [10, 0])
    assert svg.count("<rect") == 2 and "a&amp;b" in svg and "T &lt;1&gt;" in svg
