"""Shared fixtures: the real corpus beside the checkout, skipped with a reason when absent."""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _corpus_path() -> Path:
    """The corpus lives in ../shared/corpus next to the checkout; PMC_CORPUS overrides it."""
    return Path(os.environ.get("PMC_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """Path of the real article corpus, or skip: it is not part of the repository."""
    path = _corpus_path()
    if not (path / "manifest.json").is_file():
        pytest.skip(f"real corpus not found at {path} (set PMC_CORPUS to its folder)")
    return path


# --- the corpus as a bucket, a local S3 server, a fault proxy, a legacy mirror (fixtures/) ---


@pytest.fixture(scope="session")
def corpus_bucket_dir(tmp_path_factory, corpus_dir: Path) -> Path:
    """The corpus (plus extra filter cases) in the pmc-oa-opendata layout, with inventory."""
    from tests.fixtures.corpus_bucket import build_corpus_bucket

    return build_corpus_bucket(tmp_path_factory.mktemp("corpus-bucket"), corpus_dir)


@pytest.fixture(scope="session")
def s3_server(corpus_bucket_dir: Path):
    """moto on loopback serving corpus_bucket_dir as s3://pmc-oa-opendata (unsigned reads)."""
    from tests.fixtures.s3server import MotoS3

    with MotoS3() as server:
        server.upload_tree(corpus_bucket_dir)
        yield server


@pytest.fixture(scope="session")
def _fault_proxy_session(s3_server):
    from tests.fixtures.s3server import FaultProxy

    with FaultProxy(s3_server.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def fault_proxy(_fault_proxy_session):
    """A FaultProxy in front of s3_server, with no faults and zero counts for each test.

    S3 reader: ``open_source("s3://pmc-oa-opendata", endpoint_url=fault_proxy.url)``;
    HTTPS reader: ``open_source(fault_proxy.url + "/pmc-oa-opendata")``.
    """
    _fault_proxy_session.reset()
    yield _fault_proxy_session
    _fault_proxy_session.reset()


@pytest.fixture(scope="session")
def legacy_mirror_dir(tmp_path_factory, corpus_dir: Path) -> Path:
    """The 28 corpus articles as a legacy mirror (oa_file_list.csv + oa_package/)."""
    from tests.fixtures.corpus_bucket import build_corpus_legacy_mirror

    return build_corpus_legacy_mirror(tmp_path_factory.mktemp("legacy-mirror"), corpus_dir)


@pytest.fixture(scope="session")
def reference(dask_client, s3_server, tmp_path_factory) -> Path:
    """The fixture bucket built once (panels off, small shards), read by several modules."""
    from pmc_pipeline.dag import build
    from tests.fixtures.builds import config_for

    out = tmp_path_factory.mktemp("reference")
    build(config_for(out, s3_server.endpoint_url), dask_client)
    return out


@pytest.fixture(scope="session")
def dask_client():
    """One real LocalCluster of worker processes shared by the stage tests (startup ~2 s)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def _dask_stacks_before_timeout(request):
    """Print what the Dask workers are doing 20 s before pytest-timeout stops a test.

    A hung stage test otherwise shows only the driver waiting on a future (CI once timed
    out in the listing stage with no trace of the task that never returned)."""
    if "dask_client" not in request.fixturenames:
        yield
        return
    marker = request.node.get_closest_marker("timeout")
    limit = (
        float(marker.args[0])
        if marker and marker.args
        else float(request.config.getini("timeout") or 0)
    )
    if limit <= 30:
        yield
        return
    timer = threading.Timer(
        limit - 20, _print_cluster_state, (request.getfixturevalue("dask_client"),)
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _print_cluster_state(client) -> None:
    """Tasks in flight, their stacks, and every worker thread's stack, on stderr."""
    out = sys.__stderr__
    try:
        print("\n--- Dask tasks in flight per worker:", client.processing(), file=out)
        for worker, tasks in client.call_stack().items():
            for key, frames in tasks.items():
                print(f"--- {key} on {worker}:\n{''.join(frames)}", file=out)
        for worker, stacks in client.run(_thread_stacks).items():
            print(f"--- threads of {worker}:\n{stacks}", file=out)
    except Exception as exc:  # a diagnostic must not raise in a timer thread
        print(f"--- cluster state unavailable: {exc!r}", file=out)
    out.flush()


def _thread_stacks() -> str:
    """Every thread's stack in this process (run on each worker)."""
    frames = sys._current_frames()
    return "\n".join(
        f"thread {ident}:\n" + "".join(traceback.format_stack(frame))
        for ident, frame in frames.items()
    )
