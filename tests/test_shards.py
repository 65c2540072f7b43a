"""The shard plan (pure): sample order, duplicates charged to their representative, runs."""

from __future__ import annotations

import numpy as np

from pmc_pipeline.shards import FIGURE, PANEL, plan_shards, sample_order

# Figures in (partition, row) order: partition 0 rows 0-1, partition 1 rows 0-1. Figure 1
# is a dropped duplicate of figure 2; figure 0 has two panels, figure 2 one (panel rows
# are rows of each partition's panels part).
PARTITION = np.array([0, 0, 1, 1])
ROW = np.array([0, 1, 0, 1])
SPLIT = np.array([0, 0, 0, 2])  # train, train, train, test
KEEP = np.array([True, False, True, True])
CHARGED = np.array([0, 0, 1, 0])
PANEL_PARENT = np.array([0, 0, 2, -1])  # the last panel's parent is unknown
PANEL_ROW = np.array([0, 1, 0, 1])


def order(panels: str):
    return sample_order(PARTITION, ROW, SPLIT, KEEP, CHARGED, PANEL_PARENT, PANEL_ROW, panels)


def test_figures_then_their_panels_by_split_dropped_duplicates_charged_once():
    s = order("add")
    assert s.split.tolist() == [0, 0, 0, 0, 0, 2]
    assert s.kind.tolist() == [FIGURE, PANEL, PANEL, FIGURE, PANEL, FIGURE]
    assert s.partition.tolist() == [0, 0, 0, 1, 1, 1]
    assert s.row.tolist() == [0, 0, 1, 0, 0, 1]
    assert s.parent.tolist() == [0, 0, 0, 0, 0, 1]
    assert s.charged.tolist() == [0, 0, 0, 1, 0, 0]
    only = order("only")  # the charge moves to the figure's first panel
    assert only.kind.tolist() == [PANEL] * 3 and only.charged.tolist() == [0, 0, 1]
    assert order("off").kind.tolist() == [FIGURE] * 3


def test_shards_cut_each_split_and_runs_follow_partitions():
    shards, runs = plan_shards(order("add"), samples_per_shard=4)
    assert [(s.split, s.index, s.partitions, s.samples, s.duplicates_dropped) for s in shards] == [
        ("train", 0, (0, 1), 4, 1),
        ("train", 1, (1,), 1, 0),
        ("test", 0, (1,), 1, 0),
    ]
    assert [(r.split, r.name, r.kind.tolist()) for r in runs] == [
        ("train", "00000", [FIGURE, PANEL, PANEL]),
        ("train", "00000", [FIGURE]),
        ("train", "00001", [PANEL]),
        ("test", "00000", [FIGURE]),
    ]
