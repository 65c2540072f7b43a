"""WebDataset samples and shard plans (pure: records in, bytes and plans out).

A sample is three adjacent tar members sharing a key (DESIGN.md §5): ``<key>.jpg``,
``<key>.txt`` (the training caption) and ``<key>.json`` (every metadata field, valid
against ``schemas/sample.schema.json``). Shards are planned in a fixed order (figures
partition, row, then the figure's panels) so two builds give the same bytes.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from typing import IO

from .dedupe import SPLITS
from .tarball import add_member

# Figure columns that do not travel into the sample's .json / shard Parquet.
NOT_METADATA = frozenset({"image"})


def shard_name(index: int) -> str:
    """``00042``: open_clip's brace patterns (``{00000..00041}.tar``) expect zero padding."""
    return f"{index:05d}"


# One sample of a plan: kind ("figure" | "panel"), its partition and row (in figures/ or
# panels/), the parent figure's partition and row, the figure's cluster record, and how
# many dropped duplicates this sample stands for.
PlanItem = tuple[str, int, int, int, int, dict, int]


@dataclass
class ShardPlan:
    """Which samples go into one shard, in order."""

    split: str
    index: int
    items: list[PlanItem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def duplicates_dropped(self) -> int:
        return sum(item[6] for item in self.items)


def plan_shards(entries: dict[str, list[PlanItem]], samples_per_shard: int) -> list[ShardPlan]:
    """Cut each split's ordered entries into shards of ``samples_per_shard`` samples."""
    plans = []
    for split in SPLITS:
        items = entries.get(split, [])
        for i in range(0, len(items), samples_per_shard):
            plans.append(ShardPlan(split, i // samples_per_shard, items[i : i + samples_per_shard]))
    return plans


def hex64(value: int) -> str:
    return f"{value:016x}"


def figure_sample(row: dict, cluster: dict, *, duplicate: bool) -> dict:
    """The metadata record of a whole-figure sample."""
    meta = {k: v for k, v in row.items() if k not in NOT_METADATA}
    meta["phash"], meta["dhash"] = hex64(row["phash"]), hex64(row["dhash"])
    meta["phash_crop"] = hex64(row["phash_crop"])
    meta.update(
        kind="figure",
        split=cluster["split"],
        cluster_id=cluster["cluster_id"],
        representative=cluster["representative"],
        dedupe_reason=cluster["reason"],
        duplicate=duplicate,
        distance=int(cluster["distance"]),
        degenerate=bool(cluster["degenerate"]),
        parent_key=None,
        panel_index=None,
        box=None,
        aligned=None,
        text=row["caption"],
    )
    return meta


def panel_sample(parent: dict, panel: dict) -> dict:
    """A panel inherits its figure's article metadata; image fields and text are its own."""
    meta = dict(parent)
    meta.update(
        key=panel["key"],
        kind="panel",
        parent_key=panel["parent_key"],
        panel_index=int(panel["panel_index"]),
        box=[float(x) for x in panel["box"]],
        aligned=bool(panel["aligned"]),
        label=panel.get("label") or parent.get("label"),
        width=int(panel["width"]),
        height=int(panel["height"]),
        sha256=panel["sha256"],
        phash=hex64(panel["phash"]),
        dhash=hex64(panel["dhash"]),
        phash_crop=None,
        text=panel["subcaption"],
    )
    return meta


def write_samples(out: IO[bytes], samples: list[tuple[dict, bytes]]) -> int:
    """Write (metadata, jpeg) samples as adjacent jpg/txt/json members; returns bytes written."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for meta, jpeg in samples:
            key = meta["key"]
            add_member(tar, f"{key}.jpg", jpeg)
            add_member(tar, f"{key}.txt", meta["text"].encode("utf-8"))
            add_member(tar, f"{key}.json", sample_json(meta))
    return out.tell()


def sample_json(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8")
