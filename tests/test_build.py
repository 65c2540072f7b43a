"""The whole build on the corpus bucket: shards open_clip can read, reproducible, resumable.

Shards are read back with the ``webdataset`` package (open_clip's reader); builds run on
real Dask clusters: the shared LocalCluster, a LocalCluster whose worker is killed
mid-extract, a CLI build killed and rerun, and separately started ``dask scheduler`` /
``dask worker`` processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import webdataset as wds

from pmc_pipeline.bucket_layout import ArticleSpec, write_bucket
from pmc_pipeline.config import Config
from pmc_pipeline.dag import build
from pmc_pipeline.schema import json_schema
from pmc_pipeline.stages.report import run_report
from pmc_pipeline.stages.shard import run_shard
from tests.fixtures.builds import BUCKET, PART, config_for


def shard_files(out: Path) -> dict[str, bytes]:
    root = out / "shards"
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".tar", ".parquet") or p.name == "sizes.json"
    }


def test_shards_read_back_with_webdataset(reference):
    schema = json_schema("sample")
    seen = set()
    total = 0
    for split_dir in sorted(p for p in (reference / "shards").iterdir() if p.is_dir()):
        sizes = json.loads((split_dir / "sizes.json").read_text())
        for name, count in sizes.items():
            samples = list(wds.WebDataset(str(split_dir / name), shardshuffle=False))
            assert len(samples) == count
            for sample in samples:
                assert {"jpg", "txt", "json"} <= set(sample), sample["__key__"]
                meta = json.loads(sample["json"])
                jsonschema.validate(meta, schema)
                assert meta["key"] == sample["__key__"] and meta["split"] == split_dir.name
                assert sample["txt"].decode() == meta["text"]
                assert sample["jpg"][:2] == b"\xff\xd8"
                seen.add(sample["__key__"])
            table = pq.read_table(split_dir / name.replace(".tar", ".parquet"))
            assert table.num_rows == count and "image" not in table.column_names
            total += count
    assert len(seen) == total > 50


def test_funnel_adds_up(reference):
    report = json.loads((reference / "build.json").read_text())
    failed = [c for c in report["funnel"]["checks"].values() if c["status"] == "failed"]
    assert failed == [] and report["funnel"]["ok"]
    figures = report["funnel"]["figures"]
    dups = figures["within_article_duplicates"] + figures["cross_article_duplicates"]
    assert dups == figures["exact_duplicates"] + figures["near_duplicates"]
    assert (reference / "report" / "index.html").stat().st_size > 1000


def test_no_cluster_spans_two_splits(reference):
    clusters = pq.read_table(reference / "dedupe" / "clusters.parquet").to_pylist()
    split_of: dict[str, set[str]] = {}
    for row in clusters:
        split_of.setdefault(row["cluster_id"], set()).add(row["split"])
    assert all(len(s) == 1 for s in split_of.values())
    written = {}
    for p in (reference / "shards").rglob("*.parquet"):
        for row in pq.read_table(p, columns=["key", "cluster_id", "split"]).to_pylist():
            written[row["key"]] = row
    assert len({r["cluster_id"] for r in written.values()}) == len(written)  # one per cluster


def test_second_build_is_byte_identical(dask_client, s3_server, reference, tmp_path):
    out = tmp_path / "again"
    build(config_for(out, s3_server.endpoint_url), dask_client)
    assert shard_files(out) == shard_files(reference)


def test_killing_a_worker_mid_extract_gives_the_same_shards(s3_server, reference, tmp_path):
    from distributed import Client, LocalCluster

    out = tmp_path / "killed-worker"
    config = config_for(out, s3_server.endpoint_url)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        killed = threading.Event()

        def killer() -> None:
            while not list((out / "figures").glob("part-*.parquet")):
                time.sleep(0.01)
            os.kill(next(iter(pids.values())), signal.SIGKILL)
            killed.set()

        threading.Thread(target=killer, daemon=True).start()
        build(config, client)
        assert killed.is_set()
    assert shard_files(out) == shard_files(reference)


def _cli(*args: str, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pmc_pipeline.cli", *args, "--no-progress"]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, **kw)


def _build_args(out: Path, endpoint: str) -> list[str]:
    return [
        "build", "--source", BUCKET, "--endpoint-url", endpoint, "--out", str(out),
        "--partition-size", str(PART), "--samples-per-shard", "16", "--test-fraction", "0.2",
        "--val-fraction", "0.05", "--panels", "off",
    ]  # fmt: skip


def test_killed_build_resumes_without_redoing_partitions(fault_proxy, reference, tmp_path):
    out = tmp_path / "killed-build"
    fault_proxy.delay("PMC", 0.05)
    first = _cli(*_build_args(out, fault_proxy.url), "--workers", "1")
    deadline = time.monotonic() + 180
    while len(list((out / "figures").glob("part-*.parquet"))) < 2:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    finished = {p: p.stat().st_mtime_ns for p in (out / "figures").glob("part-*.parquet")}
    finished |= {p: p.stat().st_mtime_ns for p in (out / "bundles").glob("part-*.tar")}
    assert not (out / "shards").exists()
    again = _cli(*_build_args(out, fault_proxy.url), "--workers", "1")
    assert again.wait(timeout=300) == 0
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # nothing redone
    assert shard_files(out) == shard_files(reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_running_scheduler_gives_the_same_shards(s3_server, reference, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    dask = (
        [str(bin_dir / "dask")] if (bin_dir / "dask").exists() else [sys.executable, "-m", "dask"]
    )
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"],
            start_new_session=True, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                    start_new_session=True,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        out = tmp_path / "scheduler"
        run = _cli(*_build_args(out, s3_server.endpoint_url), "--scheduler", address)
        assert run.wait(timeout=300) == 0
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    assert shard_files(out) == shard_files(reference)


def test_output_to_s3_prefix_gives_the_same_shards(dask_client, s3_server, reference, monkeypatch):
    """``--out s3://bucket/prefix``: every stage reads and writes through the S3 API."""
    admin = s3_server.admin_client()
    admin.create_bucket(Bucket="pmc-out")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)  # the workers inherit them only if set before start
    config = config_for(Path("unused"), s3_server.endpoint_url).replace(
        out="s3://pmc-out/builds/one", out_endpoint_url=s3_server.endpoint_url
    )
    dask_client.run(_set_env, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    build(config, dask_client)
    listing = admin.list_objects_v2(Bucket="pmc-out", Prefix="builds/one/shards/")
    got = {}
    for obj in listing["Contents"]:
        rel = obj["Key"][len("builds/one/shards/") :]
        if rel.endswith((".tar", ".parquet")) or rel.endswith("sizes.json"):
            got[rel] = admin.get_object(Bucket="pmc-out", Key=obj["Key"])["Body"].read()
    assert got == shard_files(reference)


def _set_env(values: dict[str, str]) -> None:
    os.environ.update(values)


def test_panels_are_extra_samples_with_their_parent_and_box(dask_client, s3_server, tmp_path):
    out = tmp_path / "panels"
    build(config_for(out, s3_server.endpoint_url).replace(panels="add"), dask_client)
    figures, panels = {}, []
    for tar in sorted((out / "shards").glob("*/*.tar")):
        for sample in wds.WebDataset(str(tar), shardshuffle=False):
            meta = json.loads(sample["json"])
            if meta["kind"] == "panel":
                panels.append(meta)
            else:
                figures[meta["key"]] = meta
    assert len(panels) > len(figures) / 2  # most corpus figures are compound
    for meta in panels:
        parent = figures[meta["parent_key"]]
        assert meta["key"].startswith(parent["key"] + "_p") and meta["split"] == parent["split"]
        assert len(meta["box"]) == 4 and all(0 <= v <= 1 for v in meta["box"])
        assert isinstance(meta["aligned"], bool) and meta["text"]
        if not meta["aligned"]:
            assert meta["text"] == parent["caption"]
    report = json.loads((out / "build.json").read_text())
    assert report["funnel"]["ok"]


def test_update_leaves_out_duplicates_of_published_figures(
    dask_client, corpus_bucket_dir, corpus_dir, tmp_path
):
    """An incremental build dedupes against what earlier builds published: a new article
    that reposts published figures adds no sample, or (kept) adds it in the same split."""
    src = tmp_path / "bucket"
    shutil.copytree(corpus_bucket_dir, src)
    base = Config(
        out=str(tmp_path / "base"), source=str(src), partition_size=PART, samples_per_shard=16,
        test_fraction=0.5, panels="off", progress=False,
    )  # fmt: skip
    build(base, dask_client)
    folder = corpus_dir / "PMC3532326"  # a new PMCID reposting both figures of this one
    media = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".jpg", ".gif")}
    repost = ArticleSpec("PMC9900001", 1, (folder / "article.nxml").read_bytes(), media)
    write_bucket(src, [repost], inventory=False)
    shutil.rmtree(src / "inventory-reports")  # the new object is listed by ListObjects

    update = base.replace(out=str(tmp_path / "update"), previous=base.out)
    summary = build(update, dask_client)
    published = {
        r["key"]: r for r in pq.read_table(tmp_path / "base/dedupe/clusters.parquet").to_pylist()
    }
    rows = pq.read_table(tmp_path / "update/dedupe/clusters.parquet").to_pylist()
    assert [r["key"] for r in rows] == ["PMC9900001_F1", "PMC9900001_F2"]
    for row in rows:
        twin = published[row["key"].replace("PMC9900001", "PMC3532326")]
        assert row["reason"] == "published" and row["distance"] == 0
        assert (row["cluster_id"], row["representative"], row["split"]) == (
            twin["cluster_id"], twin["representative"], twin["split"],
        )  # fmt: skip
    assert summary["dedupe"]["published_duplicates"] == 2
    assert not list((tmp_path / "update" / "shards").rglob("*.tar"))
    assert summary["report"]["ok"]

    quiet = base.replace(out=str(tmp_path / "quiet"), previous=update.out)
    nothing = build(quiet, dask_client)  # an update with no change is an empty build
    assert nothing["list"]["articles_kept"] == nothing["dedupe"]["figures"] == 0
    assert nothing["list"]["metadata_read"] == 0 and nothing["report"]["ok"]

    kept = update.replace(keep_duplicates=True)
    run_shard(kept, dask_client)
    assert run_report(kept)["ok"]
    for row in rows:
        split_dir = tmp_path / "update" / "shards" / row["split"]
        metas = [
            json.loads(s["json"])
            for s in wds.WebDataset(str(split_dir / "00000.tar"), shardshuffle=False)
        ]
        [meta] = [m for m in metas if m["key"] == row["key"]]
        assert meta["dedupe_reason"] == "published" and meta["duplicate"]
