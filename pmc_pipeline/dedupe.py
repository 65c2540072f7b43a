"""Exact and near-duplicate figures over millions of 64-bit pHashes (pure numpy).

Why: PMC repeats images (corrections, new versions, logos, reuse). Duplicates waste
compute and, worse, leak test images into training. Splits are therefore assigned per
*cluster* of duplicates, never per image.

How, at 15M+ rows with cost about linear in n (DESIGN.md §8):

- exact duplicates share the sha256 of the normalised JPEG (compared on its first 128 bits);
- near duplicates are pairs whose pHashes differ in at most ``near_distance`` bits, found by
  multi-index hashing: the hash is cut into ``bands`` bands of ~21 bits; for each band the
  rows are sorted by band value and every row probes its own bucket and the buckets whose
  value differs from its own in 1..r bits (a dense bucket-bounds table stands in for a
  searchsorted per probe). By pigeonhole every pair within ``bands * (r + 1) - 1`` bits
  shares a band up to r bits, so it is found; candidates are verified with a vectorised
  popcount of the XOR. Each unordered pair is generated once per band: within a bucket
  only forward partners, across buckets only towards the larger band value;
- degenerate images (near-uniform, tiny, or sharing their exact pHash with abnormally many
  distinct images) take part in exact grouping only: their pHashes say little, and in the
  near search they would chain unrelated images into giant clusters. Band buckets larger
  than ``bucket_cap`` are skipped (and counted) so one clump cannot cost O(n^2);
- connected components over exact + near edges are the clusters. The representative is the
  largest image (original pixels, then normalised pixels), ties to the lowest numeric PMCID,
  then the lowest key; the cluster id is derived from the representative's key only, so it
  does not depend on partitioning, row order or machine.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Columns of figures/part-NNNNN.parquet the dedupe step reads (never ``image``).
FIGURE_COLUMNS = (
    "key",
    "pmcid",
    "width",
    "height",
    "orig_width",
    "orig_height",
    "sha256",
    "phash",
    "phash_crop",
    "gray_std",
)
BANDS = 3
MAX_RADIUS = 2  # r = 2 already means ~250 probes per row and band; beyond, add bands
REASONS = ("unique", "representative", "exact", "near")  # + "published" (settle_published)
SPLITS = ("train", "val", "test")
_NO_PMCID = 1 << 62  # sorts after every numeric PMCID
_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i


class DedupeError(ValueError):
    """Figure rows the dedupe step cannot use; the message names the column and the fix."""


@dataclass(frozen=True)
class DedupeParams:
    """Thresholds of the dedupe step (``Config`` fields of the same meaning)."""

    near_distance: int = 4
    bands: int = BANDS
    bucket_cap: int = 2000
    min_gray_std: float = 2.0
    min_pixels: int = 128 * 128
    phash_cap: int = 1000


@dataclass(frozen=True)
class Figures:
    """Hash columns of every figure, sorted by key: row order is the final tie-break."""

    keys: pa.Array
    article: np.ndarray  # int64: the number of PMC<digits>, else a negative hash of the id
    orig_area: np.ndarray  # int64
    area: np.ndarray  # int64
    sha: np.ndarray  # (n, 2) uint64: first 128 bits of the sha256
    phash: np.ndarray  # uint64
    phash_crop: np.ndarray  # uint64: pHash with 2% cut off each side
    gray_std: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def pmcid_rank(self) -> np.ndarray:
        """Numeric PMCID for the representative tie-break; other ids sort after all."""
        return np.where(self.article >= 0, self.article, _NO_PMCID)


@dataclass(frozen=True)
class BandIndex:
    """One band of the search set, sorted by band value, with a dense bucket-bounds table."""

    shift: int
    width: int
    values: np.ndarray  # band values, sorted (int32 or int64: the position type)
    hashes: np.ndarray  # uint64 full hashes in the same order
    ids: np.ndarray  # row ids in the same order
    bounds: np.ndarray  # bounds[v]:bounds[v + 1] is bucket v
    usable: np.ndarray  # bucket sizes, 0 where the bucket is over the cap
    capped_buckets: int
    capped_rows: int


# ---------------------------------------------------------------- reading the columns


def compact_columns(table: pa.Table) -> pa.Table:
    """Figure rows -> the small columns dedupe needs (sha256 as two uint64, areas).

    Runs per figures part, so the driver only ever holds ~70 bytes per figure.
    """
    missing = [c for c in FIGURE_COLUMNS if c not in table.column_names]
    if missing:
        raise DedupeError(f"figures table lacks columns {missing}; rerun the extract stage")
    for name in FIGURE_COLUMNS:
        if table[name].null_count:
            raise DedupeError(f"figures column {name!r} has {table[name].null_count} nulls")
    hi, lo = sha256_prefix(table["sha256"])

    def area(w: str, h: str) -> np.ndarray:
        return _ints(table[w], w) * _ints(table[h], h)

    return pa.table(
        {
            "key": table["key"].combine_chunks().cast(pa.string()),
            "article": article_ids(table["pmcid"]),
            "orig_area": area("orig_width", "orig_height"),
            "area": area("width", "height"),
            "sha_hi": hi,
            "sha_lo": lo,
            "phash": _u64(table["phash"], "phash"),
            "phash_crop": _u64(table["phash_crop"], "phash_crop"),
            "gray_std": _floats(table["gray_std"], "gray_std"),
        }
    )


def figures_from_compact(table: pa.Table) -> Figures:
    """Sort compact rows by key, check keys are unique, and turn columns into arrays."""
    table = table.take(pc.sort_indices(table["key"])).combine_chunks()
    keys = table["key"].chunk(0) if table.num_rows else pa.array([], pa.string())
    if len(keys) > 1:
        same = pc.equal(keys.slice(1), keys.slice(0, len(keys) - 1))
        if pc.any(same).as_py():
            first = keys[int(np.flatnonzero(same.to_numpy(zero_copy_only=False))[0])].as_py()
            raise DedupeError(
                f"figure key {first!r} occurs more than once; keys must be unique across all "
                "figures parts (delete the stale part and rerun extract)"
            )
    return Figures(
        keys=keys,
        article=table["article"].to_numpy(),
        orig_area=table["orig_area"].to_numpy(),
        area=table["area"].to_numpy(),
        sha=np.column_stack([table["sha_hi"].to_numpy(), table["sha_lo"].to_numpy()]),
        phash=table["phash"].to_numpy(),
        phash_crop=table["phash_crop"].to_numpy(),
        gray_std=table["gray_std"].to_numpy(),
    )


def sha256_prefix(hexes: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Hex sha256 strings -> their first 128 bits as two uint64 arrays (vectorised)."""
    hexes = _one_chunk(hexes)
    if len(hexes) and pc.any(pc.not_equal(pc.binary_length(hexes), 64)).as_py():
        raise DedupeError("sha256 column holds values that are not 64 hex characters")
    nibbles = _hex_nibbles(hexes, 64)[:, :32]
    return _pack_nibbles(nibbles[:, :16]), _pack_nibbles(nibbles[:, 16:])


