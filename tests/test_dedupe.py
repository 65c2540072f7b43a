"""Dedupe: exact and near-duplicate clusters, representatives, stable ids, splits, the stage."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmc_pipeline import dedupe as dd
from pmc_pipeline.config import Config
from pmc_pipeline.schema import arrow_schema
from tests.fixtures.dedupe_corpus import corpus_table

SCHEMA = pa.schema(
    [arrow_schema("figure").field(name) for name in (*dd.FIGURE_COLUMNS, "dhash", "image")]
)
BASE = 0x0123_4567_89AB_CDEF


def fig(key: str, phash: int, *, content: str | None = None, size: int = 500, **kw) -> dict:
    """One figure row; ``content`` names the image bytes (same content: same sha256)."""
    pmcid = key.split("_")[0]
    row = {
        "key": key,
        "pmcid": pmcid,
        "width": min(size, 1024),
        "height": min(size, 1024),
        "orig_width": size,
        "orig_height": size,
        "sha256": hashlib.sha256((content or key).encode()).hexdigest(),
        "phash": phash,
        "phash_crop": phash,  # the same: these tests pair figures through pHash alone
        "dhash": 0,
        "gray_std": 40.0,
        "image": b"",
    }
    row.update(kw)
    return row


def near_hashes(a: dict, b: dict) -> int:
    """Distance as dedupe sees it: the closest of the two figures' hashes."""
    return min(
        (x ^ y).bit_count()
        for x in (a["phash"], a["phash_crop"])
        for y in (b["phash"], b["phash_crop"])
    )


def flip(h: int, *bits: int) -> int:
    for b in bits:
        h ^= 1 << b
    return h


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def clusters(rows: list[dict], **params) -> dict[str, dict]:
    _, out = dd.find_duplicates(table(rows), dd.DedupeParams(**params))
    return {r["key"]: r for r in out.to_pylist()}


def random_hashes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64 - 1, n, dtype=np.uint64)


# ---------------------------------------------------------------- near search


@pytest.mark.parametrize("d", range(0, 9))
def test_near_pairs_equal_brute_force(d: int) -> None:
    rng = np.random.default_rng(d)
    h = random_hashes(1500, d)
    copies = h[rng.integers(0, len(h), 400)]
    for i in range(len(copies)):
        for b in rng.choice(64, rng.integers(0, 9), replace=False):
            copies[i] ^= np.uint64(1) << np.uint64(b)
    h = np.concatenate([h, copies])
    rows = np.arange(len(h))
    got = dd.near_pairs(
        SimpleNamespace(phash=h, phash_crop=h), rows, dd.DedupeParams(near_distance=d)
    )
    a, b = np.nonzero(np.triu(np.bitwise_count(h[:, None] ^ h[None, :]) <= d, 1))
    assert np.array_equal(got, np.column_stack([a, b]))


@pytest.mark.parametrize("d", [2, 4, 5])
def test_crop_hashes_pair_like_brute_force(d: int) -> None:
    """A crop hash close to another figure's pHash pairs them; crop-to-crop does not."""
    rng = np.random.default_rng(100 + d)
    h = random_hashes(1200, d)
    c = h.copy()
    for i in range(len(c)):
        for b in rng.choice(64, 3, replace=False):
            c[i] ^= np.uint64(1) << np.uint64(b)
    targets = rng.integers(0, len(h), 300)
    for i, t in zip(rng.integers(0, len(h), 300), targets, strict=True):
        c[i] = h[t] ^ (np.uint64(1) << np.uint64(rng.integers(64)))  # i, trimmed, looks like t
    rows = np.arange(len(h))
    got = dd.near_pairs(
        SimpleNamespace(phash=h, phash_crop=c), rows, dd.DedupeParams(near_distance=d)
    )
    dist = np.minimum.reduce(
        [
            np.bitwise_count(h[:, None] ^ h[None, :]),
            np.bitwise_count(c[:, None] ^ h[None, :]),
            np.bitwise_count(h[:, None] ^ c[None, :]),
        ]
    )
    a, b = np.nonzero(np.triu(dist <= d, 1))
    assert np.array_equal(got, np.column_stack([a, b]))


