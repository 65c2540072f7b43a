"""Store: atomic writes leave nothing half-written, and abandoned temporaries are swept."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pytest

from pmc_pipeline.storage import STALE_TEMP_S, Store


def test_failed_write_publishes_nothing_and_leaves_no_temporary(tmp_path):
    store = Store(str(tmp_path))
    with pytest.raises(RuntimeError), store.atomic_writer("figures/part-00000.parquet") as f:
        f.write(b"half")
        raise RuntimeError("killed mid-write")
    assert list((tmp_path / "figures").iterdir()) == []


def test_sweep_removes_abandoned_temporaries_only(tmp_path):
    store = Store(str(tmp_path))
    store.write_bytes("bundles/part-00000.tar", b"done")
    old = tmp_path / "bundles" / f".part-00001.tar.{'a' * 32}.tmp"
    fresh = tmp_path / "figures" / f".part-00001.parquet.{'b' * 32}.tmp"
    unrelated = tmp_path / "bundles" / ".notes.tmp"  # not a name atomic_writer makes
    for path in (old, fresh, unrelated):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    long_ago = time.time() - STALE_TEMP_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(unrelated, (long_ago, long_ago))
    assert store.sweep_temp() == 1
    assert not old.exists() and fresh.exists() and unrelated.exists()
    assert (tmp_path / "bundles" / "part-00000.tar").read_bytes() == b"done"
    assert store.sweep_temp(older_than_s=0) == 1 and not fresh.exists()


def test_sweep_of_a_missing_folder_or_a_bucket_is_a_no_op(tmp_path):
    assert Store(str(tmp_path / "absent")).sweep_temp() == 0
    assert Store("s3://bucket/prefix").sweep_temp() == 0


def test_table_writer_publishes_the_pieces_whole_or_nothing(tmp_path):
    store = Store(str(tmp_path))
    schema = pa.schema([pa.field("n", pa.int64())])
    with store.table_writer("manifest/excluded.parquet", schema) as writer:
        for start in (0, 3):
            writer.write_table(pa.table({"n": range(start, start + 3)}, schema=schema))
    assert store.read_table("manifest/excluded.parquet")["n"].to_pylist() == list(range(6))
    with pytest.raises(RuntimeError), store.table_writer("manifest/other.parquet", schema) as w:
        w.write_table(pa.table({"n": [1]}, schema=schema))
        raise RuntimeError("killed mid-write")
    assert sorted(p.name for p in (tmp_path / "manifest").iterdir()) == ["excluded.parquet"]
