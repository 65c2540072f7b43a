"""The ``split`` stage: ``figures/part-NNNNN.parquet`` -> ``panels/part-NNNNN.parquet``.

Each figure is passed to the pure splitter (``subfigures.split_figure``), which decides
whether it splits: an accepted compound figure gives one row per panel with its sub-caption
(a panel sample), a rejected one its candidate boxes with the reason (for inspection, no
image), a figure with no candidate nothing. ``stats/split`` counts every decision. A figure
the splitter cannot handle becomes an error row; the figure itself stays in the dataset.
"""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa

from ..config import Config
from ..errors import ErrorLog
from ..images import ImageError
from ..schema import arrow_schema
from ..storage import part_name
from ..subfigures import DetectorError, load_detector, split_figure
from .parts import panels_path, read_figures

PANEL_SCHEMA = arrow_schema("panel")


def split_partition(config: Config, partition: int) -> dict:
    """Dask task: the panels of one figures partition (skipped when written)."""
    store = config.store
    target = panels_path(partition)
    if store.exists(target):
        return {"partition": partition, "skipped": True}
    detector = load_detector(config.panel_detector)
    columns = ["key", "caption", "image", "authors"]
    figures = read_figures(store, partition, columns).to_pylist()
    errors = ErrorLog("split", partition)
    rows: list[dict] = []
    decisions: Counter[str] = Counter()
    labelled = candidates = accepted = 0
    for fig in figures:
        try:
            result = split_figure(
                fig,
                fig["image"],
                detector=detector,
                max_side=config.max_side,
                quality=config.jpeg_quality,
            )
        except (ImageError, DetectorError, ValueError) as exc:
            errors.add(fig["key"], exc)
            continue
        decisions[result.decision.reason] += 1
        labelled += result.caption_labels >= 2
        candidates += len(result.rows) >= 2
        accepted += result.decision.accepted
        rows.extend({**row, "authors": fig["authors"]} for row in result.rows)
    store.write_table(f"errors/split/{part_name(partition, '.parquet')}", errors.table())
    panels = [r for r in rows if r["decision"] == "accepted"]
    summary = {
        "partition": partition,
        "skipped": False,
        "figures": len(figures),
        "caption_labelled": labelled,
        "candidates": candidates,
        "accepted": accepted,
        "panels": len(panels),
        "panels_aligned": sum(1 for r in panels if r["aligned"]),
        "decisions": dict(sorted(decisions.items())),
        "errors": errors.counts(),
    }
    store.write_bytes(f"stats/split/{part_name(partition, '.json')}", json.dumps(summary).encode())
    store.write_table(target, pa.Table.from_pylist(rows, schema=PANEL_SCHEMA))
    return summary
