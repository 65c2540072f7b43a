"""The build funnel, its histograms and the HTML report (pure: small inputs in, dicts/str out).

The funnel accounts for every article and figure from listing to shards, and its ``checks``
say whether the numbers of different stages' files add up: a mismatch means something
vanished without an error row. A check whose inputs do not exist yet is ``skipped``, so a
partial build gets a report too. Histograms are fixed-edge bin counts, so the stage can
compute them part by part and add them up instead of holding 15M captions in memory.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image, UnidentifiedImageError

# Bin edges: bin i holds edges[i] <= v < edges[i + 1]; the last bin is open-ended.
IMAGE_SIDE_EDGES = (0, 64, 128, 256, 512, 1024, 2048, 4096)
CAPTION_WORD_EDGES = (0, 1, 5, 10, 20, 50, 100, 200, 500)
FIGURES_PER_ARTICLE_EDGES = (0, 1, 2, 3, 4, 6, 11, 21, 51)
CLUSTER_SIZE_EDGES = (1, 2, 3, 4, 6, 11, 101)

HISTOGRAM_TITLES = {
    "license_articles": "License mix (kept articles)",
    "license_figures": "License mix (extracted figures)",
    "license_samples": "License mix (samples in shards)",
    "image_side": "Original image size (longer side, px)",
    "caption_words": "Caption length (words)",
    "figures_per_article": "Figures per article",
    "cluster_size": "Duplicate cluster size (figures)",
}
CAPTION_CHARS = 400  # sample captions longer than this are cut in the HTML
THUMB_SIDE = 192


# ------------------------------------------------------------------ histograms


def binned(values: Iterable[float] | np.ndarray | pa.Array, edges: tuple[int, ...]) -> np.ndarray:
    """Counts per bin of ``edges``; additive, so per-part results can be summed."""
    v = np.asarray(
        values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array) else values
    )
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 1)
    return np.bincount(idx.astype(np.int64), minlength=len(edges))


def bin_labels(edges: tuple[int, ...]) -> list[str]:
    """``(0, 1, 5)`` -> ``["0", "1–4", "≥5"]``."""
    pairs = zip(edges[:-1], edges[1:], strict=True)
    labels = [str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in pairs]
    return [*labels, f"≥{edges[-1]}"]


def histogram(counts: np.ndarray | list[int], edges: tuple[int, ...]) -> dict[str, list]:
    """The JSON form of a binned histogram."""
    return {"labels": bin_labels(edges), "counts": [int(c) for c in counts]}


def category_counts(values: Iterable[str | None]) -> Counter:
    """Counts per category (license codes); None becomes ``"none"``."""
    return Counter("none" if v is None else str(v) for v in values)


def categories(counts: Mapping[str, int]) -> dict[str, list]:
    """The JSON form of category counts, largest first (ties by name)."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"labels": [k for k, _ in items], "counts": [int(v) for _, v in items]}


def caption_words(captions: Iterable[str | None]) -> np.ndarray:
    """Word count of each caption, as ``str.split`` counts them (Unicode spaces too; faster
    here than Arrow's regex kernels, whose ``\\s`` is ASCII-only anyway)."""
    return np.fromiter((len(c.split()) if c else 0 for c in captions), dtype=np.int64)


def longer_side(widths: pa.Array | np.ndarray, heights: pa.Array | np.ndarray) -> np.ndarray:
    """max(width, height) per image."""
    return np.maximum(np.asarray(widths, dtype=np.int64), np.asarray(heights, dtype=np.int64))


