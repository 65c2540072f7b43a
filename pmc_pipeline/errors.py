"""Error rows: bad input never kills a run and never vanishes.

Each per-partition stage collects one row per item it could not handle and writes them to
``errors/<stage>/part-NNNNN.parquet`` (always, possibly empty, so the funnel can count).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from .schema import arrow_schema

log = logging.getLogger("pmc_pipeline")

ERROR_SCHEMA = arrow_schema("error")


@dataclass
class ErrorLog:
    """Collects error rows of one stage and partition."""

    stage: str
    partition: int
    rows: list[dict] = field(default_factory=list)

    def add(self, item_id: str, error: BaseException | str, error_class: str | None = None) -> None:
        message = str(error)
        cls = error_class or (type(error).__name__ if isinstance(error, BaseException) else "Error")
        log.info("%s part %d: %s: %s: %s", self.stage, self.partition, item_id, cls, message)
        self.rows.append(
            {
                "id": item_id,
                "stage": self.stage,
                "partition": self.partition,
                "error_class": cls,
                "message": message,
            }
        )

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=ERROR_SCHEMA)

    def counts(self) -> dict[str, int]:
        """Errors by class, for the funnel."""
        return dict(Counter(row["error_class"] for row in self.rows))
