"""WebDataset samples and shard plans (pure: records in, bytes and plans out).

A sample is three adjacent tar members sharing a key (DESIGN.md §5): ``<key>.jpg``,
``<key>.txt`` (the training caption) and ``<key>.json`` (every metadata field, valid
against ``schemas/sample.schema.json``). Shards are planned in a fixed order (figures
partition, row, then the figure's panels) so two builds give the same bytes.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from typing import IO

import numpy as np

from .attribution import attribution
from .dedupe import SPLITS
from .tarball import add_member

# Figure columns that do not travel into the sample's .json / shard Parquet.
NOT_METADATA = frozenset({"image"})


def shard_name(index: int) -> str:
    """``00042``: open_clip's brace patterns (``{00000..00041}.tar``) expect zero padding."""
    return f"{index:05d}"


FIGURE, PANEL = 0, 1  # sample kinds in a plan


@dataclass(frozen=True)
class ShardPlan:
    """One shard: its split and number, the figures partitions its samples come from (a
    shard is its pieces joined in this order), and the duplicates its samples stand for."""

    split: str
    index: int
    partitions: tuple[int, ...]
    samples: int
    duplicates_dropped: int

    @property
    def name(self) -> str:
        return shard_name(self.index)


@dataclass(frozen=True)
class Run:
    """The samples one shard takes from one figures partition, in order: each one's kind,
    its row in the figures part (a figure) or the panels part (a panel), and its figure's
    row. Small arrays: the whole plan of a PMC-scale build stays a few bytes per sample."""

    split: str
    index: int
    kind: np.ndarray  # int8: FIGURE or PANEL
    row: np.ndarray  # int32
    parent: np.ndarray  # int32

    @property
    def name(self) -> str:
        return shard_name(self.index)


@dataclass(frozen=True)
class Samples:
    """The samples of a build in shard order, as parallel arrays (see :func:`sample_order`)."""

    split: np.ndarray  # int8 index into SPLITS
    partition: np.ndarray  # int32: the figures partition
    kind: np.ndarray  # int8
    row: np.ndarray  # int32: row in figures/ or panels/ part
    parent: np.ndarray  # int32: the figure's row in its figures part
    charged: np.ndarray  # int64: dropped duplicates the sample stands for


def sample_order(
    partition: np.ndarray,
    row: np.ndarray,
    split: np.ndarray,
    keep: np.ndarray,
    charged: np.ndarray,
    panel_parent: np.ndarray,
    panel_row: np.ndarray,
    panels: str,
) -> Samples:
    """Order the samples: by figure (partition, row), the figure first, then its panels.

    Figure arrays are in (partition, row) order; ``keep`` says which figures are written
    (with their panels), ``charged`` how many dropped duplicates each stands for (counted
    on its first sample). ``panel_parent`` is the figure index of each panel (-1: none);
    ``panels`` is "off", "add" or "only".
    """
    fig_idx = np.flatnonzero(keep) if panels != "only" else np.empty(0, dtype=np.int64)
    pan = np.flatnonzero(panel_parent >= 0) if panels != "off" else np.empty(0, dtype=np.int64)
    pan = pan[keep[panel_parent[pan]]]
    fig = np.concatenate([fig_idx, panel_parent[pan]]).astype(np.int64)
    kind = np.concatenate([np.full(len(fig_idx), FIGURE), np.full(len(pan), PANEL)])
    item_row = np.concatenate([row[fig_idx], panel_row[pan]]).astype(np.int32)
    order = np.lexsort((item_row, kind, fig))
    fig, kind, item_row = fig[order], kind[order].astype(np.int8), item_row[order]
    first = np.ones(len(fig), dtype=bool)
    first[1:] = fig[1:] != fig[:-1]
    by_split = np.argsort(split[fig], kind="stable")  # SPLITS order, sample order within
    fig, kind, item_row, first = fig[by_split], kind[by_split], item_row[by_split], first[by_split]
    return Samples(
        split=split[fig].astype(np.int8),
        partition=partition[fig].astype(np.int32),
        kind=kind,
        row=item_row,
        parent=row[fig].astype(np.int32),
        charged=np.where(first, charged[fig], 0).astype(np.int64),
    )


def plan_shards(samples: Samples, samples_per_shard: int) -> tuple[list[ShardPlan], list[Run]]:
    """Cut each split into shards of ``samples_per_shard``; each shard into its runs per
    figures partition (shards in SPLITS order, then number; runs in partition order)."""
    plans: list[ShardPlan] = []
    runs: list[Run] = []
    for code, split in enumerate(SPLITS):
        at = np.flatnonzero(samples.split == code)
        for index, lo in enumerate(range(0, len(at), samples_per_shard)):
            take = at[lo : lo + samples_per_shard]
            part = samples.partition[take]
            starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
            bounds = [*starts.tolist(), len(take)]
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                rows = take[a:b]
                runs.append(
                    Run(split, index, samples.kind[rows], samples.row[rows], samples.parent[rows])
                )
            plans.append(
                ShardPlan(
                    split,
                    index,
                    tuple(part[starts].tolist()),
                    len(take),
                    int(samples.charged[take].sum()),
                )
            )
    return plans, runs


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
    meta["attribution"] = attribution(meta)
    return meta


def panel_sample(parent: dict, panel: dict) -> dict:
    """A panel inherits its figure's article metadata; image fields and text are its own,
    and its attribution names the panel (its caption label, else its number)."""
    meta = dict(parent)
    which = panel.get("label") or str(int(panel["panel_index"]) + 1)
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
        attribution=attribution(parent, panel=which),
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
