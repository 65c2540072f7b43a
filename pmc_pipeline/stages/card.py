"""The dataset card step of ``report``: read what the card needs, write ``OUT/README.md``.

The text itself is pure (``card.py``); this reads two narrow columns of each shard's
Parquet (license code and URL, counted per split) and the build metadata, and writes the
card once shards exist. No clock, no host: the same build gives the same card.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..card import CardFacts, dataset_card
from ..config import Config
from ..demo import MARKER
from ..licenses import NO_CODE, hub_license
from ..storage import Store

if TYPE_CHECKING:
    from .report import BuildFiles

CARD = "README.md"
LICENSE_COLUMNS = ["license_code", "license_url"]


@dataclass(frozen=True)
class SampleLicenses:
    """Samples per license code in each split, and per hub license id (``other``: none)."""

    per_split: dict[str, dict[str, int]]
    hub: dict[str, int]

    @property
    def codes(self) -> dict[str, int]:
        total: Counter = Counter()
        for counts in self.per_split.values():
            total.update(counts)
        return dict(total)


def read_sample_licenses(files: BuildFiles) -> SampleLicenses:
    """License counts of the written samples, from every shard's Parquet."""
    per_split: dict[str, dict[str, int]] = {}
    hub: Counter = Counter()
    for split in files.subdirs("shards"):
        rels = files.store.list(f"shards/{split}", ".parquet")
        tables = files.each(lambda rel: files.store.read_table(rel, LICENSE_COLUMNS), rels)
        codes: Counter = Counter()
        for table in tables.values():
            grouped = table.group_by(LICENSE_COLUMNS).aggregate([([], "count_all")])
            for row in grouped.to_pylist():
                n = row["count_all"]
                codes[row["license_code"] or NO_CODE] += n
                hub[hub_license(row["license_code"], row["license_url"]) or "other"] += n
        if codes:
            per_split[split] = dict(codes)
    return SampleLicenses(per_split, dict(sorted(hub.items())))


def source_name(config: Config) -> str:
    """How the card names the source: ``demo`` for the bundled one, else as configured."""
    local = Path(config.source)
    if "://" not in config.source and (local / MARKER).is_file():
        return "demo"
    return config.source


def package_version() -> str:
    try:
        return version("pmc-pipeline")
    except PackageNotFoundError:
        return "unknown"


def write_card(
    config: Config,
    store: Store,
    inputs: dict[str, Any],
    funnel: dict[str, Any],
    licenses: SampleLicenses,
) -> bool:
    """Write the card when the build has samples; returns whether it did. ``inputs`` are the
    report's (``sizes``: each split's sizes.json, ``manifest``: the listing's summary)."""
    facts = CardFacts(
        sizes=inputs.get("sizes") or {},
        licenses=licenses.per_split,
        hub_licenses=licenses.hub,
        funnel=funnel,
        config=config,
        version=package_version(),
        source=source_name(config),
        listing=inputs.get("manifest"),
    )
    if not facts.total:
        return False
    store.write_bytes(CARD, dataset_card(facts).encode())
    return True
