"""Where the per-partition stages keep their parts: one spelling for the writer of a part
and for every stage that reads it or skips because it exists, and one reader that refuses,
with the fix, a part an older version of its stage wrote without a column now needed."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import arrow_schema
from ..storage import Store, part_name


def bundle_path(partition: int) -> str:
    return f"bundles/{part_name(partition, '.tar')}"


def figures_path(partition: int) -> str:
    return f"figures/{part_name(partition, '.parquet')}"


def panels_path(partition: int) -> str:
    return f"panels/{part_name(partition, '.parquet')}"


def read_part(store: Store, rel: str, columns: list[str], stage: str, redo: str) -> pa.Table:
    """``columns`` of one part; a part that lacks one was written by an older ``stage``: say
    which folders (``redo``) to remove, rather than fail deep inside a later stage."""
    with store.open_read(rel) as f:
        part = pq.ParquetFile(f)
        missing = [c for c in columns if c not in part.schema_arrow.names]
        if missing:
            raise ValueError(
                f"{rel} has no {', '.join(missing)} column: an older {stage} wrote it; "
                f"remove {redo} and run the build again"
            )
        return part.read(columns=columns)


def read_figures(store: Store, partition: int, columns: list[str] | None = None) -> pa.Table:
    """A figures part (``columns``, default all)."""
    wanted = columns or arrow_schema("figure").names
    redo = "figures/ (and panels/, dedupe/, shards/)"
    return read_part(store, figures_path(partition), wanted, "extract", redo)