def article_ids(pmcids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``PMC123`` -> 123 (int64): numeric order is the PMCID order; any other id -> a
    negative 63-bit hash of it, so equal ids stay equal and never meet a PMC number."""
    pmcids = _one_chunk(pmcids).cast(pa.string())
    ok = pc.match_substring_regex(pmcids, r"^PMC[0-9]{1,17}$")
    digits = pc.if_else(ok, pc.utf8_slice_codeunits(pmcids, 3), "-1")
    out = np.array(pc.cast(digits, pa.int64()))
    other = np.flatnonzero(out < 0)
    for i, text in zip(other, pmcids.take(pa.array(other)).to_pylist(), strict=True):
        out[i] = -1 - (int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") >> 1)
    return out


# ---------------------------------------------------------------- exact and degenerate


def exact_leaders(sha: np.ndarray) -> np.ndarray:
    """For every row, the lowest row with the same sha256 (itself when unique)."""
    n = len(sha)
    order = np.argsort(sha[:, 0], kind="stable")  # 3x faster than lexsort on both words
    s = sha[order]
    tie = s[1:, 0] == s[:-1, 0]
    if (tie & (s[1:, 1] != s[:-1, 1])).any():  # two digests sharing 64 bits: practically never
        order = np.lexsort((sha[:, 1], sha[:, 0]))
        s = sha[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    first = order[np.flatnonzero(new)]
    leaders = np.empty(n, dtype=np.int64)
    leaders[order] = first[np.cumsum(new) - 1]
    return leaders


def degenerate_mask(fig: Figures, leaders: np.ndarray, params: DedupeParams) -> np.ndarray:
    """Rows whose pHash should not join near-duplicate clusters.

    Near-uniform (``gray_std`` under ``min_gray_std``), tiny (original under ``min_pixels``),
    or an exact pHash shared by more than ``phash_cap`` distinct images (blank charts,
    generic templates): a bucket that full is a property of the hash, not of the image.
    """
    flat = fig.gray_std < params.min_gray_std
    tiny = fig.orig_area < params.min_pixels
    distinct = fig.phash[leaders == np.arange(len(leaders))]
    values, counts = np.unique(distinct, return_counts=True)
    crowded = np.isin(fig.phash, values[counts > params.phash_cap])
    return flat | tiny | crowded


def search_set(leaders: np.ndarray, degenerate: np.ndarray) -> np.ndarray:
    """Rows that enter the near search: one per exact group, none degenerate."""
    return np.flatnonzero((leaders == np.arange(len(leaders))) & ~degenerate)


# ---------------------------------------------------------------- near pairs


def band_layout(bands: int) -> list[tuple[int, int]]:
    """(shift, width) of each band, most significant first, widths as equal as possible."""
    if not 3 <= bands <= 16:  # fewer bands: bucket tables of 2^32+ entries
        raise DedupeError(f"bands must be between 3 and 16, got {bands}")
    widths = [64 // bands + (1 if i < 64 % bands else 0) for i in range(bands)]
    shifts = [64 - sum(widths[: i + 1]) for i in range(bands)]
    return list(zip(shifts, widths, strict=True))


def probe_radius(near_distance: int, bands: int) -> int:
    """Smallest r with bands * (r + 1) - 1 >= near_distance (pigeonhole)."""
    if near_distance < 0:
        raise DedupeError(f"near_distance must be >= 0, got {near_distance}")
    radius = max(0, -(-(near_distance + 1) // bands) - 1)
    if radius > MAX_RADIUS:
        raise DedupeError(
            f"near_distance={near_distance} with {bands} bands needs probe radius {radius}; "
            f"at most {MAX_RADIUS} is supported: use more bands or a smaller near_distance"
        )
    return radius


def probe_masks(width: int, radius: int) -> np.ndarray:
    """Every band-value XOR mask with 1..radius bits set."""
    masks = [
        sum(1 << b for b in bits)
        for k in range(1, radius + 1)
        for bits in combinations(range(width), k)
    ]
    return np.array(masks, dtype=np.int64)


def build_band_index(
    hashes: np.ndarray, ids: np.ndarray, shift: int, width: int, bucket_cap: int
) -> BandIndex:
    """Sort one band of the search set and tabulate its buckets (O(n + 2^width)).

    Positions are int32 below 2^31 rows: the probe loop's temporaries are half the size.
    """
    pos = np.int32 if max(len(hashes), ids.max(initial=0)) < 2**31 - 1 else np.int64
    values = ((hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(pos)
    order = np.argsort(values, kind="stable")
    sizes = np.bincount(values, minlength=1 << width).astype(pos)
    bounds = np.zeros((1 << width) + 1, dtype=pos)
    np.cumsum(sizes, out=bounds[1:])
    over = sizes > bucket_cap
    return BandIndex(
        shift=shift,
        width=width,
        values=values[order],
        hashes=hashes[order],
        ids=ids[order].astype(pos),
        bounds=bounds,
        usable=np.where(over, 0, sizes).astype(pos),
        capped_buckets=int(over.sum()),
        capped_rows=int(sizes[over].sum(dtype=np.int64)),
    )


def band_pairs(
    index: BandIndex,
    start: int,
    stop: int,
    *,
    max_distance: int,
    radius: int,
    batch: int = 1 << 14,
) -> np.ndarray:
    """Pairs (id, id) within ``max_distance`` found through this band for query rows
    ``start:stop`` of the sorted order; one task's share of the band."""
    pos = index.bounds.dtype
    masks = probe_masks(index.width, radius).astype(pos)
    found = [np.empty((0, 2), dtype=np.int64)]
    for lo in range(start, stop, batch):
        hi = min(lo + batch, stop)
        q = np.arange(lo, hi, dtype=pos)
        v = index.values[lo:hi]
        same = np.where(index.usable[v] > 0, index.bounds[v + 1] - q - 1, 0).astype(pos)
        found.append(_verify(index, q, q + 1, same, max_distance))
        for mask in masks:
            t = v ^ mask
            count = np.where(t > v, index.usable[t], 0).astype(pos)
            found.append(_verify(index, q, index.bounds[t], count, max_distance))
    return np.concatenate([f for f in found if len(f)] or found[:1]).astype(np.int64)


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, target): for each i, ``count[i]`` targets first[i]..first[i]+count[i]-1."""
    total = int(count.sum(dtype=np.int64))
    owner = np.repeat(np.arange(len(count), dtype=first.dtype), count)
    target = np.repeat(first - (np.cumsum(count, dtype=first.dtype) - count), count)
    target += np.arange(total, dtype=first.dtype)
    return owner, target


def _verify(
    index: BandIndex, q: np.ndarray, first: np.ndarray, count: np.ndarray, max_distance: int
) -> np.ndarray:
    """Expand query q against sorted rows first..first+count-1; keep the close pairs."""
    keep = count > 0
    q, first, count = q[keep], first[keep], count[keep]
    if not len(q):
        return np.empty((0, 2), dtype=q.dtype)
    owner, tj = _expand(first, count)
    qi = q[owner]
    h = index.hashes[qi]
    h ^= index.hashes[tj]
    close = np.flatnonzero(np.bitwise_count(h) <= max_distance)
    return np.column_stack([index.ids[qi[close]], index.ids[tj[close]]])


def probe_pairs(
    index: BandIndex,
    queries: np.ndarray,
    query_ids: np.ndarray,
    *,
    max_distance: int,
    radius: int,
    batch: int = 1 << 14,
) -> np.ndarray:
    """Pairs (query id, indexed id) within ``max_distance`` for hashes that are not in the
    index (the 2%-cropped pHashes against the pHash index), found through this band."""
    pos = index.bounds.dtype
    masks = np.concatenate([[0], probe_masks(index.width, radius)]).astype(pos)
    band = np.uint64((1 << index.width) - 1)
    found = [np.empty((0, 2), dtype=np.int64)]
    for lo in range(0, len(queries), batch):
        h = queries[lo : lo + batch]
        v = ((h >> np.uint64(index.shift)) & band).astype(pos)
        for mask in masks:
            t = v ^ mask
            count = index.usable[t]
            keep = np.flatnonzero(count > 0)
            if not len(keep):
                continue
            owner, tj = _expand(index.bounds[t[keep]], count[keep])
            qi = keep[owner]
            close = np.flatnonzero(np.bitwise_count(h[qi] ^ index.hashes[tj]) <= max_distance)
            ids = query_ids[lo : lo + batch]
            found.append(np.column_stack([ids[qi[close]], index.ids[tj[close]]]))
    return np.concatenate(found).astype(np.int64)


def near_pairs(fig: Figures, rows: np.ndarray, params: DedupeParams) -> np.ndarray:
    """All pairs of ``rows`` whose pHashes, or one's 2%-cropped pHash and the other's
    pHash, are within ``near_distance`` bits; in this process (small inputs).

    The crop hashes only query the pHash index, so a figure pairs with a slightly trimmed
    copy of it while the index, and the memory it takes, stays one entry per figure.
    """
    radius = probe_radius(params.near_distance, params.bands)
    found = []
    for shift, width in band_layout(params.bands):
        index = build_band_index(fig.phash[rows], rows, shift, width, params.bucket_cap)
        d = params.near_distance
        found.append(band_pairs(index, 0, len(rows), max_distance=d, radius=radius))
        found.append(probe_pairs(index, fig.phash_crop[rows], rows, max_distance=d, radius=radius))
    return unique_edges(np.concatenate(found) if found else np.empty((0, 2), np.int64))


def unique_edges(edges: np.ndarray) -> np.ndarray:
    """Undirected edges between distinct rows, each once, (low, high), sorted."""
    pairs = np.sort(edges.astype(np.int64), axis=1) if len(edges) else edges
    pairs = pairs[pairs[:, 0] != pairs[:, 1]] if len(pairs) else pairs
    if not len(pairs):
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(pairs, axis=0)


# ---------------------------------------------------------------- clusters


def cluster_representatives(fig: Figures, leaders: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Row of every row's representative, over the components of exact + near edges."""
    return representatives(fig, components(len(fig), leaders, near))