def test_probe_radius_follows_pigeonhole() -> None:
    for d in range(0, 9):
        r = dd.probe_radius(d, 3)
        assert 3 * (r + 1) - 1 >= d and (r == 0 or 3 * r - 1 < d)
    with pytest.raises(dd.DedupeError, match="more bands"):
        dd.probe_radius(9, 3)
    assert dd.band_layout(3) == [(42, 22), (21, 21), (0, 21)]


def test_full_band_buckets_are_skipped_and_counted() -> None:
    h = np.array([BASE] * 5 + [flip(BASE, 0, 1, 2)], dtype=np.uint64)  # band 0 holds 6 rows
    index = dd.build_band_index(h, np.arange(6), 42, 22, bucket_cap=5)
    assert (index.capped_buckets, index.capped_rows) == (1, 6)
    assert len(dd.band_pairs(index, 0, 6, max_distance=4, radius=1)) == 0


# ---------------------------------------------------------------- clusters


def test_exact_and_near_duplicates_are_planted_and_found() -> None:
    rows = [
        fig("PMC1_f1", BASE, size=900),
        fig("PMC2_f1", BASE, content="PMC1_f1", size=900),  # same bytes
        fig("PMC3_f1", flip(BASE, 3, 40, 63), size=400),  # 3 bits away
        fig("PMC4_f1", flip(BASE, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),  # 10 bits: unrelated
    ]
    got = clusters(rows, near_distance=4)
    assert got["PMC1_f1"]["reason"] == "representative"
    assert (got["PMC2_f1"]["reason"], got["PMC2_f1"]["distance"]) == ("exact", 0)
    assert (got["PMC3_f1"]["reason"], got["PMC3_f1"]["distance"]) == ("near", 3)
    assert got["PMC4_f1"]["reason"] == "unique"
    assert {got[k]["representative"] for k in ("PMC1_f1", "PMC2_f1", "PMC3_f1")} == {"PMC1_f1"}
    assert got["PMC4_f1"]["cluster_id"] != got["PMC1_f1"]["cluster_id"]
    assert got["PMC1_f1"]["cluster_id"] == hashlib.sha1(b"PMC1_f1").hexdigest()[:16]


def test_union_joins_chains_beyond_the_distance() -> None:
    a, b, c = BASE, flip(BASE, 0, 1, 2, 3), flip(BASE, 0, 1, 2, 3, 4, 5, 6, 7)  # a-c: 8 bits
    rows = [fig("PMC1_a", a), fig("PMC2_b", b), fig("PMC3_c", c), fig("PMC4_d", c, content="c")]
    rows.append(fig("PMC5_e", c, content="c"))  # exact copy of d, near to the rep
    got = clusters(rows, near_distance=4)
    assert len({r["cluster_id"] for r in got.values()}) == 1
    assert got["PMC3_c"]["distance"] == 8
    assert got["PMC5_e"]["reason"] == "near"  # its bytes differ from the representative's


@pytest.mark.parametrize(
    ("rows", "winner"),
    [
        ([fig("PMC5_a", BASE, size=600), fig("PMC1_b", BASE, size=800)], "PMC1_b"),
        ([fig("PMC1_a", BASE, size=800), fig("PMC5_b", BASE, size=900)], "PMC5_b"),
        (  # same original size: the larger normalised image wins
            [fig("PMC1_a", BASE, width=500), fig("PMC9_b", BASE, width=600)],
            "PMC9_b",
        ),
        ([fig("PMC10_a", BASE), fig("PMC9_b", BASE)], "PMC9_b"),  # numeric, not text order
        ([fig("PMC7_b", BASE), fig("PMC7_a", BASE)], "PMC7_a"),  # then the key
        ([fig("elife-1_a", BASE), fig("PMC99_b", BASE)], "PMC99_b"),  # non-PMC ids last
    ],
)
def test_representative_rule(rows: list[dict], winner: str) -> None:
    got = clusters(rows)
    assert {r["representative"] for r in got.values()} == {winner}
    assert got[winner]["reason"] == "representative"


def test_ids_do_not_depend_on_row_order_or_partitioning() -> None:
    rng = random.Random(7)
    h = [int(x) for x in random_hashes(300, 3)]
    rows = [fig(f"PMC{i // 3}_f{i % 3}", h[i % 200]) for i in range(300)]
    for i in range(0, 300, 7):
        rows[i]["phash"] = flip(rows[i]["phash"], rng.randrange(64), rng.randrange(64))
    _, first = dd.find_duplicates(table(rows), dd.DedupeParams())
    rng.shuffle(rows)
    parts = [table(rows[i : i + 50]) for i in range(0, 300, 50)]
    _, again = dd.find_duplicates(pa.concat_tables(parts), dd.DedupeParams())
    assert first.equals(again)
    assert first["key"].to_pylist() == sorted(first["key"].to_pylist())
    assert first["reason"].to_pylist().count("near") > 50


def test_degenerate_images_only_join_exact_copies() -> None:
    blank = 1 << 63
    rows = [
        fig("PMC1_blank", blank, gray_std=0.3),
        fig("PMC2_blank", blank, gray_std=0.5),  # other bytes, same hash: not merged
        fig("PMC3_blank", blank, content="PMC1_blank", gray_std=0.3),  # same bytes: merged
        fig("PMC4_tiny", BASE, size=60),
        fig("PMC5_big", BASE),
    ]
    rows += [fig(f"PMC{10 + i}_x", 12345, gray_std=30.0) for i in range(4)]  # crowded pHash
    got = clusters(rows, phash_cap=3)
    assert got["PMC2_blank"]["reason"] == "unique"
    assert (got["PMC3_blank"]["reason"], got["PMC3_blank"]["representative"]) == (
        "exact",
        "PMC1_blank",
    )
    assert got["PMC4_tiny"]["reason"] == got["PMC5_big"]["reason"] == "unique"
    assert {k for k, r in got.items() if r["degenerate"]} == {
        "PMC1_blank",
        "PMC2_blank",
        "PMC3_blank",
        "PMC4_tiny",
        *(f"PMC{10 + i}_x" for i in range(4)),
    }


def test_summary_counts_within_and_cross_article() -> None:
    rows = [
        fig("PMC1_a", BASE, size=900),
        fig("PMC1_b", BASE, content="PMC1_a"),
        fig("PMC2_a", flip(BASE, 5)),
        fig("PMC3_a", flip(BASE, 1, 2, 3, 4, 5, 6, 7, 8, 9)),
    ]
    fig_ = dd.figures_from_compact(dd.compact_columns(table(rows)))
    leaders = dd.exact_leaders(fig_.sha)
    degenerate = dd.degenerate_mask(fig_, leaders, dd.DedupeParams())
    near = dd.near_pairs(fig_, dd.search_set(leaders, degenerate), dd.DedupeParams())
    rep = dd.cluster_representatives(fig_, leaders, near)
    assert dd.summarize(fig_, leaders, rep, degenerate) == {
        "figures": 4,
        "clusters": 2,
        "clusters_with_duplicates": 1,
        "exact_duplicates": 1,
        "near_duplicates": 1,
        "within_article_duplicates": 1,
        "cross_article_duplicates": 1,
        "degenerate": 0,
    }


def test_figures_that_duplicate_published_ones_take_their_cluster_and_split() -> None:
    rows = [
        fig("PMC1_a", BASE, size=300),  # published earlier (smaller than its new twin)
        fig("PMC2_a", BASE, size=900),  # new: a larger repost of PMC1_a
        fig("PMC2_b", flip(BASE, 3), size=900),  # new: near PMC2_a, so in that cluster too
        fig("PMC3_a", flip(BASE, *range(20)), size=900),  # new and unrelated
    ]
    fig_ = dd.figures_from_compact(dd.compact_columns(table(rows)))
    leaders = dd.exact_leaders(fig_.sha)
    degenerate = dd.degenerate_mask(fig_, leaders, dd.DedupeParams())
    near = dd.near_pairs(fig_, dd.search_set(leaders, degenerate), dd.DedupeParams())
    rep = dd.cluster_representatives(fig_, leaders, near)
    clusters = dd.clusters_table(fig_, leaders, rep, degenerate)
    clusters = clusters.append_column("split", pa.array(["train"] * 4))
    prior = pa.table(
        {
            "key": ["PMC1_a"],
            "cluster_id": ["00000000000000aa"],
            "representative": ["PMC0_z"],  # its own cluster's representative, earlier
            "split": ["test"],
        }
    )
    prior_row = np.array([0, -1, -1, -1])
    settled, follow = dd.settle_published(clusters, fig_, rep, prior_row, prior)
    out = {r["key"]: r for r in settled.to_pylist()}
    assert list(out) == ["PMC2_a", "PMC2_b", "PMC3_a"] and follow.tolist() == [0, 1, 1, 0]
    for key, distance in (("PMC2_a", 0), ("PMC2_b", 1)):
        assert out[key] | {"degenerate": False} == {
            "key": key,
            "cluster_id": "00000000000000aa",
            "representative": "PMC0_z",
            "reason": "published",
            "distance": distance,
            "degenerate": False,
            "split": "test",
        }
    assert out["PMC3_a"]["reason"] == "unique" and out["PMC3_a"]["split"] == "train"
    counted = dd.summarize(fig_, leaders, rep, degenerate, (prior_row < 0) & ~follow)
    assert counted["figures"] == counted["clusters"] == 1


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sha256": "xyz"}, "64 hex"),
        ({"sha256": "g" * 64}, "non-hex"),
        ({"gray_std": None}, "nulls"),
    ],
)
def test_bad_rows_raise_a_clear_error(change: dict, match: str) -> None:
    with pytest.raises(dd.DedupeError, match=match):
        dd.find_duplicates(table([fig("PMC1_a", BASE, **change)]), dd.DedupeParams())


