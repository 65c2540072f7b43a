"""The ``fetch`` stage: one manifest partition -> ``bundles/part-NNNNN.tar``.

Each bundle holds, per kept article and in manifest order, ``<PMCID>.<v>/<PMCID>.<v>.xml``
and, under their original names, the images its ``<fig>`` graphics name (resolved as
extract resolves them: the XML is fetched first), nothing else; ``media="all"`` takes every
image the metadata lists instead. An XML that does not parse is bundled alone: extract
records the parse error, and no image of it could become a figure. Downloads run in a
bounded thread pool, under the per-process rate cap, with retries (in the source). The tar
is byte-reproducible (fixed mtime, owner and order) and published atomically, so a
partition whose bundle exists is done and is skipped without a single request; so is one
whose figures are written (its bundle may have been discarded: a cache, not an output).
"""

from __future__ import annotations

import json
import tarfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import IO, TypeVar

from ..cluster import map_tasks, share_rate
from ..config import Config
from ..errors import ErrorLog
from ..sources import FetchedArticle, SourceError
from ..storage import part_name
from ..tarball import add_member
from .listing import manifest_partitions, manifest_path, source_from_config
from .parts import bundle_path, figures_path

T = TypeVar("T")
R = TypeVar("R")


def article_folder(row: dict) -> str:
    return f"{row['pmcid']}.{row['version']}"


def xml_member(row: dict) -> str:
    """The one name the XML has in a bundle, whatever the source called it."""
    folder = article_folder(row)
    return f"{folder}/{folder}.xml"


def ordered_window(
    pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T], window: int
) -> Iterator[tuple[T, Future]]:
    """Like ``pool.map`` but keeps at most ``window`` results in memory, in input order."""
    pending: deque[tuple[T, Future]] = deque()
    for item in items:
        pending.append((item, pool.submit(fn, item)))
        if len(pending) >= window:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


def write_bundle(
    out: IO[bytes], results: Iterable[tuple[dict, Future]], errors: ErrorLog
) -> dict[str, int]:
    """Write each fetched article into the tar; failures become error rows.

    ``requests`` counts the objects asked for (XML and images, retries not counted);
    ``media`` the fetched articles' image media, each fetched, failed or ``images_skipped``;
    ``bytes_skipped`` is there only when the source knew every skipped image's size.
    """
    counts = {"articles": 0, "articles_failed": 0, "images": 0, "images_failed": 0, "bytes": 0}
    counts |= {"requests": 0, "media": 0, "images_skipped": 0, "xml_unparsed": 0}
    skipped_bytes: int | None = 0
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for row, future in results:
            counts["requests"] += 1
            try:
                article: FetchedArticle = future.result()
            except SourceError as exc:
                errors.add(row["pmcid"], exc)
                counts["articles_failed"] += 1
                continue
            xml, *media = article.files
            add_member(tar, xml_member(row), xml.data)
            for f in media:
                add_member(tar, f"{article_folder(row)}/{f.name}", f.data)
            for key, exc in article.failures:
                errors.add(key, exc)
            counts["articles"] += 1
            counts["images"] += len(media)
            counts["images_failed"] += len(article.failures)
            counts["requests"] += len(media) + len(article.failures)
            counts["bytes"] += sum(len(f.data) for f in article.files)
            counts["media"] += article.media
            counts["images_skipped"] += article.skipped
            counts["xml_unparsed"] += article.unparsed
            if skipped_bytes is not None and article.skipped_bytes is not None:
                skipped_bytes += article.skipped_bytes
            elif article.skipped:
                skipped_bytes = None
    return counts if skipped_bytes is None else {**counts, "bytes_skipped": skipped_bytes}


def fetch_partition(config: Config, partition: int) -> dict:
    """Dask task: download one partition's articles into its bundle (skip when done)."""
    store = config.store
    target = bundle_path(partition)
    if store.exists(target) or store.exists(figures_path(partition)):
        return {"partition": partition, "skipped": True}
    rows = store.read_table(manifest_path(partition)).to_pylist()
    source = source_from_config(config)
    errors = ErrorLog("fetch", partition)
    workers = max(1, config.concurrency)
    fetch = partial(source.fetch_article, media=config.media)
    with ThreadPoolExecutor(workers) as pool, store.atomic_writer(target) as out:
        stream = ordered_window(pool, fetch, rows, 2 * workers)
        counts = write_bundle(out, stream, errors)
        # errors and stats land before the bundle is published: the bundle marks "done"
        store.write_table(f"errors/fetch/{part_name(partition, '.parquet')}", errors.table())
        summary = {"partition": partition, "skipped": False, **counts, "errors": errors.counts()}
        stats = json.dumps(summary, sort_keys=True).encode()
        store.write_bytes(f"stats/fetch/{part_name(partition, '.json')}", stats)
    return summary


def discard_bundle(config: Config, partition: int) -> dict:
    """Dask task: delete a partition's bundle once its figures are written (``build
    --discard-bundles``), so a build holds the originals of the partitions in flight only.
    Nothing reads a bundle after extract, and fetch skips a partition with figures."""
    store = config.store
    target = bundle_path(partition)
    if not (store.exists(figures_path(partition)) and store.exists(target)):
        return {"partition": partition, "discarded": False, "bytes_freed": 0}
    size = store.size(target)
    store.remove(target)
    return {"partition": partition, "discarded": True, "bytes_freed": size}


def fetch_all(config: Config, client) -> list[dict]:
    """Every manifest partition as one Dask task (I/O tasks get retries)."""
    parts = manifest_partitions(config.store)
    return map_tasks(client, fetch_partition, share_rate(config, client), parts, desc="fetch")
