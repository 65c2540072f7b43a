"""plan against the corpus bucket on a loopback S3 server, then the build it predicts.

Real components: moto serves the bucket, list and fetch run on a LocalCluster, the report
stage reads what they wrote. With every article sampled the plan must be exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from pmc_pipeline.config import Config
from pmc_pipeline.planning import sample_indices, scale
from pmc_pipeline.schema import json_schema
from pmc_pipeline.stages.fetch import fetch_all
from pmc_pipeline.stages.listing import run_list
from pmc_pipeline.stages.plan import PLAN_JSON, run_plan
from pmc_pipeline.stages.report import BUILD_JSON, REPORT_HTML, run_report

BUCKET = "s3://pmc-oa-opendata"
PART = 6


def fetch_stats(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "stats" / "fetch").glob("*.json"))]


def total(stats: list[dict], field: str) -> int:
    return sum(s[field] for s in stats)


@pytest.fixture(scope="module")
def planned(dask_client, s3_server, tmp_path_factory) -> tuple[Config, dict]:
    """A full-sample plan, then list + fetch + report of the same build folder."""
    out = tmp_path_factory.mktemp("planned")
    config = Config(
        out=str(out),
        source=BUCKET,
        endpoint_url=s3_server.endpoint_url,
        partition_size=PART,
        progress=False,
    )
    plan = run_plan(config, sample=0, cores=2)
    run_list(config, dask_client)
    fetch_all(config, dask_client)
    run_report(config)
    return config, plan


def test_plan_json_is_written_and_valid(planned):
    config, plan = planned
    written = json.loads((Path(config.out) / PLAN_JSON).read_text())
    assert written == plan
    jsonschema.validate(written, json_schema("plan"))


def test_a_full_sample_predicts_fetch_exactly(planned):
    config, plan = planned
    out = Path(config.out)
    stats = fetch_stats(out)
    listed = json.loads((out / "manifest" / "_SUCCESS.json").read_text())
    assert plan["sample"]["exact"] and set(plan["ci95"].values()) == {0}
    assert plan["articles"] == listed["articles_kept"] == total(stats, "articles")
    assert plan["requests_by_kind"]["metadata"] == listed["metadata_read"]
    assert plan["fetch"]["requests"] == total(stats, "requests")
    assert plan["bytes"] == plan["fetch"]["bytes"] == total(stats, "bytes")
    assert plan["figure_images"] == total(stats, "images") == 73
    assert plan["fetch"]["requests_all_media"] == plan["articles"] + total(stats, "media")
    kinds = plan["requests_by_kind"]
    assert plan["requests"] == kinds["listing"] + kinds["metadata"] + plan["fetch"]["requests"]
    assert kinds["listing"] > 0
    bundle_bytes = sum(p.stat().st_size for p in (out / "bundles").glob("*.tar"))
    assert abs(plan["disk_bytes"]["bundles"] - bundle_bytes) < 0.01 * bundle_bytes


def test_the_report_shows_requests_and_bytes_avoided(planned):
    config, plan = planned
    out = Path(config.out)
    funnel = json.loads((out / BUILD_JSON).read_text())["funnel"]
    images, against = funnel["images"], funnel["plan"]
    assert funnel["checks"]["images"]["status"] == "ok"
    assert images["skipped"] == plan["fetch"]["requests_avoided"] > 0
    assert images["media"] == images["fetched"] + images["skipped"]
    assert against["requests_made"] == against["requests_planned"] == images["requests"]
    assert against["bytes_made"] == against["bytes_planned"] == images["bytes"]
    assert against["bytes_avoided_planned"] == plan["fetch"]["bytes_avoided"] > 0
    html = (out / REPORT_HTML).read_text()
    assert "images / skipped" in html and "plan / bytes_avoided_planned" in html
    assert f"{plan['fetch']['bytes_avoided']:,}" in html


def test_fetching_every_medium_costs_what_the_plan_says(planned, dask_client, corpus_bucket_dir):
    config, plan = planned
    every = config.replace(
        out=str(Path(config.out).parent / "every"), source=str(corpus_bucket_dir), media="all"
    )
    run_list(every, dask_client)
    stats = fetch_all(every, dask_client)
    assert total(stats, "requests") == plan["fetch"]["requests_all_media"]
    assert total(stats, "bytes") == plan["fetch"]["bytes_all_media"]
    assert total(stats, "images_skipped") == 0


def test_a_sample_is_seeded_and_has_error_bars(s3_server, tmp_path):
    config = Config(
        out=str(tmp_path), source=BUCKET, endpoint_url=s3_server.endpoint_url, progress=False
    )
    plan = run_plan(config, sample=12, seed=7, cores=4)
    assert plan["sample"] == {"listed": 34, "sampled": 12, "seed": 7, "exact": False}
    assert plan["ci95"]["figures"] > 0 and plan["ci95"]["bytes"] > 0
    assert plan["requests_by_kind"]["metadata"] == 34  # counted, not estimated
    again = run_plan(config.replace(out=str(tmp_path / "again")), sample=12, seed=7, cores=4)
    assert again == plan


def test_the_estimator_is_exact_on_the_whole_population():
    values = np.array([0.0, 3.0, 5.0, 1.0])
    assert scale(values, 4) == (9.0, 0.0)
    est, half = scale(values[:2], 4)
    assert est == 6.0 and half > 0
    assert list(sample_indices(4, 0, seed=1)) == [0, 1, 2, 3]
    picked = sample_indices(100, 10, seed=1)
    assert len(set(picked)) == 10 and list(picked) == sorted(picked)
    assert list(picked) == list(sample_indices(100, 10, seed=1))
