"""Where the per-partition stages keep their parts: one spelling for the writer of a part
and for every stage that reads it or skips because it exists."""

from __future__ import annotations

from ..storage import part_name


def bundle_path(partition: int) -> str:
    return f"bundles/{part_name(partition, '.tar')}"


def figures_path(partition: int) -> str:
    return f"figures/{part_name(partition, '.parquet')}"
