"""list + fetch against the corpus laid out as pmc-oa-opendata, served by moto on loopback.

Real components: boto3/requests talk HTTP to a moto server (through a counting,
fault-injecting proxy where a test needs it), stages run as tasks on a LocalCluster of
worker processes, bundles are read back with tarfile.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pmc_pipeline.bucket_layout import ArticleSpec, write_bucket
from pmc_pipeline.cluster import stream_tasks
from pmc_pipeline.config import Config, license_filter
from pmc_pipeline.dag import partition_stages, run_chains
from pmc_pipeline.sources.base import IMAGE_EXTENSIONS
from pmc_pipeline.stages.extract import extract_all
from pmc_pipeline.stages.fetch import fetch_all
from pmc_pipeline.stages.listing import manifest_partitions, run_list
from tests.fixtures import corpus_bucket as cb

BUCKET = "s3://pmc-oa-opendata"
PART = 6  # small partitions: several tasks from 34 articles
REQUIRED = {"pmcid", "version", "pmid", "doi", "license_code", "xml_key", "media_keys"}


def build(client, out: Path, source: str, **kw) -> Config:
    config = Config(out=str(out), source=source, partition_size=PART, progress=False, **kw)
    run_list(config, client)
    fetch_all(config, client)
    return config


def manifest(out: Path):
    parts = sorted((out / "manifest").glob("part-*.parquet"))
    return pq.read_table(parts).to_pylist() if parts else []


def bundles(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "bundles").glob("*.tar"))}


def bundle_members(out: Path) -> dict[str, list[str]]:
    """Article folder -> its member file names, over all bundles."""
    members: dict[str, list[str]] = {}
    for tar_path in sorted((out / "bundles").glob("*.tar")):
        with tarfile.open(tar_path) as tar:
            for m in tar.getmembers():
                folder, name = m.name.split("/", 1)
                members.setdefault(folder, []).append(name)
    return members


def error_rows(out: Path, stage: str) -> list[dict]:
    parts = sorted((out / "errors" / stage).glob("*.parquet"))
    return pq.read_table(parts).to_pylist() if parts else []


@pytest.fixture(scope="module")
def s3_build(dask_client, s3_server, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("s3-build")
    build(dask_client, out, BUCKET, endpoint_url=s3_server.endpoint_url)
    return out


def test_manifest_keeps_exactly_the_open_latest_articles(s3_build, corpus_dir):
    rows = manifest(s3_build)
    assert set(rows[0]) >= REQUIRED
    assert {r["pmcid"] for r in rows} == cb.expected_kept(corpus_dir)
    assert len(rows) == len({r["pmcid"] for r in rows})
    versions = {r["pmcid"]: r["version"] for r in rows}
    assert versions[cb.MULTI_VERSION] == 10  # numeric, not lexical
    excluded = pq.read_table(s3_build / "manifest" / "excluded.parquet").to_pylist()
    assert {r["pmcid"]: r["reason"] for r in excluded} == cb.expected_excluded(corpus_dir)
    summary = json.loads((s3_build / "manifest" / "_SUCCESS.json").read_text())
    assert summary["articles_listed"] == len(rows) + len(excluded)
    assert summary["superseded_versions"] == 2
    assert summary["inventory"].endswith("/manifest.json")  # the snapshot the card names
    assert date.fromisoformat(summary["listing_date"])
    parts = sorted((s3_build / "manifest").glob("part-*.parquet"))
    assert [pq.read_metadata(p).num_rows for p in parts[:-1]] == [PART] * (len(parts) - 1)


def figure_images(corpus_dir: Path) -> dict[str, set[str]]:
    """PMCID -> the files its <fig> graphics name, as the corpus manifest resolves them."""
    entries = json.loads((corpus_dir / "manifest.json").read_text())["articles"]
    return {cb.corpus_pmcid(e): {f["file"] for f in e["figures"] if f["file"]} for e in entries}


def test_bundles_hold_the_xml_and_each_figure_image_only(s3_build, corpus_dir):
    members = bundle_members(s3_build)
    rows = manifest(s3_build)
    assert set(members) == {f"{r['pmcid']}.{r['version']}" for r in rows}
    wanted = figure_images(corpus_dir)
    for folder, names in members.items():
        expected = {f"{folder}.xml"} | wanted.get(folder.split(".")[0], set())
        assert sorted(names) == sorted(expected), folder
    stats = [json.loads(p.read_text()) for p in (s3_build / "stats" / "fetch").glob("*.json")]
    media = sum(s["media"] for s in stats)
    images = sum(s["images"] for s in stats)
    assert images == sum(map(len, wanted.values())) == 73  # SOURCES.md: 73 referenced by a <fig>
    # thumbnails, table and equation images stay in the bucket
    assert sum(s["images_skipped"] for s in stats) == media - images > 0
    assert sum(s["requests"] for s in stats) == len(rows) + images
    assert error_rows(s3_build, "fetch") == []


def test_media_all_takes_every_listed_image(dask_client, corpus_bucket_dir, tmp_path):
    config = build(dask_client, tmp_path / "all", str(corpus_bucket_dir), media="all")
    for folder, names in bundle_members(Path(config.out)).items():
        files = [p.name for p in (corpus_bucket_dir / folder).iterdir()]
        images = {n for n in files if n.rsplit(".", 1)[-1].lower() in IMAGE_EXTENSIONS}
        thumbnails = {n for n in images if n.endswith(".gif") and n[:-4] + ".jpg" in images}
        assert sorted(names) == sorted({f"{folder}.xml"} | images - thumbnails), folder
        assert not any(
            n.endswith((".pdf", ".doc", ".zip", ".mp4", ".xlsx", ".json")) for n in names
        )


def test_https_and_local_sources_give_identical_outputs(
    dask_client, s3_build, fault_proxy, corpus_bucket_dir, tmp_path
):
    https = build(dask_client, tmp_path / "https", f"{fault_proxy.url}/pmc-oa-opendata")
    local = build(dask_client, tmp_path / "local", str(corpus_bucket_dir))
    for config in (https, local):
        out = Path(config.out)
        assert manifest(out) == manifest(s3_build)
        assert bundles(out) == bundles(s3_build)
        assert pq.read_table(out / "manifest" / "excluded.parquet").equals(
            pq.read_table(s3_build / "manifest" / "excluded.parquet")
        )


def test_license_groups_and_flags(dask_client, s3_server, corpus_dir, tmp_path):
    config = Config(
        out=str(tmp_path / "comm"),
        source=BUCKET,
        endpoint_url=s3_server.endpoint_url,
        licenses=("comm",),
        include_manuscripts=True,
        progress=False,
    )
    run_list(config, dask_client)
    allowed = license_filter(("comm",))
    kept = {r["pmcid"] for r in manifest(Path(config.out))}
    assert kept == cb.expected_kept(corpus_dir, allowed, include_manuscripts=True)
    assert cb.MANUSCRIPT in kept and cb.NON_COMMERCIAL not in kept


def test_limit_and_pmcid_list(dask_client, corpus_bucket_dir, tmp_path):
    limited = Config(out=str(tmp_path / "lim"), source=str(corpus_bucket_dir), limit=5)
    run_list(limited.replace(progress=False), dask_client)
    assert len(manifest(Path(limited.out))) == 5
    ids = tmp_path / "ids.txt"
    ids.write_text("# wanted\nPMC3532326\n2924383\n")
    chosen = Config(out=str(tmp_path / "ids"), source=str(corpus_bucket_dir), pmcids_file=str(ids))
    run_list(chosen.replace(progress=False), dask_client)
    assert {r["pmcid"] for r in manifest(Path(chosen.out))} == {"PMC3532326", "PMC2924383"}


def test_rerun_of_finished_stages_sends_no_request(dask_client, fault_proxy, tmp_path):
    config = build(dask_client, tmp_path / "o", BUCKET, endpoint_url=fault_proxy.url)
    assert fault_proxy.count > 0
    fault_proxy.reset()
    run_list(config, dask_client)
    results = fetch_all(config, dask_client)
    assert all(r["skipped"] for r in results)
    assert fault_proxy.count == 0


def test_503_slowdown_three_times_is_retried(dask_client, fault_proxy, s3_build, tmp_path):
    target = "PMC3532326.1/1756-0500-5-615-1.jpg"
    fault_proxy.fail(target, status=503, times=3)
    config = build(dask_client, tmp_path / "o", BUCKET, endpoint_url=fault_proxy.url)
    hits = [path for _, path in fault_proxy.requests if target in path]
    assert len(hits) == 4
    assert error_rows(Path(config.out), "fetch") == []
    assert bundles(Path(config.out)) == bundles(s3_build)


def test_bad_input_becomes_error_rows_and_the_rest_completes(
    dask_client, corpus_bucket_dir, tmp_path
):
    src = tmp_path / "bucket"
    shutil.copytree(corpus_bucket_dir, src)
    (src / "metadata" / "PMC3166277.1.json").write_bytes(b"{not json")  # broken metadata
    (src / "PMC2924383.1" / "PMC2924383.1.xml").unlink()  # XML answers 404
    jpg = src / "PMC3532326.1" / "1756-0500-5-615-2.jpg"
    jpg.write_bytes(jpg.read_bytes()[:-10] + b"0123456789")  # md5 no longer matches
    config = build(dask_client, tmp_path / "o", str(src))
    out = Path(config.out)
    listed = {(r["id"], r["error_class"]) for r in error_rows(out, "list")}
    assert listed == {("metadata/PMC3166277.1.json", "MetadataError")}
    excluded = pq.read_table(out / "manifest" / "excluded.parquet").to_pylist()
    assert {"PMC3166277": "metadata_error"}.items() <= {
        r["pmcid"]: r["reason"] for r in excluded
    }.items()
    fetched = {r["id"]: r for r in error_rows(out, "fetch")}
    assert fetched["PMC2924383"]["error_class"] == "NotFound"
    bad = fetched["PMC3532326.1/1756-0500-5-615-2.jpg"]
    assert bad["error_class"] == "IntegrityError" and "md5 mismatch" in bad["message"]
    members = bundle_members(out)
    assert "PMC2924383.1" not in members
    assert "1756-0500-5-615-2.jpg" not in members["PMC3532326.1"]
    assert "1756-0500-5-615-1.jpg" in members["PMC3532326.1"]
    assert len(members) == len(manifest(out)) - 1


def test_xml_that_does_not_parse_is_bundled_alone(dask_client, corpus_bucket_dir, tmp_path):
    """No image of an unparseable article can become a figure: fetch takes none of them,
    bundles the XML, and extract records why the article yields nothing."""
    article = ArticleSpec(
        pmcid="PMC7000001",
        version=1,
        xml=b"<article><body><fig id='f1'><graphic xlink:href='f1'/></fig>",  # cut short
        media={
            "f1.jpg": (corpus_bucket_dir / "PMC3532326.1" / "1756-0500-5-615-1.jpg").read_bytes()
        },
    )
    write_bucket(tmp_path / "bucket", [article], inventory=False)
    config = build(dask_client, tmp_path / "o", str(tmp_path / "bucket"))
    out = Path(config.out)
    assert bundle_members(out) == {"PMC7000001.1": ["PMC7000001.1.xml"]}
    [stats] = [json.loads(p.read_text()) for p in (out / "stats" / "fetch").glob("*.json")]
    assert (stats["xml_unparsed"], stats["media"], stats["images_skipped"]) == (1, 1, 1)
    assert stats["requests"] == 1 and error_rows(out, "fetch") == []
    extract_all(config, dask_client)
    [error] = error_rows(out, "extract")
    assert (error["id"], error["error_class"]) == ("PMC7000001", "JatsError")


def test_discarded_bundles_are_never_fetched_again(dask_client, corpus_bucket_dir, tmp_path):
    config = Config(
        out=str(tmp_path / "o"),
        source=str(corpus_bucket_dir),
        partition_size=PART,
        panels="off",
        discard_bundles=True,
        progress=False,
    )
    run_list(config, dask_client)
    parts = manifest_partitions(config.store)
    first = run_chains(dask_client, config, parts, partition_stages(config))
    out = Path(config.out)
    assert not list((out / "bundles").glob("*.tar"))  # each went once its figures were written
    assert len(list((out / "figures").glob("*.parquet"))) == len(parts) > 1
    assert all(r["discarded"] and r["bytes_freed"] > 0 for r in first["discard"])
    again = run_chains(dask_client, config, parts, partition_stages(config))
    assert all(r["skipped"] for r in again["fetch"] + again["extract"])
    assert not list((out / "bundles").glob("*.tar"))


def test_legacy_mirror_is_read_safely(dask_client, legacy_mirror_dir, corpus_dir, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(legacy_mirror_dir, mirror)
    rows = (mirror / "oa_file_list.csv").read_text().splitlines()
    for i, (path, data) in enumerate(sorted(cb.evil_tarballs().items())):
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_bytes(data)
        rows.append(f"{path},Evil {i},PMC800010{i + 1},2026-01-01 00:00:00,,CC BY")
    (mirror / "oa_file_list.csv").write_text("\n".join(rows) + "\n")
    config = build(dask_client, tmp_path / "o", str(mirror))
    out = Path(config.out)
    errors = {r["id"]: r for r in error_rows(out, "fetch")}
    assert {e["error_class"] for e in errors.values()} == {"UnsafePackage"}
    assert "escapes" in errors["PMC8000101"]["message"]
    assert "link" in errors["PMC8000102"]["message"]
    members = bundle_members(out)
    real = members["PMC3532326.1"]  # the untouched real PMC package: its thumbnails stay
    assert sorted(real) == ["1756-0500-5-615-1.jpg", "1756-0500-5-615-2.jpg", "PMC3532326.1.xml"]
    wanted = figure_images(corpus_dir)
    for folder, names in members.items():
        expected = {f"{folder}.xml"} | wanted.get(folder.split(".")[0], set())
        assert sorted(names) == sorted(expected), folder
    assert not (tmp_path / "escape.txt").exists() and not (out / "escape.txt").exists()


def test_missing_xml_url_is_an_error_only_for_an_article_to_keep(dask_client, tmp_path):
    folder = tmp_path / "bucket" / "metadata"
    folder.mkdir(parents=True)
    record = {"version": 1, "is_pmc_openaccess": True, "license_code": "CC BY"}
    (folder / "PMC1.1.json").write_text(json.dumps({**record, "pmcid": "PMC1"}))
    closed = {**record, "pmcid": "PMC2", "is_pmc_openaccess": False}
    (folder / "PMC2.1.json").write_text(json.dumps(closed))
    config = Config(out=str(tmp_path / "o"), source=str(tmp_path / "bucket"), progress=False)
    summary = run_list(config, dask_client)
    assert summary["excluded"] == {"metadata_error": 1, "not_open_access": 1}
    [error] = error_rows(tmp_path / "o", "list")
    assert error["id"] == "metadata/PMC1.1.json" and "xml_url" in error["message"]


def test_incremental_build_keeps_only_changes(dask_client, corpus_bucket_dir, tmp_path):
    src = tmp_path / "bucket"
    shutil.copytree(corpus_bucket_dir, src)
    shutil.rmtree(src / "inventory-reports")  # list by ListObjects over metadata/
    first = Config(out=str(tmp_path / "a"), source=str(src), progress=False)
    run_list(first, dask_client)
    # PMC3532326 gets version 2; PMC2924383 is retracted; PMC1790863 is withdrawn.
    meta = json.loads((src / "metadata" / "PMC3532326.1.json").read_text())
    meta["version"] = 2
    (src / "metadata" / "PMC3532326.2.json").write_text(json.dumps(meta))
    retracted = json.loads((src / "metadata" / "PMC2924383.1.json").read_text())
    retracted["is_retracted"] = True
    (src / "metadata" / "PMC2924383.1.json").write_text(json.dumps(retracted))
    (src / "metadata" / "PMC1790863.1.json").unlink()
    second = first.replace(out=str(tmp_path / "b"), previous=first.out)
    summary = run_list(second, dask_client)
    assert [(r["pmcid"], r["version"]) for r in manifest(Path(second.out))] == [("PMC3532326", 2)]
    removed = pq.read_table(Path(second.out) / "manifest" / "removed.parquet").to_pylist()
    assert {(r["pmcid"], r["reason"]) for r in removed} == {
        ("PMC2924383", "retracted"),
        ("PMC1790863", "withdrawn"),
    }
    assert summary["excluded"]["unchanged"] == len(manifest(Path(first.out))) - 3
    # Unchanged objects (same version and ETag in the listing) are not read again: only
    # the new version and the edited metadata are.
    assert summary["metadata_read"] == 2
    # The next update in a chain reads nothing when nothing changed: it knows what the
    # first build kept through this one's "unchanged" rows, and its stable verdicts.
    fourth = second.replace(out=str(tmp_path / "d"), previous=second.out)
    chained = run_list(fourth, dask_client)
    assert chained["metadata_read"] == 0
    assert chained["articles_kept"] == chained["removed"] == 0
    carried = dict(summary["excluded"], unchanged=summary["excluded"]["unchanged"] + 1)
    assert chained["excluded"] == carried  # PMC3532326.2 is now unchanged too
    # Other filters could change any verdict: then every listed object is read.
    third = second.replace(out=str(tmp_path / "c"), licenses=("comm",))
    again = run_list(third, dask_client)
    assert again["metadata_read"] == again["articles_listed"] > 2
    assert again["excluded"]["unchanged"] < summary["excluded"]["unchanged"]


def test_manifest_does_not_depend_on_how_the_listing_is_cut(
    dask_client, corpus_bucket_dir, tmp_path, monkeypatch
):
    """Verdicts come back chunk by chunk and partitions are written as they fill: tiny
    listing batches, chunks and excluded writes give the same files as the defaults."""
    from pmc_pipeline.stages import listing

    whole = Config(out=str(tmp_path / "whole"), source=str(corpus_bucket_dir), partition_size=4)
    summary = run_list(whole.replace(progress=False), dask_client)
    for name, value in (("LISTING_BATCH", 5), ("CHUNK", 3), ("EXCLUDED_BATCH", 2)):
        monkeypatch.setattr(listing, name, value)
    cut = whole.replace(out=str(tmp_path / "cut"), progress=False)
    assert run_list(cut, dask_client) == summary
    files = sorted(p.name for p in (Path(whole.out) / "manifest").glob("*.parquet"))
    assert files == sorted(p.name for p in (Path(cut.out) / "manifest").glob("*.parquet"))
    for name in files:
        rows = [pq.read_table(Path(o.out) / "manifest" / name).to_pylist() for o in (whole, cut)]
        assert rows[0] == rows[1], name


def test_stream_tasks_yields_results_in_item_order(dask_client):
    config = Config(out="unused", progress=False)
    items = (n for n in range(40))  # more than the window of tasks in flight
    results = stream_tasks(dask_client, lambda _c, n: n * n, config, items, total=40, desc="t")
    assert list(results) == [n * n for n in range(40)]


def _cli(*args: str, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pmc_pipeline.cli", *args, "--workers", "1", "--no-progress"]
    return subprocess.Popen(cmd, start_new_session=True, **kw)


def test_cli_killed_mid_fetch_resumes_to_identical_bundles(s3_build, fault_proxy, tmp_path):
    out = tmp_path / "o"
    endpoint = ["--endpoint-url", fault_proxy.url]
    listing = _cli(
        "list", "--source", BUCKET, *endpoint, "--out", str(out), "--partition-size", str(PART)
    )
    assert listing.wait(timeout=120) == 0
    fault_proxy.delay("PMC", 0.05)  # slow enough to kill it between bundles
    fetch = _cli("fetch", "--out", str(out))
    deadline = time.monotonic() + 120
    while not list((out / "bundles").glob("part-*.tar")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(fetch.pid, signal.SIGKILL)
    fetch.wait(timeout=30)
    done = sorted((out / "bundles").glob("part-*.tar"))
    assert 0 < len(done) < len(bundles(s3_build)), "the kill must land mid-run"
    for path in done:  # what exists is whole
        with tarfile.open(path) as tar:
            tar.getmembers()
    fault_proxy.reset()
    again = _cli("fetch", "--out", str(out), stdout=subprocess.PIPE)
    assert again.wait(timeout=120) == 0
    assert bundles(out) == bundles(s3_build)
    digest = {n: hashlib.sha256(b).hexdigest() for n, b in bundles(out).items()}
    assert len(digest) == len(bundles(s3_build))
