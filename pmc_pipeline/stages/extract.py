"""The ``extract`` stage: ``bundles/part-NNNNN.tar`` -> ``figures/part-NNNNN.parquet``.

Per article: parse the JATS (pure, ``jats.py``), resolve each figure's graphic to a file of
the bundle, normalise the image (pure, ``images.py``) and emit one row per figure. An
article whose XML is broken, a graphic that resolves to nothing, and an image that will
not decode each become a row in ``errors/extract/``; figures without a graphic are
counted. The worker never dies on input.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator

import pyarrow as pa

from ..cluster import map_tasks
from ..config import Config
from ..errors import ErrorLog
from ..images import DHASH_METHOD, PHASH_CROP_METHOD, PHASH_METHOD, ImageError, normalise_image
from ..jats import ArticleRecord, JatsError, figure_files, parse_article
from ..keys import sample_key
from ..schema import arrow_schema
from ..storage import Store, part_name, partition_of
from .listing import manifest_partitions, manifest_path
from .parts import bundle_path, figures_path


def figure_schema() -> pa.Schema:
    """The figure schema with the hash method names stored beside the hashes."""
    meta = {
        b"phash_method": PHASH_METHOD.encode(),
        b"phash_crop_method": PHASH_CROP_METHOD.encode(),
        b"dhash_method": DHASH_METHOD.encode(),
    }
    return arrow_schema("figure").with_metadata(meta)


def bundle_articles(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(``PMCID.v`` folder, {file name: bytes}) per article, in bundle order.

    ``fetch`` writes each article's members together, so one article is in memory at a
    time, not the whole partition.
    """
    folder, files = None, {}
    for member in tar:
        if not member.isfile() or "/" not in member.name:
            continue
        name_folder, name = member.name.split("/", 1)
        if name_folder != folder:
            if folder is not None:
                yield folder, files
            folder, files = name_folder, {}
        f = tar.extractfile(member)
        if f is not None:
            files[name] = f.read()
    if folder is not None:
        yield folder, files


def figure_rows(
    row: dict, xml_name: str, files: dict[str, bytes], config: Config, errors: ErrorLog
) -> tuple[list[dict], dict[str, int]]:
    """All figure rows of one article, plus its counts for the funnel."""
    counts = {"figures_found": 0, "figures_without_graphic": 0, "figures_failed": 0}
    try:
        article = parse_article(files[xml_name])
    except JatsError as exc:
        errors.add(row["pmcid"], exc)
        counts["articles_failed"] = 1
        return [], counts
    media = [name for name in files if name != xml_name]
    rows = []
    for fig, name in zip(article.figures, figure_files(article.figures, media), strict=True):
        counts["figures_found"] += 1
        if fig.href is None:
            counts["figures_without_graphic"] += 1
            continue
        key = sample_key(row["pmcid"], fig.fig_id)
        if name is None:
            errors.add(key, f"graphic {fig.href!r} matches no file of the article", "Unresolved")
            counts["figures_failed"] += 1
            continue
        try:
            img = normalise_image(
                files[name],
                max_side=config.max_side,
                quality=config.jpeg_quality,
                min_side=config.min_side,
            )
        except ImageError as exc:
            errors.add(key, f"{name}: {exc}", type(exc).__name__)
            counts["figures_failed"] += 1
            continue
        rows.append(_row(key, row, article, fig, name, img))
    return rows, counts


def _row(key, row, article: ArticleRecord, fig, name, img) -> dict:
    return {
        "key": key,
        "pmcid": row["pmcid"],
        "version": row["version"],
        "pmid": row["pmid"] or article.pmid,
        "doi": row["doi"] or article.doi,
        "article_title": article.article_title or row.get("title"),
        "authors": article.authors,
        "journal": article.journal,
        "year": article.year,
        "article_type": article.article_type,
        "license_code": row["license_code"],
        "license_url": article.license_url,
        "fig_id": fig.fig_id,
        "label": fig.label,
        "caption_title": fig.caption_title,
        "caption": fig.caption,
        "group_caption": fig.group_caption,
        "context": fig.context,
        "mentions": fig.mentions,
        "href": fig.href,
        "file": name,
        "position": fig.position,
        "image": img.jpeg,
        "width": img.width,
        "height": img.height,
        "orig_format": img.orig_format,
        "orig_width": img.orig_width,
        "orig_height": img.orig_height,
        "orig_bytes": img.orig_bytes,
        "sha256": img.sha256,
        "phash": img.phash,
        "phash_crop": img.phash_crop,
        "dhash": img.dhash,
        "gray_std": img.gray_std,
    }


def extract_partition(config: Config, partition: int) -> dict:
    """Dask task: one bundle -> one figures Parquet (skipped when it exists)."""
    store = config.store
    target = figures_path(partition)
    if store.exists(target):
        return {"partition": partition, "skipped": True}
    manifest = _manifest_by_folder(store, partition)
    errors = ErrorLog("extract", partition)
    rows: list[dict] = []
    totals = {"articles": 0, "articles_failed": 0, "figures_found": 0}
    totals |= {"figures_without_graphic": 0, "figures_failed": 0}
    with store.open_read(bundle_path(partition)) as f, tarfile.open(fileobj=f, mode="r:") as tar:
        for folder, files in bundle_articles(tar):
            row = manifest.get(folder)
            if row is None:
                errors.add(folder, "bundle folder not in the manifest partition", "Unexpected")
                continue
            article_rows, counts = figure_rows(row, f"{folder}.xml", files, config, errors)
            rows.extend(article_rows)
            totals["articles"] += 1
            for k, v in counts.items():
                totals[k] += v
    totals["figures_extracted"] = len(rows)
    store.write_table(f"errors/extract/{part_name(partition, '.parquet')}", errors.table())
    summary = {"partition": partition, "skipped": False, **totals, "errors": errors.counts()}
    store.write_bytes(
        f"stats/extract/{part_name(partition, '.json')}", json.dumps(summary).encode()
    )
    store.write_table(target, pa.Table.from_pylist(rows, schema=figure_schema()))
    return summary


def _manifest_by_folder(store: Store, partition: int) -> dict[str, dict]:
    rows = store.read_table(manifest_path(partition)).to_pylist()
    return {f"{r['pmcid']}.{r['version']}": r for r in rows}


def extract_done(store: Store) -> list[int]:
    """Partitions whose figures are written."""
    return [partition_of(rel) for rel in store.list("figures", ".parquet")]


def extract_all(config: Config, client) -> list[dict]:
    """Every fetched partition as one Dask task."""
    parts = [p for p in manifest_partitions(config.store) if config.store.exists(bundle_path(p))]
    return map_tasks(client, extract_partition, config, parts, desc="extract")
