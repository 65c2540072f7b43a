"""The report stage on a small synthetic build folder written in every stage's file contract.

The build has 3 manifest partitions of 3 articles, one article whose fetch failed, one whose
XML did not parse, figures without a graphic and failed figures with error rows, exact
duplicates, two splits with shards (one dropped duplicate, panels), split stats with an
accepted and a rejected compound figure, so every funnel check has something to add up.
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
from pmc_pipeline import split_page
from pmc_pipeline.config import Config
from pmc_pipeline.errors import ERROR_SCHEMA
from pmc_pipeline.schema import arrow_schema
from pmc_pipeline.stages.report import BUILD_JSON, REPORT_HTML, SPLIT_HTML, run_report
from pmc_pipeline.storage import Store, part_name

LICENSES = ["CC BY", "CC BY-NC", None]
FETCH_FAILED = "PMC5"
XML_BROKEN = "PMC9"
NO_GRAPHIC = {"PMC1"}  # its last figure has no <graphic>
FAILED = {"PMC2_F2": "ImageError", "PMC7_F1": "Unresolved"}
DUPLICATES = {"PMC4_F1": "PMC3_F1", "PMC7_F2": "PMC3_F1"}  # key -> representative
TEST_SPLIT = {"PMC8"}  # its figures go to the test split
ACCEPTED, REJECTED = "PMC3_F1", "PMC1_F2"  # split into 2 panels; 2 candidates, not split
SPLIT_STATS = [  # per partition: figures 5, 3, 4 (as extracted), one split error in part 1
    {
        "figures": 5,
        "caption_labelled": 2,
        "candidates": 2,
        "accepted": 1,
        "panels": 2,
        "panels_aligned": 2,
        "decisions": {"accepted-guided": 1, "count-mismatch": 1, "no-caption-labels": 3},
        "errors": {},
    },
    {
        "figures": 3,
        "caption_labelled": 0,
        "candidates": 0,
        "accepted": 0,
        "panels": 0,
        "panels_aligned": 0,
        "decisions": {"no-caption-labels": 1, "single": 1},
        "errors": {"ImageError": 1},
    },
    {
        "figures": 4,
        "caption_labelled": 1,
        "candidates": 0,
        "accepted": 0,
        "panels": 0,
        "panels_aligned": 0,
        "decisions": {"no-layout": 1, "single": 3},
        "errors": {},
    },
]


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


def panel_row(parent: str, k: int, accepted: bool, label: str | None, sub: str) -> dict:
    box = [0.0, 0.0, 0.5, 1.0] if k == 0 else [0.5, 0.0, 1.0, 1.0]
    return {
        "key": f"{parent}_p{k}",
        "parent_key": parent,
        "panel_index": k,
        "box": box,
        "label": label,
        "subcaption": sub,
        "aligned": label is not None,
        "decision": "accepted" if accepted else "rejected",
        "reason": "accepted-guided" if accepted else "count-mismatch",
        "confidence": 0.875 if accepted else 0.25,
        "image": jpeg(k, (24, 32)) if accepted else None,
        "width": 24,
        "height": 32,
        "sha256": "1" * 64 if accepted else None,
        "phash": k if accepted else None,
        "dhash": k if accepted else None,
    }


def panel_rows() -> list[dict]:
    return [
        panel_row(ACCEPTED, 0, True, "A", "Left <panel> & co"),
        panel_row(ACCEPTED, 1, True, "B", "Right panel"),
        panel_row(REJECTED, 0, False, None, "whole caption"),
        panel_row(REJECTED, 1, False, None, "whole caption"),
    ]


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
                "media": 3 * len(fetched),
                "images_skipped": len(fetched),
                "requests": 3 * len(fetched) + len(ferr),
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
        pa.Table.from_pylist(panel_rows(), schema=arrow_schema("panel")),
    )
    for p, stats in enumerate(SPLIT_STATS):
        write_json(store, f"stats/split/{part_name(p, '.json')}", {"partition": p, **stats})
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
        codes = ["CC BY"] * (count - 1) + ["CC BY-NC"]  # the two columns the card counts
        store.write_table(
            f"shards/{split}/00000.parquet",
            pa.table({"license_code": codes, "license_url": [None] * count}),
        )
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
    images = [u for u in page.urls if u != "split.html"]
    assert page.urls.count("split.html") == 1
    assert images and all(u.startswith("data:image/jpeg;base64,") for u in images)
    assert len(images) == 12  # fewer figures than the sample size: all of them
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;" in html
    assert "<b>x</b>" not in html
    assert "PMC1_F1" in "".join(page.text)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)


def test_split_counts_and_page(build: Store) -> None:
    f = report(build)
    assert f["split_stage"] == {
        "figures": 12,
        "caption_labelled": 3,
        "candidates": 2,
        "accepted": 1,
        "panels": 2,
        "panels_aligned": 2,
        "decisions": {
            "accepted-guided": 1,
            "count-mismatch": 1,
            "no-caption-labels": 4,
            "no-layout": 1,
            "single": 4,
        },
        "errors": {"ImageError": 1},
    }
    assert f["checks"]["split_decisions"]["left"] == 12
    assert f["figures"]["panels_found"] == 2  # the rejected figure's candidates are not panels
    assert json.loads(build.read_bytes(BUILD_JSON))["funnel"]["split_stage"] == f["split_stage"]
    html = build.read_bytes(SPLIT_HTML).decode()
    page = Page()
    page.feed(html)
    page.close()
    text = "".join(page.text)
    images = [u for u in page.urls if u.startswith("data:image/jpeg;base64,")]
    assert len(images) == 2  # the accepted and the rejected parent, boxes drawn
    assert "Left &lt;panel&gt; &amp; co" in html and "<panel>" not in html
    assert ACCEPTED in text and REJECTED in text
    assert "count-mismatch · confidence 0.25" in text
    assert "accepted-guided · confidence 0.88" in text
    report(build)
    assert build.read_bytes(SPLIT_HTML).decode() == html


def test_a_stray_rejected_panel_in_shards_fails(build: Store) -> None:
    rel = "shards/train/00000_stats.json"
    stats = json.loads(build.read_bytes(rel))
    stats["panels"] += 2  # the shard took the rejected figure's candidates
    stats["count"] += 2
    write_json(build, rel, stats)
    write_json(build, "shards/train/sizes.json", {"00000.tar": stats["count"]})
    f = report(build)
    failed = {n for n, c in f["checks"].items() if c["status"] == "failed"}
    assert failed == {"panels_written"}


def test_panels_without_decisions_count_as_accepted(build: Store) -> None:
    """A build whose split stage predates split decisions still reports."""
    build.write_table(
        f"panels/{part_name(0, '.parquet')}",
        pa.table({"key": ["PMC3_F1_p0", "PMC3_F1_p1"], "parent_key": ["PMC3_F1"] * 2}),
    )
    for p in range(3):
        old = {"partition": p, "figures": SPLIT_STATS[p]["figures"], "compound_figures": p == 0}
        old |= {"panels": 2 * (p == 0), "panels_aligned": 0, "errors": {}}
        write_json(build, f"stats/split/{part_name(p, '.json')}", old)
    f = report(build)
    assert f["ok"] and f["figures"]["panels_found"] == 2
    assert f["checks"]["split_decisions"]["status"] == "skipped"
    assert f["checks"]["split_panels"]["ok"]
    assert f["split_stage"]["accepted"] == 0 and f["split_stage"]["decisions"] == {}
    assert "PMC3_F1" in build.read_bytes(SPLIT_HTML).decode()


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
    assert status["list"] == status["manifest"] == status["fetch"] == status["images"] == "ok"
    assert f["checks"]["fetch"]["partitions"] == 1 and f["checks"]["fetch"]["partitions_total"] == 3
    ran = ("list", "manifest", "fetch", "images")
    assert {s for n, s in status.items() if n not in ran} == {"skipped"}
    assert f["ok"] and f["figures"]["extracted"] is None
    assert part.exists(BUILD_JSON) and part.exists(REPORT_HTML) and not part.exists(SPLIT_HTML)


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


def test_split_page_renders_boxes_captions_and_reasons() -> None:
    parent = {"key": "PMC1_F1", "caption": "Two <panels>.", "image": jpeg(3, (400, 200))}
    rows = [panel_row("PMC1_F1", k, True, "AB"[k], f"panel {k} & more") for k in range(2)]
    other = {"key": "PMC2_F1", "caption": "One", "image": jpeg(4, (200, 200))}
    candidates = [panel_row("PMC2_F1", k, False, None, "One") for k in range(2)]
    counts = {"figures": 7, "candidates": 2, "accepted": 1, "panels": 2, "panels_aligned": 2}
    counts["decisions"] = {"accepted-guided": 1, "count-mismatch": 1, "single": 5}
    html = split_page.render_split_page(counts, [(parent, rows)], [(other, candidates)])
    page = Page()
    page.feed(html)
    page.close()
    text = "".join(page.text)
    assert html.count("<img ") == 2 and html.count('src="data:image/jpeg;base64,') == 2
    assert "panel 0 &amp; more" in html and "panel 1 &amp; more" in html
    assert "Two &lt;panels&gt;." not in html  # an accepted figure shows its sub-captions
    assert "reason: single5" in text and "reason: count-mismatch1" in text
    assert "figures examined7" in text and "panel samples2" in text
    assert "count-mismatch · confidence 0.25" in text


def test_draw_boxes_outlines_each_box() -> None:
    white = io.BytesIO()
    Image.new("RGB", (800, 400), "white").save(white, "JPEG")
    boxes = [(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)]
    drawn = split_page.draw_boxes(white.getvalue(), boxes, ["A", "B"])
    assert drawn is not None
    img = Image.open(io.BytesIO(drawn)).convert("RGB")
    assert img.size == (split_page.THUMB_SIDE, 240)
    r, g, b = img.getpixel((120, 239))  # bottom edge of box A: its colour, not white
    assert (r, g, b) != (255, 255, 255) and b > r
    assert img.getpixel((120, 120))[0] > 240  # inside: untouched
    assert split_page.draw_boxes(b"nope", boxes, ["A", "B"]) is None


def test_real_split_stage_feeds_the_page(corpus_dir: Path, tmp_path: Path) -> None:
    """The split stage on real corpus figures, then the report: the counts in build.json are
    the stage's stats, and split.html shows its decisions."""
    from pmc_pipeline.jats import parse_article, resolve_href
    from pmc_pipeline.stages.split import split_partition

    folder = corpus_dir / "elife-46793-v1"
    article = parse_article((folder / "article.nxml").read_bytes())
    names = [p.name for p in folder.iterdir()]
    quick = {"fig1.jpg", "fig2.jpg", "fig5.jpg", "fig10-figsupp1.jpg"}  # single, both decisions
    rows = []
    for fig in article.figures:
        name = resolve_href(fig.href, names) if fig.href else None
        if name in quick:
            w, h = Image.open(folder / name).size
            rows.append(
                {
                    "key": f"PMC46793_{fig.fig_id}",
                    "pmcid": "PMC46793",
                    "license_code": "CC BY",
                    "authors": article.authors,
                    "caption": fig.caption,
                    "image": (folder / name).read_bytes(),
                    "orig_width": w,
                    "orig_height": h,
                }
            )
    store = Store(str(tmp_path / "out"))
    store.write_table(f"figures/{part_name(0, '.parquet')}", pa.Table.from_pylist(rows))
    config = Config(out=store.uri, progress=False)
    stats = split_partition(config, 0)
    f = run_report(config)
    assert f["ok"], {n: c for n, c in f["checks"].items() if c["status"] == "failed"}
    assert f["checks"]["split_decisions"]["status"] == "ok"
    saved = json.loads(store.read_bytes(BUILD_JSON))["funnel"]["split_stage"]
    assert saved == {
        **{k: stats[k] for k in rp.SPLIT_COUNTS},
        "decisions": stats["decisions"],
        "errors": stats["errors"],
    }
    assert saved["figures"] == len(rows) and f["figures"]["panels_found"] == stats["panels"]
    html = store.read_bytes(SPLIT_HTML).decode()
    assert "Split decisions" in html and html.count("<img ") >= 1
    assert all(f"reason: {r}" in html for r in stats["decisions"])
    assert 'href="split.html"' in store.read_bytes(REPORT_HTML).decode()
