"""One frozen configuration object for every stage.

CLI flags and an optional TOML file map onto it. The ``list`` stage saves it as
``OUT/config.json`` so later stages (``pmc-pipeline fetch --out OUT``) know the source
without repeating it; flags given later override what was saved.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from .storage import Store

CONFIG_FILE = "config.json"

LICENSE_GROUPS: dict[str, tuple[str | None, ...]] = {
    "comm": ("CC0", "CC BY", "CC BY-SA", "CC BY-ND"),
    "noncomm": ("CC BY-NC", "CC BY-NC-SA", "CC BY-NC-ND"),
    "other": ("NO-CC CODE", "TDM", None),
}


@dataclass(frozen=True)
class Config:
    """Everything a stage needs to know; defaults are the documented CLI defaults."""

    out: str = "build"
    out_endpoint_url: str | None = None
    # source
    source: str = "s3://pmc-oa-opendata"
    endpoint_url: str | None = None
    sign: bool = False
    # list
    licenses: tuple[str, ...] = ()  # empty: every OA article, as PMC-15M did
    limit: int | None = None
    pmcids_file: str | None = None
    partition_size: int = 500
    previous: str | None = None
    include_manuscripts: bool = False
    include_ocr: bool = False
    # fetch
    concurrency: int = 8
    # A full build sends ~9M metadata GETs, then XML and figure images (~24M figures in
    # BIOMEDICA's count; ~35M GETs with media "all"): days at 100/s. S3 serves 5,500 GETs/s
    # per prefix (every article has its own) and answers SlowDown, which backs off.
    requests_per_second: float = 1000.0
    retries: int = 5
    timeout: float = 60.0
    max_object_bytes: int = 512 * 1024 * 1024
    media: str = "figures"  # figures: the images <fig> graphics name; all: every listed image
    discard_bundles: bool = False  # delete a partition's bundle once its figures are written
    # extract
    max_side: int = 1024
    jpeg_quality: int = 90
    min_side: int = 32
    # dedupe and split assignment
    near_distance: int = 4  # pHash bits; chosen with bench/dedupe_quality.py
    near_bucket_cap: int = 2000  # band buckets fuller than this are skipped (and counted)
    degenerate_gray_std: float = 2.0  # below: near-uniform, kept out of the near search
    degenerate_min_pixels: int = 128 * 128  # original images smaller than this: tiny
    degenerate_phash_count: int = 1000  # one pHash shared by more distinct images: generic
    representative: str = "largest"  # largest image wins; ties -> lowest PMCID
    test_fraction: float = 0.05
    val_fraction: float = 0.001
    split_salt: str = "pmc-pipeline-split-v1"
    # split (subfigures) and shards
    panels: str = "add"  # off | add | only
    panel_detector: str | None = None  # local "file.py:fn", "module:fn" or TorchScript path
    samples_per_shard: int = 5000
    keep_duplicates: bool = False
    # cluster
    scheduler: str | None = None
    workers: int | None = None
    threads_per_worker: int = 1
    memory_limit: str = "auto"
    progress: bool = True

    @property
    def store(self) -> Store:
        """The build folder (local or s3://) this config writes to."""
        return Store(self.out, self.out_endpoint_url)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build from a mapping, rejecting unknown keys with a helpful message."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}; known: {sorted(names)}")
        data = dict(data)
        if "licenses" in data:
            data["licenses"] = tuple(data["licenses"])
        return cls(**data)


def license_filter(selectors: tuple[str, ...]) -> set[str | None] | None:
    """Expand group names (comm, noncomm, other) and explicit codes; None means keep all."""
    if not selectors:
        return None
    allowed: set[str | None] = set()
    for sel in selectors:
        key = sel.strip()
        if key.lower() in LICENSE_GROUPS:
            allowed.update(LICENSE_GROUPS[key.lower()])
        elif key:
            allowed.add(key)
    return allowed
