"""The JSON Schemas in schemas/ are valid, typed for Parquet, and what the code writes."""

from __future__ import annotations

import jsonschema
import pytest

from pmc_pipeline.schema import SCHEMA_DIR, arrow_schema, json_schema

NAMES = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_and_every_field_has_a_parquet_type(name):
    spec = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(spec)
    assert spec["additionalProperties"] is False
    assert set(spec["required"]) <= set(spec["properties"])
    if not spec.get("x-document"):  # a JSON document (plan.json), not a Parquet row
        assert len(arrow_schema(name)) == len(spec["properties"])


def test_every_written_record_kind_has_a_schema():
    assert {
        "manifest",
        "excluded",
        "removed",
        "error",
        "figure",
        "panel",
        "cluster",
        "sample",
    } <= set(NAMES)


def test_dedupe_writes_the_cluster_schema():
    import pyarrow as pa

    from pmc_pipeline.dedupe import DedupeParams, find_duplicates

    figures = pa.table(
        {
            "key": ["PMC1_f1", "PMC2_f1"],
            "pmcid": ["PMC1", "PMC2"],
            "width": pa.array([600, 300], pa.int32()),
            "height": pa.array([400, 200], pa.int32()),
            "orig_width": pa.array([600, 300], pa.int32()),
            "orig_height": pa.array([400, 200], pa.int32()),
            "sha256": ["a" * 64, "a" * 64],
            "phash": pa.array([2**63 + 5, 2**63 + 5], pa.uint64()),
            "phash_crop": pa.array([2**63 + 7, 2**63 + 7], pa.uint64()),
            "dhash": pa.array([7, 7], pa.uint64()),
            "gray_std": pa.array([40.0, 40.0], pa.float32()),
        }
    )
    _, clusters = find_duplicates(figures, DedupeParams())
    full = arrow_schema("cluster")
    expected = full.remove(full.get_field_index("split"))  # the stage appends the split
    assert clusters.schema.names == expected.names
    assert [f.type for f in clusters.schema] == [f.type for f in expected]
    for row in clusters.to_pylist():
        jsonschema.validate({**row, "split": "train"}, json_schema("cluster"))