def test_duplicate_keys_and_missing_columns_raise() -> None:
    with pytest.raises(dd.DedupeError, match="'PMC1_a' occurs more than once"):
        dd.find_duplicates(table([fig("PMC1_a", 1), fig("PMC1_a", 2)]), dd.DedupeParams())
    with pytest.raises(dd.DedupeError, match="gray_std"):
        dd.find_duplicates(table([fig("PMC1_a", 1)]).drop(["gray_std"]), dd.DedupeParams())


# ---------------------------------------------------------------- splits


def test_splits_are_deterministic_with_the_asked_ratios() -> None:
    ids = dd.u64_hex(random_hashes(200_000, 11))
    splits = dd.assign_splits(ids, 0.05, 0.01, "salt").to_pylist()
    share = {s: splits.count(s) / len(splits) for s in dd.SPLITS}
    assert abs(share["test"] - 0.05) < 0.003 and abs(share["val"] - 0.01) < 0.0015
    sample = ids.to_pylist()[:300]
    assert [dd.assign_split(c, 0.05, 0.01, "salt") for c in sample] == splits[:300]
    other = dd.assign_splits(ids, 0.05, 0.01, "pepper").to_pylist()
    assert 0.08 < sum(a != b for a, b in zip(splits, other, strict=True)) / len(splits) < 0.14
    assert set(dd.assign_splits(ids[:1000], 0.0, 0.0, "s").to_pylist()) == {"train"}
    with pytest.raises(dd.DedupeError, match="sum to at most 1"):
        dd.assign_split("0" * 16, 0.8, 0.3, "s")
    with pytest.raises(dd.DedupeError, match="16 hex"):
        dd.assign_split("PMC1_fig1", 0.05, 0.01, "s")


