"""Near-duplicate quality on the real corpus: precision/recall of pHash pairs by distance.

The set: every corpus image except ``.gif`` thumbnails (too small ones are rejected by
``normalise_image`` as in extract), the 5 full-resolution eLife 30274 figures in
``_dedupe/``, and three generated copies of each image (JPEG quality 50, half size, 2%
cropped off each side). Ground truth: two items are duplicates when they come from the
same source figure. Prints a Markdown table for distances 0..12; the default
``near_distance`` in Config is chosen from it.

    python -m bench.dedupe_quality [CORPUS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

from pmc_pipeline.config import Config
from pmc_pipeline.dedupe import DedupeParams, find_duplicates
from tests.fixtures.dedupe_corpus import VARIANTS, corpus_table


def quality_rows(table: pa.Table, distances: range = range(13)) -> list[dict[str, float]]:
    """Pairwise precision/recall of 'distance <= d' against 'same source figure', plus the
    recall of each kind of copy against its original. The distance is dedupe's: pHash to
    pHash, or one's 2%-cropped pHash to the other's pHash."""
    p, c = table["phash"].to_numpy(), table["phash_crop"].to_numpy()
    source = np.asarray(table["source"].to_pylist())
    variant = np.asarray(table["variant"].to_pylist())
    i, j = np.triu_indices(len(source), 1)
    dist = np.min(
        [np.bitwise_count(x ^ y) for x, y in ((p[i], p[j]), (c[i], p[j]), (p[i], c[j]))], axis=0
    )
    same = source[i] == source[j]
    out = []
    for d in distances:
        hit = dist <= d
        tp, fp = int((hit & same).sum()), int((hit & ~same).sum())
        row: dict[str, float] = {
            "d": d,
            "pairs": tp + fp,
            "true": tp,
            "false": fp,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / int(same.sum()),
        }
        for kind in (*VARIANTS, "hires"):
            pair = same & (
                ((variant[i] == "orig") & (variant[j] == kind))
                | ((variant[j] == "orig") & (variant[i] == kind))
            )
            row[kind] = int((pair & hit).sum()) / max(1, int(pair.sum()))
        out.append(row)
    return out


def markdown(rows: list[dict[str, float]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in head]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merged_sources(table: pa.Table, near_distance: int) -> tuple[int, int]:
    """Clusters of the dedupe code at ``near_distance``: (clusters holding more than one
    source figure, copies not in their source's cluster)."""
    _, clusters = find_duplicates(table, DedupeParams(near_distance=near_distance))
    by_key = dict(zip(table["key"].to_pylist(), table["source"].to_pylist(), strict=True))
    cid = dict(zip(clusters["key"].to_pylist(), clusters["cluster_id"].to_pylist(), strict=True))
    sources: dict[str, set[str]] = {}
    for key, c in cid.items():
        sources.setdefault(c, set()).add(by_key[key])
    home: dict[str, set[str]] = {}
    for key, src in by_key.items():
        home.setdefault(src, set()).add(cid[key])
    return sum(len(s) > 1 for s in sources.values()), sum(len(c) - 1 for c in home.values())


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared/corpus"
    table = corpus_table(corpus)
    counts = {v: table["variant"].to_pylist().count(v) for v in ("orig", *VARIANTS, "hires")}
    print(f"{table.num_rows} items: {counts}\n")
    print(markdown(quality_rows(table)))
    d = Config().near_distance
    mixed, split = merged_sources(table, d)
    print(f"\nclusters at near_distance={d}: {mixed} mix source figures, {split} copies apart")


if __name__ == "__main__":
    main()