def reason_codes(leaders: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """Index into REASONS: unique, representative (of a larger cluster), exact, near."""
    n = len(rep)
    is_rep = rep == np.arange(n)
    multi = np.bincount(rep, minlength=n)[rep] > 1
    code = np.where(is_rep, np.where(multi, 1, 0), np.where(leaders == leaders[rep], 2, 3))
    return code.astype(np.int8)


def clusters_table(
    fig: Figures, leaders: np.ndarray, rep: np.ndarray, degenerate: np.ndarray
) -> pa.Table:
    """One row per figure, in key order: key, cluster_id, representative, reason,
    distance (pHash bits to the representative), degenerate."""
    n = len(fig)
    rep_rows = np.flatnonzero(rep == np.arange(n))
    ids = np.zeros(n, dtype=np.uint64)
    ids[rep_rows] = key_ids(fig.keys.take(pa.array(rep_rows)))
    reason = pa.DictionaryArray.from_arrays(reason_codes(leaders, rep), REASONS)
    return pa.table(
        {
            "key": fig.keys,
            "cluster_id": u64_hex(ids[rep]),
            "representative": fig.keys.take(pa.array(rep)),
            "reason": reason.dictionary_decode(),
            "distance": pa.array(np.bitwise_count(fig.phash ^ fig.phash[rep]).astype(np.int8)),
            "degenerate": pa.array(degenerate),
        }
    )


def components(n: int, leaders: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Connected-component label of every row over exact (row-leader) and near edges."""
    rows = np.flatnonzero(leaders != np.arange(n))
    a = np.concatenate([rows, near[:, 0]])
    b = np.concatenate([leaders[rows], near[:, 1]])
    graph = coo_matrix((np.ones(len(a), dtype=np.int32), (a, b)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def representatives(fig: Figures, labels: np.ndarray) -> np.ndarray:
    """Row of each row's representative: largest original, then normalised image, then
    lowest numeric PMCID, then lowest key (= lowest row, rows being in key order)."""
    n = len(labels)
    rep = np.arange(n)
    rows = np.flatnonzero(np.bincount(labels, minlength=n)[labels] > 1)
    if not len(rows):
        return rep
    order = rows[
        np.lexsort(
            (rows, fig.pmcid_rank[rows], -fig.area[rows], -fig.orig_area[rows], labels[rows])
        )
    ]
    lab = labels[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = lab[1:] != lab[:-1]
    best = np.empty(labels.max() + 1, dtype=np.int64)
    best[lab[first]] = order[first]
    rep[rows] = best[labels[rows]]
    return rep


def key_ids(keys: pa.Array, chunk: int = 1 << 20) -> np.ndarray:
    """First 64 bits of sha1(key) per key: the cluster id of a representative."""
    out = []
    for lo in range(0, len(keys), chunk):
        part = keys.slice(lo, chunk).to_pylist()
        digest = b"".join(hashlib.sha1(k.encode()).digest()[:8] for k in part)
        out.append(np.frombuffer(digest, dtype=">u8").astype(np.uint64))
    return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


def u64_hex(values: np.ndarray) -> pa.Array:
    """uint64 -> 16-character lowercase hex strings (vectorised)."""
    text = binascii.hexlify(values.astype(">u8").tobytes())
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(values), [None, pa.py_buffer(text)]
    )
    return fixed.cast(pa.string())


# ---------------------------------------------------------------- splits


def assign_split(cluster_id: str, test_fraction: float, val_fraction: float, salt: str) -> str:
    """The split ("train", "val" or "test") of one cluster, from a hash of (salt, id)."""
    u = _unit(_mix(np.array([_cluster_u64(cluster_id)], dtype=np.uint64), salt))[0]
    return _split_name(float(u), test_fraction, val_fraction)


def assign_splits(
    cluster_ids: pa.Array | pa.ChunkedArray, test_fraction: float, val_fraction: float, salt: str
) -> pa.Array:
    """Vectorised ``assign_split`` (identical results) for a column of cluster ids."""
    _check_fractions(test_fraction, val_fraction)
    ids = _one_chunk(cluster_ids)
    if len(ids) and pc.any(pc.not_equal(pc.binary_length(ids), 16)).as_py():
        raise DedupeError("cluster ids must be 16 hex characters (dedupe.u64_hex)")
    u = _unit(_mix(_pack_nibbles(_hex_nibbles(ids, 16)), salt))
    code = np.where(u < test_fraction, 2, np.where(u < test_fraction + val_fraction, 1, 0))
    return pa.DictionaryArray.from_arrays(code.astype(np.int8), SPLITS).dictionary_decode()


def _split_name(u: float, test_fraction: float, val_fraction: float) -> str:
    _check_fractions(test_fraction, val_fraction)
    if u < test_fraction:
        return "test"
    return "val" if u < test_fraction + val_fraction else "train"


def _check_fractions(test_fraction: float, val_fraction: float) -> None:
    if test_fraction < 0 or val_fraction < 0 or test_fraction + val_fraction > 1:
        raise DedupeError(
            f"test_fraction={test_fraction} and val_fraction={val_fraction} must be >= 0 "
            "and sum to at most 1"
        )


def _cluster_u64(cluster_id: str) -> int:
    if len(cluster_id) != 16:
        raise DedupeError(f"cluster id {cluster_id!r} is not 16 hex characters")
    try:
        return int(cluster_id, 16)
    except ValueError:
        raise DedupeError(f"cluster id {cluster_id!r} is not 16 hex characters") from None


def _mix(ids: np.ndarray, salt: str) -> np.ndarray:
    """splitmix64 finaliser of (id XOR salt hash): a bijection with full avalanche."""
    salt64 = np.uint64(int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "big"))
    with np.errstate(over="ignore"):
        z = (ids ^ salt64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _unit(z: np.ndarray) -> np.ndarray:
    """Top 53 bits as a float in [0, 1)."""
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# ---------------------------------------------------------------- summary and all-in-one


def summarize(
    fig: Figures,
    leaders: np.ndarray,
    rep: np.ndarray,
    degenerate: np.ndarray,
    rows: np.ndarray | None = None,
) -> dict[str, int]:
    """Counts for dedupe/summary.json and the build funnel, over ``rows`` (a mask; all by
    default): an incremental build counts its own figures, not the earlier ones."""
    rows = np.ones(len(rep), dtype=bool) if rows is None else rows
    counts = np.bincount(reason_codes(leaders, rep)[rows], minlength=len(REASONS))
    dup = (rep != np.arange(len(rep)))[rows]
    same_article = (fig.article == fig.article[rep])[rows]
    return {
        "figures": int(rows.sum()),
        "clusters": int(counts[0] + counts[1]),
        "clusters_with_duplicates": int(counts[1]),
        "exact_duplicates": int(counts[2]),
        "near_duplicates": int(counts[3]),
        "within_article_duplicates": int((dup & same_article).sum()),
        "cross_article_duplicates": int((dup & ~same_article).sum()),
        "degenerate": int(degenerate[rows].sum()),
    }


# ---------------------------------------------------------------- earlier builds


def published_anchors(rep: np.ndarray, published: np.ndarray) -> np.ndarray:
    """Per row, the lowest published row of its cluster (-1 when it has none)."""
    n = len(rep)
    lowest = np.full(n, n, dtype=np.int64)
    rows = np.flatnonzero(published)
    np.minimum.at(lowest, rep[rows], rows)
    anchor = lowest[rep]
    return np.where(anchor < n, anchor, -1)


def settle_published(
    table: pa.Table, fig: Figures, rep: np.ndarray, prior_row: np.ndarray, prior: pa.Table
) -> tuple[pa.Table, np.ndarray]:
    """This build's rows of ``table``, those that duplicate a published figure settled.

    An incremental build clusters its figures together with those earlier builds of the
    chain published (``prior_row``: each row's row in ``prior``, -1 for this build's own).
    A figure of this build in a cluster with a published one joins that figure's cluster
    id, representative and split, with reason "published": the shard stage leaves it out
    (the dataset has it already) and, kept with ``--keep-duplicates``, it lands in the
    split of its published twin, so no duplicate spans train and test across the chain.
    Its distance is to that published figure. Returns the table and which rows (of
    ``fig``) were settled so.
    """
    published = prior_row >= 0
    anchor = published_anchors(rep, published)
    follow = ~published & (anchor >= 0)
    source = pa.array(np.where(follow, prior_row[anchor], 0))
    mask = pa.array(follow)
    columns = {name: table[name] for name in table.column_names}
    for name in ("cluster_id", "representative", "split"):
        columns[name] = pc.if_else(mask, prior[name].take(source), table[name])
    columns["reason"] = pc.if_else(mask, pa.scalar("published"), table["reason"])
    distance = np.bitwise_count(fig.phash ^ fig.phash[np.where(follow, anchor, rep)])
    columns["distance"] = pa.array(distance.astype(np.int8))
    return pa.table(columns).filter(pa.array(~published)), follow


def find_duplicates(figures: pa.Table, params: DedupeParams) -> tuple[Figures, pa.Table]:
    """Figure rows -> (sorted Figures, clusters table) in this process; the dedupe stage
    runs the same steps with the band search spread over Dask."""
    fig = figures_from_compact(compact_columns(figures))
    leaders = exact_leaders(fig.sha)
    degenerate = degenerate_mask(fig, leaders, params)
    near = near_pairs(fig, search_set(leaders, degenerate), params)
    rep = cluster_representatives(fig, leaders, near)
    return fig, clusters_table(fig, leaders, rep, degenerate)


# ---------------------------------------------------------------- helpers


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _hex_nibbles(strings: pa.Array, width: int) -> np.ndarray:
    """(n, width) nibble values of equal-length hex strings; DedupeError on other characters."""
    fixed = strings.cast(pa.binary(width))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    raw = raw[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(-1, width)
    nibbles = _HEX[raw]
    if (nibbles == 255).any():
        raise DedupeError("a hex column (sha256 or cluster_id) holds non-hex characters")
    return nibbles


def _pack_nibbles(nibbles: np.ndarray) -> np.ndarray:
    """(n, 16) nibbles, most significant first -> uint64 (column by column: n words of RAM)."""
    out = np.zeros(len(nibbles), dtype=np.uint64)
    for k in range(nibbles.shape[1]):
        out <<= np.uint64(4)
        out |= nibbles[:, k]
    return out


def _ints(column: pa.ChunkedArray, name: str) -> np.ndarray:
    if not pa.types.is_integer(column.type):
        raise DedupeError(f"figures column {name!r} must be an integer, got {column.type}")
    return column.to_numpy().astype(np.int64)


def _floats(column: pa.ChunkedArray, name: str) -> np.ndarray:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise DedupeError(f"figures column {name!r} must be a number, got {column.type}")
    return column.to_numpy().astype(np.float32)


def _u64(column: pa.ChunkedArray, name: str) -> np.ndarray:
    """uint64 hashes; int64 columns (writers without unsigned types) keep the same bits."""
    if column.type not in (pa.uint64(), pa.int64()):
        raise DedupeError(f"figures column {name!r} must be uint64, got {column.type}")
    return column.to_numpy().view(np.uint64)