# ---------------------------------------------------------------- the stage on Dask


def write_parts(out: Path, rows: list[dict], per_part: int) -> None:
    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    for p, lo in enumerate(range(0, len(rows), per_part)):
        pq.write_table(table(rows[lo : lo + per_part]), folder / f"part-{p:05d}.parquet")


def test_stage_on_a_local_cluster_is_reproducible(tmp_path: Path) -> None:
    from pmc_pipeline.cluster import dask_client
    from pmc_pipeline.stages import dedupe as stage

    h = [int(x) for x in random_hashes(400, 5)]
    rows = [fig(f"PMC{i}_f1", h[i]) for i in range(400)]
    rows += [fig(f"PMC{1000 + i}_f1", flip(h[i], i % 64, (i + 9) % 64)) for i in range(40)]
    rows += [fig(f"PMC{2000 + i}_f1", h[i], content=f"PMC{i}_f1") for i in range(40, 60)]
    random.Random(1).shuffle(rows)
    write_parts(tmp_path, rows, per_part=120)
    config = Config(out=str(tmp_path), workers=2, progress=False)
    with dask_client(config) as client:
        summary = stage.run_dedupe(config, client)
        first = (tmp_path / stage.CLUSTERS).read_bytes()
        assert stage.run_dedupe(config, client)["skipped"] is True
        again = stage.run_dedupe(config, client, force=True)
    assert (tmp_path / stage.CLUSTERS).read_bytes() == first
    assert again == summary
    assert summary["figures"] == 460
    assert (summary["exact_duplicates"], summary["near_duplicates"]) == (20, 40)
    out = pq.read_table(tmp_path / stage.CLUSTERS)
    assert out.column_names == [
        "key",
        "cluster_id",
        "representative",
        "reason",
        "distance",
        "degenerate",
        "split",
    ]
    assert out["key"].to_pylist() == sorted(r["key"] for r in rows)
    got = {r["key"]: r for r in out.to_pylist()}
    for i in range(40):
        assert got[f"PMC{1000 + i}_f1"]["representative"] == f"PMC{i}_f1"
    by_cluster: dict[str, set[str]] = {}
    for r in got.values():
        by_cluster.setdefault(r["cluster_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_cluster.values())


# ---------------------------------------------------------------- the real corpus


def test_corpus_copies_cluster_and_distinct_figures_do_not(corpus_dir: Path) -> None:
    data = corpus_table(corpus_dir)
    d = Config().near_distance
    _, out = dd.find_duplicates(data, dd.DedupeParams(near_distance=d))
    got = {r["key"]: r for r in out.to_pylist()}
    items = data.select(["key", "source", "variant", "phash", "phash_crop"]).to_pylist()
    orig = {r["source"]: r for r in items if r["variant"] == "orig"}
    assert sum(r["variant"] == "hires" for r in items) == 5
    joined = 0
    for r in items:
        home = orig[r["source"]]
        if got[r["key"]]["degenerate"] or got[home["key"]]["degenerate"]:
            continue  # tiny formula strips: exact copies only, by design
        if r["variant"] in ("hires", "q50", "half", "crop") or near_hashes(r, home) <= d:
            assert got[r["key"]]["cluster_id"] == got[home["key"]]["cluster_id"], r["key"]
            joined += r["variant"] != "orig"
    assert joined >= 5 + 3 * 85  # hires + q50/half/crop copies of the ~90 real figures
    sources: dict[str, set[str]] = {}
    for r in items:
        sources.setdefault(got[r["key"]]["cluster_id"], set()).add(r["source"])
    assert all(len(s) == 1 for s in sources.values())