def figures_per_article(pmcids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Figures of each article present in ``pmcids`` (articles never span parts)."""
    counts = pc.value_counts(pmcids).field("counts")
    return np.asarray(counts.to_numpy(zero_copy_only=False), dtype=np.int64)


def cluster_sizes(duplicate_representatives: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Sizes of the clusters that have duplicates, from the representative of each duplicate."""
    if len(duplicate_representatives) == 0:
        return np.zeros(0, dtype=np.int64)
    return figures_per_article(duplicate_representatives) + 1


# ------------------------------------------------------------------ funnel


def equation(rule: str, left: int, right: Mapping[str, int], **extra: Any) -> dict[str, Any]:
    """A check ``left == sum(right)``, with its numbers for the reader."""
    ok = int(left) == sum(int(v) for v in right.values())
    return {
        "rule": rule,
        "status": "ok" if ok else "failed",
        "ok": ok,
        "left": int(left),
        "right": {k: int(v) for k, v in right.items()},
        **extra,
    }


def skipped(rule: str, reason: str) -> dict[str, Any]:
    """A check whose inputs do not exist (yet): neither passed nor failed."""
    return {"rule": rule, "status": "skipped", "ok": None, "reason": reason}


def _total(stats: Mapping[int, Mapping[str, Any]], field: str) -> int:
    return sum(int(s.get(field, 0)) for s in stats.values())


def _known_total(stats: Mapping[int, Mapping[str, Any]], field: str) -> int | None:
    """The sum of ``field`` when every part knows it, else None (unknown, not zero)."""
    if not stats or any(field not in s for s in stats.values()):
        return None
    return _total(stats, field)


def _plan_vs_fetch(
    plan: Mapping[str, Any] | None, fetch: Mapping[int, Mapping[str, Any]], partitions: int
) -> dict[str, Any] | None:
    """What ``plan`` predicted for fetch beside what fetch did (once every partition is
    fetched), and the requests and bytes it put on not fetching every image medium."""
    if plan is None:
        return None
    planned = plan.get("fetch") or {}
    done = bool(fetch) and len(fetch) == partitions
    return {
        "requests_planned": planned.get("requests"),
        "requests_made": _total(fetch, "requests") if done else None,
        "bytes_planned": planned.get("bytes"),
        "bytes_made": _total(fetch, "bytes") if done else None,
        "requests_avoided_planned": planned.get("requests_avoided"),
        "bytes_avoided_planned": planned.get("bytes_avoided"),
    }


def _add(dicts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: Counter = Counter()
    for d in dicts:
        out.update({k: int(v) for k, v in d.items()})
    return dict(sorted(out.items()))


def funnel(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The build funnel and its checks from the already-loaded small inputs.

    ``inputs`` (every key optional; absent or None means the stage has not run):
    ``manifest`` (manifest/_SUCCESS.json), ``manifest_rows`` {partition: kept articles},
    ``fetch`` / ``extract`` {partition: stats/<stage>/part JSON}, ``errors`` {stage: {class: n}},
    ``extract_figure_errors`` {class: n} (extract error rows about one figure),
    ``figure_rows`` {partition: rows of figures/part}, ``dedupe`` (dedupe/summary.json),
    ``clusters`` {split: {"figures": n, "duplicates": n, "published": n}} (published: this
    build's duplicates of figures an earlier build published), ``shards`` {split:
    [NNNNN_stats.json]}, ``sizes`` {split: sizes.json}, ``split`` {partition: stats/split
    part JSON}, ``panels`` {partition: accepted panel rows of panels/part} (every row of a
    part written before split decisions), ``unreadable`` [messages], ``keep_duplicates``
    (whether shard wrote duplicates too), ``plan`` (plan.json, when ``plan`` ran into OUT).
    """
    manifest = inputs.get("manifest")
    manifest_rows: dict[int, int] = dict(inputs.get("manifest_rows") or {})
    fetch: dict[int, dict] = dict(inputs.get("fetch") or {})
    extract: dict[int, dict] = dict(inputs.get("extract") or {})
    figure_rows: dict[int, int] = dict(inputs.get("figure_rows") or {})
    dedupe = inputs.get("dedupe")
    clusters: dict[str, dict] | None = inputs.get("clusters")
    shards = _shard_totals(inputs.get("shards") or {}, inputs.get("sizes") or {})
    fig_errors = _add([inputs.get("extract_figure_errors") or {}])
    unreadable = list(inputs.get("unreadable") or [])
    split: dict[int, dict] = dict(inputs.get("split") or {})
    panels: dict[int, int] | None = inputs.get("panels")
    panels_written = sum(t["panels"] for t in shards.values()) if shards else None

    checks = {
        "list": _check_list(manifest),
        "manifest": _check_manifest(manifest, manifest_rows),
        "fetch": _check_fetch(manifest_rows, fetch),
        "images": _check_images(fetch),
        "extract_articles": _check_extract_articles(fetch, extract),
        "figures": _check_figures(extract, fig_errors),
        "extract_errors": _check_extract_errors(extract, fig_errors),
        "figure_files": _check_figure_files(extract, figure_rows),
        "dedupe": _check_dedupe(figure_rows, clusters),
        "shards": _check_shards(figure_rows, clusters, shards, bool(inputs.get("keep_duplicates"))),
        "shard_sizes": _check_shard_sizes(shards),
        "split_decisions": _check_split_decisions(split),
        "split_panels": _check_split_panels(split, panels),
        "panels_written": _check_panels_written(panels, panels_written),
    }
    ran = [c["ok"] for c in checks.values() if c["status"] != "skipped"]
    m = manifest or {}
    written = {s: t["samples"] - t["panels"] for s, t in shards.items()}
    return {
        "ok": all(ran) and not unreadable,
        "checks": checks,
        "unreadable": unreadable,
        "partitions": {
            "manifest": len(manifest_rows),
            "fetch": len(fetch),
            "extract": len(extract),
        },
        "articles": {
            "versions_listed": m.get("versions_listed"),
            "superseded_versions": m.get("superseded_versions"),
            "listed": m.get("articles_listed"),
            "excluded": dict(sorted((m.get("excluded") or {}).items())) if manifest else None,
            "kept": m.get("articles_kept"),
            "removed": m.get("removed"),
            "fetched": _total(fetch, "articles") if fetch else None,
            "fetch_failed": _total(fetch, "articles_failed") if fetch else None,
            "extracted": _articles_ok(extract) if extract else None,
            "extract_failed": _total(extract, "articles_failed") if extract else None,
        },
        "images": {
            "media": _total(fetch, "media") if fetch else None,
            "fetched": _total(fetch, "images") if fetch else None,
            "failed": _total(fetch, "images_failed") if fetch else None,
            "skipped": _total(fetch, "images_skipped") if fetch else None,
            "requests": _total(fetch, "requests") if fetch else None,
            "bytes": _total(fetch, "bytes") if fetch else None,
            "bytes_skipped": _known_total(fetch, "bytes_skipped"),
            "xml_unparsed": _total(fetch, "xml_unparsed") if fetch else None,
        },
        "plan": _plan_vs_fetch(inputs.get("plan"), fetch, len(manifest_rows)),
        "figures": {
            "found": _total(extract, "figures_found") if extract else None,
            "without_graphic": _total(extract, "figures_without_graphic") if extract else None,
            "failed": fig_errors if extract else None,
            "extracted": sum(figure_rows.values()) if figure_rows else None,
            "clusters": (dedupe or {}).get("clusters"),
            "duplicates": sum(c["duplicates"] for c in clusters.values()) if clusters else None,
            "exact_duplicates": (dedupe or {}).get("exact_duplicates"),
            "near_duplicates": (dedupe or {}).get("near_duplicates"),
            "within_article_duplicates": (dedupe or {}).get("within_article_duplicates"),
            "cross_article_duplicates": (dedupe or {}).get("cross_article_duplicates"),
            "degenerate": (dedupe or {}).get("degenerate"),
            "split": {s: c["figures"] for s, c in clusters.items()} if clusters else None,
            "duplicates_dropped": sum(t["duplicates_dropped"] for t in shards.values())
            if shards
            else None,
            "written": written or None,
            "panels_found": sum(panels.values()) if panels is not None else None,
            "panels_written": panels_written,
        },
        "split_stage": split_counts(split.values()) if split else None,
        "shards": shards or None,
        "errors": {k: _add([v]) for k, v in sorted((inputs.get("errors") or {}).items())},
    }


SPLIT_COUNTS = ("figures", "caption_labelled", "candidates", "accepted", "panels", "panels_aligned")


def split_counts(stats: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The split stage's stats summed over parts: figures examined, with caption labels,
    with candidate panels, split, panel samples, aligned panels, figures per decision
    reason, error rows per class. Keys a part's stats lack (written before split
    decisions) count as zero."""
    stats = list(stats)
    out: dict[str, Any] = {k: sum(int(s.get(k) or 0) for s in stats) for k in SPLIT_COUNTS}
    out["decisions"] = _add(s.get("decisions") or {} for s in stats)
    out["errors"] = _add(s.get("errors") or {} for s in stats)
    return out


def _articles_ok(extract: Mapping[int, Mapping[str, Any]]) -> int:
    """Extract stats count every article read, failed ones included."""
    return _total(extract, "articles") - _total(extract, "articles_failed")


def _shard_totals(
    stats: Mapping[str, list[Mapping[str, Any]]], sizes: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, Any]]:
    """Per split: shard count and the sums of the shard stats, plus sizes.json's total."""
    out = {}
    for split, rows in sorted(stats.items()):
        out[split] = {
            "shards": len(rows),
            "samples": sum(int(r.get("count", 0)) for r in rows),
            "bytes": sum(int(r.get("bytes", 0)) for r in rows),
            "duplicates_dropped": sum(int(r.get("duplicates_dropped", 0)) for r in rows),
            "panels": sum(int(r.get("panels", 0)) for r in rows),
            "duration_s": round(sum(float(r.get("duration_s", 0.0)) for r in rows), 3),
            "sizes_json": sum(int(v) for v in sizes[split].values()) if split in sizes else None,
        }
    return out


def _check_list(manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    rule = "articles_listed == articles_kept + excluded"
    if manifest is None:
        return skipped(rule, "manifest/_SUCCESS.json not found: run list")
    excluded = sum(int(v) for v in (manifest.get("excluded") or {}).values())
    right = {"articles_kept": manifest.get("articles_kept", 0), "excluded": excluded}
    return equation(rule, manifest.get("articles_listed", 0), right)


def _check_manifest(manifest: Mapping[str, Any] | None, rows: Mapping[int, int]) -> dict:
    rule = "articles_kept == rows of manifest/part-*.parquet"
    if manifest is None:
        return skipped(rule, "manifest/_SUCCESS.json not found: run list")
    return equation(
        rule,
        manifest.get("articles_kept", 0),
        {"manifest_rows": sum(rows.values())},
        partitions=len(rows),
        partitions_expected=manifest.get("partitions"),
    )


def _check_fetch(manifest_rows: Mapping[int, int], fetch: Mapping[int, dict]) -> dict:
    rule = "kept articles of fetched partitions == fetched + fetch_failed"
    if not fetch:
        return skipped(rule, "no stats/fetch/*.json: run fetch")
    kept = sum(manifest_rows.get(p, 0) for p in fetch)
    right = {"fetched": _total(fetch, "articles"), "fetch_failed": _total(fetch, "articles_failed")}
    return equation(rule, kept, right, partitions=len(fetch), partitions_total=len(manifest_rows))


def _check_images(fetch: Mapping[int, dict]) -> dict:
    rule = "image media of fetched articles == fetched + failed + skipped"
    if not fetch or any("media" not in s for s in fetch.values()):
        return skipped(rule, "no stats/fetch/*.json counting media: run fetch")
    right = {
        "fetched": _total(fetch, "images"),
        "failed": _total(fetch, "images_failed"),
        "skipped": _total(fetch, "images_skipped"),
    }
    return equation(rule, _total(fetch, "media"), right, partitions=len(fetch))


def _check_extract_articles(fetch: Mapping[int, dict], extract: Mapping[int, dict]) -> dict:
    rule = "fetched articles of extracted partitions == extracted + extract_failed"
    if not extract:
        return skipped(rule, "no stats/extract/*.json: run extract")
    fetched = sum(int(fetch.get(p, {}).get("articles", 0)) for p in extract)
    right = {
        "extracted": _articles_ok(extract),
        "extract_failed": _total(extract, "articles_failed"),
    }
    return equation(rule, fetched, right, partitions=len(extract), partitions_total=len(fetch))


def _check_figures(extract: Mapping[int, dict], fig_errors: Mapping[str, int]) -> dict:
    rule = "figures_found == without_graphic + failed (by error class) + extracted"
    if not extract:
        return skipped(rule, "no stats/extract/*.json: run extract")
    right = {
        "without_graphic": _total(extract, "figures_without_graphic"),
        **{f"failed:{k}": v for k, v in fig_errors.items()},
        "extracted": _total(extract, "figures_extracted"),
    }
    return equation(rule, _total(extract, "figures_found"), right)


def _check_extract_errors(extract: Mapping[int, dict], fig_errors: Mapping[str, int]) -> dict:
    rule = "figures_failed (stats) == figure rows in errors/extract"
    if not extract:
        return skipped(rule, "no stats/extract/*.json: run extract")
    return equation(
        rule, _total(extract, "figures_failed"), {"error_rows": sum(fig_errors.values())}
    )


def _check_figure_files(extract: Mapping[int, dict], figure_rows: Mapping[int, int]) -> dict:
    rule = "figures_extracted (stats) == rows of figures/part-*.parquet"
    if not extract:
        return skipped(rule, "no stats/extract/*.json: run extract")
    rows = sum(figure_rows.get(p, 0) for p in extract)
    return equation(rule, _total(extract, "figures_extracted"), {"figure_rows": rows})


def _check_dedupe(figure_rows: Mapping[int, int], clusters: Mapping[str, dict] | None) -> dict:
    rule = "rows of figures/ == figures in dedupe/clusters.parquet"
    if clusters is None:
        return skipped(rule, "dedupe/clusters.parquet not found: run dedupe")
    right = {f"split:{s}": c["figures"] for s, c in sorted(clusters.items())}
    return equation(rule, sum(figure_rows.values()), right)


def _check_shards(
    figure_rows: Mapping[int, int],
    clusters: Mapping[str, dict] | None,
    shards: Mapping[str, dict],
    keep_duplicates: bool = False,
) -> dict:
    rule = "figures of sharded splits == duplicates_dropped + written (samples - panels)"
    if not shards:
        return skipped(rule, "no shards/<split>/*_stats.json: run shard")
    if clusters is None:
        left, missing = sum(figure_rows.values()), []
    else:
        left = sum(c["figures"] for s, c in clusters.items() if s in shards)
        missing = sorted(s for s, c in clusters.items() if s not in shards and c["figures"])
    right = {
        "duplicates_dropped": sum(t["duplicates_dropped"] for t in shards.values()),
        "written": sum(t["samples"] - t["panels"] for t in shards.values()),
    }
    published = sum(c.get("published", 0) for s, c in (clusters or {}).items() if s in shards)
    if published and not keep_duplicates:  # their representative is in an earlier build
        rule += " + published duplicates left out"
        right["published_left_out"] = published
    dup = sum(c["duplicates"] for s, c in clusters.items() if s in shards) if clusters else None
    return equation(rule, left, right, splits_missing=missing, duplicates_in_clusters=dup)


def _check_shard_sizes(shards: Mapping[str, dict]) -> dict:
    rule = "sum of sizes.json == sum of shard stats counts"
    if not shards:
        return skipped(rule, "no shards/<split>/*_stats.json: run shard")
    samples = sum(t["samples"] for t in shards.values())
    sizes = {f"sizes:{s}": t["sizes_json"] or 0 for s, t in shards.items()}
    return equation(rule, samples, sizes)


def _check_split_decisions(split: Mapping[int, Mapping[str, Any]]) -> dict:
    rule = "figures (stats/split) == figures per decision reason + error rows"
    decided = {p: s for p, s in split.items() if "decisions" in s}
    if not decided:
        reason = "stats/split predate split decisions" if split else "no stats/split/*.json"
        return skipped(rule, reason + ": run split")
    counts = split_counts(decided.values())
    right = {
        **{f"reason:{k}": v for k, v in counts["decisions"].items()},
        "errors": sum(counts["errors"].values()),
    }
    return equation(rule, counts["figures"], right, partitions=len(decided))


def _check_split_panels(
    split: Mapping[int, Mapping[str, Any]], panels: Mapping[int, int] | None
) -> dict:
    """Over partitions with both files: the panels part is split's last write (its
    completion marker), so stats alone mean a partition still in progress."""
    rule = "panels (stats/split) == accepted rows of panels/part-*.parquet"
    done = {p: s for p, s in split.items() if p in (panels or {})}
    if not done:
        return skipped(rule, "no stats/split/*.json with its panels/ part: run split")
    rows = sum(panels[p] for p in done)
    return equation(
        rule, _total(done, "panels"), {"accepted_panel_rows": rows}, partitions=len(done)
    )


def _check_panels_written(panels: Mapping[int, int] | None, written: int | None) -> dict:
    """Shards write only accepted panels, and only of the figures they keep: never more."""
    rule = "panels written to shards <= accepted rows of panels/"
    if written is None:
        return skipped(rule, "no shards/<split>/*_stats.json: run shard")
    found = sum(panels.values()) if panels is not None else 0
    ok = written <= found
    return {
        "rule": rule,
        "status": "ok" if ok else "failed",
        "ok": ok,
        "left": int(written),
        "right": {"panels_found": int(found)},
    }


# ------------------------------------------------------------------ HTML


def preview_image(jpeg: bytes, side: int) -> Image.Image | None:
    """An RGB image fitted within ``side`` (JPEGs decoded at reduced size); None when the
    bytes do not decode: a report shows what it can."""
    try:
        with Image.open(io.BytesIO(jpeg)) as src:
            src.draft("RGB", (side, side))
            img = src.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    img.thumbnail((side, side))
    return img


def thumbnail(jpeg: bytes, side: int = THUMB_SIDE) -> bytes | None:
    """A small JPEG of an image for the sample grid; None when it does not decode."""
    img = preview_image(jpeg, side)
    if img is None:
        return None
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def svg_bars(title: str, labels: list[str], counts: list[int]) -> str:
    """A horizontal bar chart as inline SVG (the report must work offline: no JS, no CDN)."""
    row, left, span, top = 18, 150, 300, 26
    peak = max(counts, default=0) or 1
    height = top + row * len(labels) + 4
    parts = [
        f'<svg class="chart" width="{left + span + 90}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="0" y="16" class="ctitle">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(zip(labels, counts, strict=True)):
        y = top + i * row
        w = round(span * n / peak, 1)
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{w}" height="{row - 4}">'
            f"<title>{escape(label)}: {n:,}</title></rect>"
            f'<text x="{left + w + 4}" y="{y + 13}">{n:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _flatten(section: str, value: Any) -> list[tuple[str, str]]:
    """Funnel entries as (name, value) rows; nested dicts become ``a / b``."""
    if isinstance(value, Mapping):
        rows = []
        for k, v in value.items():
            rows += _flatten(f"{section} / {k}" if section else str(k), v)
        return rows
    if value is None:
        return [(section, "—")]
    return [(section, f"{value:,}" if isinstance(value, int) else str(value))]


def _funnel_table(f: Mapping[str, Any]) -> str:
    rows = []
    sections = (
        "articles",
        "images",
        "plan",
        "figures",
        "split_stage",
        "partitions",
        "shards",
        "errors",
    )
    for section in sections:
        for name, value in _flatten(section, f.get(section)):
            rows.append(f"<tr><td>{escape(name)}</td><td class=num>{escape(value)}</td></tr>")
    return "<table><tr><th>step</th><th>count</th></tr>" + "".join(rows) + "</table>"


def _checks_table(checks: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for name, c in checks.items():
        if c["status"] == "skipped":
            numbers = c["reason"]
        else:
            right = " + ".join(f"{k} {v:,}" for k, v in c["right"].items()) or "0"
            numbers = f"{c['left']:,} vs {right}"
        rows.append(
            f"<tr class={c['status']}><td>{escape(name)}</td><td>{c['status']}</td>"
            f"<td>{escape(c['rule'])}</td><td>{escape(numbers)}</td></tr>"
        )
    head = "<tr><th>check</th><th>status</th><th>rule</th><th>numbers</th></tr>"
    return "<table>" + head + "".join(rows) + "</table>"


def _sample_card(s: Mapping[str, Any]) -> str:
    caption = s.get("caption") or ""
    if len(caption) > CAPTION_CHARS:
        caption = caption[:CAPTION_CHARS].rstrip() + "…"
    thumb = s.get("thumbnail")
    img = (
        f'<img alt="{escape(s["key"])}" src="data:image/jpeg;base64,'
        f'{base64.b64encode(thumb).decode()}">'
        if thumb
        else "<div class=noimg>image unreadable</div>"
    )
    meta = f"{s['key']} · {s.get('license_code') or 'no license code'}"
    return (
        f"<figure>{img}<figcaption><b>{escape(meta)}</b><br>{escape(caption)}</figcaption></figure>"
    )


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed{background:#fdd}tr.skipped{color:#888}
.chart{margin:0 2em 1em 0}.chart rect{fill:#4a7ab5}.chart text{font-size:11px}
.chart .ctitle{font-size:13px;font-weight:bold}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
figure{margin:0;border:1px solid #ddd;padding:6px}figure img{max-width:100%}
figcaption{font-size:12px}.noimg{height:120px;background:#eee}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:4px 8px}
"""


def render_html(
    funnel: Mapping[str, Any],
    histograms: Mapping[str, Mapping[str, list]],
    samples: list[Mapping[str, Any]],
    links: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
) -> str:
    """One self-contained page: verdict, checks, funnel table, SVG plots, sample grid.

    ``samples``: dicts with ``key``, ``caption``, ``license_code`` and ``thumbnail`` (JPEG
    bytes or None), embedded as data: URIs so the page opens offline and can be mailed.
    ``links``: (relative URL, title) of the report's other pages, such as split.html.
    ``notes``: warnings a user of the data must read (non-commercial licenses, ...).
    """
    verdict = "all checks pass" if funnel["ok"] else "CHECKS FAIL: see the red rows"
    charts = "".join(
        svg_bars(HISTOGRAM_TITLES.get(name, name), list(h["labels"]), list(h["counts"]))
        for name, h in histograms.items()
    )
    unreadable = "".join(f"<li>{escape(u)}</li>" for u in funnel.get("unreadable", []))
    warnings = "".join(f"<p class=warn>{escape(note)}</p>" for note in notes)
    pages = " · ".join(f'<a href="{escape(url)}">{escape(title)}</a>' for url, title in links)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>pmc_pipeline build report</title><style>{STYLE}</style></head><body>"
        f"<h1>pmc_pipeline build report</h1><p><b>{escape(verdict)}</b></p>{warnings}"
        + (f"<p>See also: {pages}</p>" if pages else "")
        + (f"<h2>Unreadable files</h2><ul>{unreadable}</ul>" if unreadable else "")
        + f"<h2>Checks</h2>{_checks_table(funnel['checks'])}"
        f"<h2>Funnel</h2>{_funnel_table(funnel)}"
        f"<h2>Distributions</h2><div>{charts}</div>"
        f"<h2>Sample figures</h2><div class=grid>{''.join(map(_sample_card, samples))}</div>"
        "</body></html>"
    )
