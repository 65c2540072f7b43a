"""The ``split`` stage: ``figures/part-NNNNN.parquet`` -> ``panels/part-NNNNN.parquet``.

Each figure is passed to the pure splitter (``subfigures.panel_rows``); a compound figure
gives one row per panel with its sub-caption, a single-panel figure gives none. A figure
the splitter cannot handle becomes an error row; the figure itself stays in the dataset.
"""

from __future__ import annotations

import json

import pyarrow as pa

from ..config import Config
from ..errors import ErrorLog
from ..images import ImageError
from ..schema import arrow_schema
from ..storage import part_name
from ..subfigures import DetectorError, load_detector, panel_rows
from .extract import figures_path

PANEL_SCHEMA = arrow_schema("panel")


def panels_path(partition: int) -> str:
    return f"panels/{part_name(partition, '.parquet')}"


def split_partition(config: Config, partition: int) -> dict:
    """Dask task: the panels of one figures partition (skipped when written)."""
    store = config.store
    target = panels_path(partition)
    if store.exists(target):
        return {"partition": partition, "skipped": True}
    detector = load_detector(config.panel_detector)
    columns = ["key", "caption", "image"]
    figures = store.read_table(figures_path(partition), columns=columns).to_pylist()
    errors = ErrorLog("split", partition)
    rows: list[dict] = []
    compound = 0
    for fig in figures:
        try:
            panels = panel_rows(
                fig,
                fig["image"],
                detector=detector,
                max_side=config.max_side,
                quality=config.jpeg_quality,
            )
        except (ImageError, DetectorError, ValueError) as exc:
            errors.add(fig["key"], exc)
            continue
        compound += bool(panels)
        rows.extend(panels)
    store.write_table(f"errors/split/{part_name(partition, '.parquet')}", errors.table())
    summary = {
        "partition": partition,
        "skipped": False,
        "figures": len(figures),
        "compound_figures": compound,
        "panels": len(rows),
        "panels_aligned": sum(1 for r in rows if r["aligned"]),
        "errors": errors.counts(),
    }
    store.write_bytes(f"stats/split/{part_name(partition, '.json')}", json.dumps(summary).encode())
    store.write_table(target, pa.Table.from_pylist(rows, schema=PANEL_SCHEMA))
    return summary
