"""The extract stage on the whole corpus and on hostile articles and images.

Checks the issue's promises at the stage level: every <fig> with a graphic becomes a
figure row or an error row, each row gets the image manifest.json says it should (never
the .gif thumbnail), and bad XML or images give error rows without killing the worker.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pmc_pipeline.bucket_layout import ArticleSpec, write_bucket
from pmc_pipeline.config import Config
from pmc_pipeline.dag import run_chains
from pmc_pipeline.stages.extract import extract_partition, figure_schema
from pmc_pipeline.stages.fetch import fetch_partition
from pmc_pipeline.stages.listing import manifest_partitions, run_list
from tests.fixtures.corpus_bucket import corpus_pmcid

STAGES = [("fetch", fetch_partition), ("extract", extract_partition)]


def extract_build(client, source: Path, out: Path) -> Config:
    config = Config(out=str(out), source=str(source), partition_size=8, progress=False)
    run_list(config, client)
    run_chains(client, config, manifest_partitions(config.store), STAGES)
    return config


def table(out: Path, folder: str):
    return pq.read_table(sorted((out / folder).glob("part-*.parquet")))


@pytest.fixture(scope="module")
def corpus_extract(dask_client, corpus_bucket_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extract")
    extract_build(dask_client, corpus_bucket_dir, out)
    return out


def test_every_fig_with_a_graphic_is_a_row_or_an_error(corpus_extract, corpus_dir):
    figures = table(corpus_extract, "figures").drop(["image"]).to_pylist()
    errors = table(corpus_extract, "errors/extract").to_pylist()
    rows = {r["key"]: r for r in figures}
    failed = {e["id"]: e for e in errors}
    manifest = json.loads((corpus_dir / "manifest.json").read_text())["articles"]
    for article in manifest:
        pmcid = corpus_pmcid(article)
        for fig in article["figures"]:
            key = f"{pmcid}_{fig['fig_id']}".replace(".", "-")
            if fig["href"] is None:
                continue
            if fig["file"] is None:
                assert failed[key]["error_class"] == "Unresolved", key
                continue
            row = rows[key]
            assert row["file"] == fig["file"], key  # the full image, never the .gif thumbnail
            assert row["label"] == fig["label"]
            assert len(row["caption"]) > 0
    assert len(rows) == sum(1 for a in manifest for f in a["figures"] if f["file"])
    stats = [
        json.loads(p.read_text()) for p in sorted((corpus_extract / "stats/extract").glob("*"))
    ]
    for s in stats:
        found = s["figures_without_graphic"] + s["figures_failed"] + s["figures_extracted"]
        assert s["figures_found"] == found


def test_no_caption_is_borrowed(corpus_extract):
    figures = table(corpus_extract, "figures").drop(["image"]).to_pylist()
    by_article: dict[str, list[str]] = {}
    for r in figures:
        by_article.setdefault(r["pmcid"], []).append(r["caption"])
    for pmcid, captions in by_article.items():
        assert len(set(captions)) == len(captions), pmcid


def test_rows_match_the_schema_and_images_are_rgb_jpegs(corpus_extract):
    t = table(corpus_extract, "figures")
    assert t.schema.remove_metadata() == figure_schema().remove_metadata()
    assert b"phash_method" in pq.read_schema(next((corpus_extract / "figures").glob("*"))).metadata
    for row in t.select(["key", "image", "width", "height"]).to_pylist():
        with Image.open(io.BytesIO(row["image"])) as im:
            assert (im.format, im.mode) == ("JPEG", "RGB"), row["key"]
            assert im.size == (row["width"], row["height"]) and max(im.size) <= 1024


def _png(mode: str, size=(200, 150), **save) -> bytes:
    buf = io.BytesIO()
    Image.new(
        mode, size, 128 if mode in ("L", "P", "I;16") else (10, 200, 30, 0)[: len(mode)]
    ).save(buf, "PNG" if mode != "CMYK" else "JPEG", **save)
    return buf.getvalue()


def _figures_xml(hrefs: list[str]) -> bytes:
    figs = "".join(
        f'<fig id="f{i}"><label>Figure {i}</label><caption><p>Caption {i}.</p></caption>'
        f'<graphic xlink:href="{h}"/></fig>'
        for i, h in enumerate(hrefs)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><article xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<front><article-meta><title-group><article-title>T</article-title></title-group>"
        f"</article-meta></front><body>{figs}</body></article>"
    ).encode()


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, "PNG")
    return buf.getvalue()


def test_hostile_images_and_xml_give_error_rows(dask_client, tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, "JPEG", quality=90)
    images = {
        "ok.jpg": jpeg.getvalue(),
        "cmyk.jpg": _png("CMYK"),
        "gray16.png": _png("I;16"),
        "rgba.png": _png("RGBA"),
        "truncated.jpg": jpeg.getvalue()[: len(jpeg.getvalue()) // 2],
        "empty.png": b"",
        "bomb.png": _bomb(),
    }
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<article><front><article-meta><title-group><article-title>&x;</article-title>"
        "</title-group></article-meta></front></article>"
    ).encode()
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<article><body><p>&lol3;</p></body></article>"
    )
    good = _figures_xml(list(images))
    specs = [
        ArticleSpec("PMC7000001", 1, good, media=images),
        ArticleSpec("PMC7000002", 1, good[: len(good) // 2]),  # truncated XML
        ArticleSpec("PMC7000003", 1, good.replace(b"UTF-8", b"bogus-enc")),
        ArticleSpec("PMC7000004", 1, laughs),
        ArticleSpec("PMC7000005", 1, xxe),
    ]
    write_bucket(tmp_path / "bucket", specs, inventory=False)
    out = tmp_path / "out"
    extract_build(dask_client, tmp_path / "bucket", out)
    keys = {r["key"] for r in table(out, "figures").select(["key"]).to_pylist()}
    assert keys == {"PMC7000001_f0", "PMC7000001_f1", "PMC7000001_f2", "PMC7000001_f3"}
    errors = {r["id"]: r for r in table(out, "errors/extract").to_pylist()}
    for i in (4, 5, 6):  # truncated, empty, bomb
        assert errors[f"PMC7000001_f{i}"]["error_class"].startswith("Image"), errors
    for pmcid in ("PMC7000002", "PMC7000003", "PMC7000004", "PMC7000005"):
        assert errors[pmcid]["error_class"] == "JatsError", pmcid
    assert "TOP-SECRET" not in json.dumps(list(errors.values()))
    assert len(errors) == 7
