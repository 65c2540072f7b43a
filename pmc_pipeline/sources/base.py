"""The one interface every article source implements, and the bucket logic they share.

PMC's bulk data lives in ``s3://pmc-oa-opendata`` (DESIGN.md §2): one prefix per article
*version*, a metadata JSON per version (also under ``metadata/``), and a daily S3
Inventory. The S3, HTTPS and local-folder sources differ only in three primitives
(list one page, stream one object); everything else (inventory, metadata, md5 checks,
media selection) is written once here. The legacy-package source overrides the
article-level calls instead.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, unquote_plus, urlparse

from ..jats import JatsError, figure_media
from .transport import NotFound, RateLimiter, SourceError, with_retries

BUCKET = "pmc-oa-opendata"
METADATA_PREFIX = "metadata/"
INVENTORY_PREFIX = f"inventory-reports/{BUCKET}/metadata/"
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "tif", "tiff", "gif", "webp"})
# What fetch takes of an article's image media: the images its <fig> graphics name, or all.
MEDIA_MODES = ("figures", "all")

T = TypeVar("T")

_VERSION_KEY = re.compile(r"(?:^|/)(PMC\d+)\.(\d+)\.json$")


@dataclass(frozen=True)
class ObjectRef:
    """One listed object: key, ETag (no quotes), PMCID and version (of a metadata object),
    and its size in bytes where the listing gives one."""

    key: str
    etag: str | None = None
    pmcid: str | None = None
    version: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class RemoteFile:
    """A file of an article: the object key, its name in the bundle, and the md5 if known."""

    key: str
    name: str
    md5: str | None = None


@dataclass(frozen=True)
class FetchedFile:
    name: str
    data: bytes


@dataclass
class FetchedArticle:
    """The files of one article; ``failures`` are images that could not be had (key, error).

    ``media`` counts the article's image media, ``skipped`` those not fetched (no figure
    names them) and ``skipped_bytes`` their size where the source knows it without a
    request (None: unknown). ``unparsed``: the XML did not parse, so no image was fetched.
    """

    files: list[FetchedFile]
    failures: list[tuple[str, SourceError]]
    media: int = 0
    skipped_bytes: int | None = None
    unparsed: bool = False

    @property
    def skipped(self) -> int:
        """Image media neither fetched nor failed: no figure names them."""
        return self.media - (len(self.files) - 1) - len(self.failures)


class MetadataError(SourceError):
    """A metadata object exists but is not the JSON we expect."""


class IntegrityError(SourceError):
    """Downloaded bytes do not match the md5 the metadata promised."""


def parse_version_key(key: str) -> tuple[str, int] | None:
    """``metadata/PMC123.4.json`` -> ("PMC123", 4); None for anything else."""
    m = _VERSION_KEY.search(key)
    return (m.group(1), int(m.group(2))) if m else None


def url_to_remote(url: str) -> RemoteFile:
    """``s3://pmc-oa-opendata/PMC1.1/a.jpg?md5=..`` (or its https form) -> RemoteFile."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        key = parsed.path.lstrip("/")
    else:  # https://pmc-oa-opendata.s3.amazonaws.com/<key> or a path-style URL
        key = parsed.path.lstrip("/")
        if key.startswith(f"{BUCKET}/"):
            key = key[len(BUCKET) + 1 :]
    md5 = parse_qs(parsed.query).get("md5", [None])[0]
    return RemoteFile(key=key, name=key.rsplit("/", 1)[-1], md5=md5)


def is_figure_image(name: str) -> bool:
    """Only image media travel; PDFs, documents, spreadsheets, archives and videos never do."""
    return "." in name and name.rsplit(".", 1)[-1].lower() in IMAGE_EXTENSIONS


def parse_metadata(data: bytes, key: str) -> dict:
    """Decode one metadata JSON and check the field every article needs (``pmcid``).

    ``xml_url`` is checked by ``list`` for the articles it keeps only: a withdrawn or
    non-OA record without one is still excluded for what it is, not as an error.
    """
    try:
        meta = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"{key}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or not meta.get("pmcid"):
        raise MetadataError(f"{key}: metadata JSON has no 'pmcid' field")
    return meta


def article_files(meta: dict) -> list[RemoteFile]:
    """The XML plus the figure-image media named in the metadata, in a stable order."""
    files = [url_to_remote(meta["xml_url"])]
    media = [url_to_remote(u) for u in meta.get("media_urls") or []]
    images = [f for f in media if is_figure_image(f.name)]
    files.extend(sorted(without_thumbnails(images), key=lambda f: f.name))
    return files


def without_thumbnails(images: list[RemoteFile]) -> list[RemoteFile]:
    """Drop each ``.gif`` beside a full image of the same stem (``g001.gif`` by ``g001.jpg``).

    PMC ships a small GIF thumbnail next to every figure; extract never uses one when the
    full image exists, so fetching it would only double the requests. A GIF alone is kept.
    """

    def stem(name: str) -> str:
        return name.rsplit(".", 1)[0].casefold()

    full = {stem(f.name) for f in images if not f.name.lower().endswith(".gif")}
    return [f for f in images if not (f.name.lower().endswith(".gif") and stem(f.name) in full)]


def inventory_rows(csv_gz: bytes) -> Iterator[ObjectRef]:
    """Rows of one S3 Inventory CSV (no header): Bucket, Key, LastModifiedDate, ETag.

    S3 Inventory URL-encodes keys in CSV reports; they are decoded here.
    """
    unzipped = gzip.GzipFile(fileobj=io.BytesIO(csv_gz))  # streamed: never the whole CSV
    text = io.TextIOWrapper(unzipped, encoding="utf-8", newline="")
    for row in csv.reader(text):
        if len(row) >= 2:
            key = unquote_plus(row[1])
            yield ObjectRef(key=key, etag=row[3].strip('"') if len(row) > 3 else None)


class Source(ABC):
    """Where articles come from. Implementations must be picklable (they travel to workers)."""

    uri: str
    retries: int = 5
    limiter: RateLimiter | None = None
    requests: int = 0  # listing pages and GET attempts this instance made (plan counts them)
    max_object_bytes: int = 512 * 1024 * 1024
    _transient: tuple[str, ...] = ()  # per-process caches (clients, sessions) not to pickle

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("limiter", None)
        state.update(dict.fromkeys(self._transient))
        return state

    def configure(self, *, retries: int, limiter: RateLimiter | None, max_object_bytes: int):
        """Set the politeness knobs (per process) before fetching."""
        self.retries, self.limiter, self.max_object_bytes = retries, limiter, max_object_bytes
        return self

    @abstractmethod
    def list_metadata(self) -> Iterator[ObjectRef]:
        """Every article-version metadata object."""

    @abstractmethod
    def read_metadata(self, ref: ObjectRef) -> dict:
        """The metadata record of one listed article version (bucket JSON schema)."""

    @abstractmethod
    def fetch_article(self, row: dict, media: str = "figures") -> FetchedArticle:
        """The XML (first) and images of one manifest row: with ``media="figures"`` only
        those its figures name (:func:`jats.figure_media`), with ``"all"`` every image.

        Raises SourceError when the XML cannot be had; a failed image is a ``failure``.
        """


class BucketSource(Source):
    """Sources laid out like ``pmc-oa-opendata``: three primitives, the rest shared."""

    inventory_key: str | None = None  # the S3 Inventory the last listing read, if any

    @abstractmethod
    def _list_page(
        self, prefix: str, delimiter: str | None, token: str | None
    ) -> tuple[list[ObjectRef], list[str], str | None]:
        """One page of objects and common prefixes under ``prefix``, and the next token."""

    @abstractmethod
    def _read(self, key: str, sink: io.BytesIO) -> None:
        """Stream one object into ``sink``; raise NotFound or Retryable."""

    def list_objects(self, prefix: str, delimiter: str | None = None) -> Iterator[ObjectRef]:
        token = None
        while True:
            self.requests += 1
            objects, _, token = self._list_page(prefix, delimiter, token)
            yield from objects
            if not token:
                return

    def list_prefixes(self, prefix: str) -> list[str]:
        out, token = [], None
        while True:
            self.requests += 1
            _, prefixes, token = self._list_page(prefix, "/", token)
            out.extend(prefixes)
            if not token:
                return out

    def get(self, key: str, md5: str | None = None) -> bytes:
        """GET with retries, the size cap and the md5 check."""

        def attempt() -> bytes:
            self.requests += 1
            sink = _CappedBuffer(self.max_object_bytes, key)
            self._read(key, sink)
            return sink.getvalue()

        data = with_retries(attempt, retries=self.retries, limiter=self.limiter, what=key)
        if md5 and hashlib.md5(data).hexdigest() != md5.lower():
            raise IntegrityError(
                f"{key}: md5 mismatch (expected {md5}, got {hashlib.md5(data).hexdigest()})"
            )
        return data

    def latest_inventory(self) -> str | None:
        """Key of the newest inventory manifest.json, if the bucket publishes one."""
        dated = sorted(p for p in self.list_prefixes(INVENTORY_PREFIX) if not p.endswith("data/"))
        for prefix in reversed(dated):
            key = f"{prefix}manifest.json"
            if any(o.key == key for o in self.list_objects(prefix, "/")):
                return key
        return None

    def list_metadata(self) -> Iterator[ObjectRef]:
        manifest_key = self.latest_inventory()
        self.inventory_key = manifest_key  # what the listing was read from, for the record
        if manifest_key is None:
            refs: Iterator[ObjectRef] = self.list_objects(METADATA_PREFIX)
        else:
            refs = self._inventory_refs(manifest_key)
        for ref in refs:
            parsed = parse_version_key(ref.key) if ref.key.startswith(METADATA_PREFIX) else None
            if parsed:
                yield ObjectRef(ref.key, ref.etag, *parsed)

    def _inventory_refs(self, manifest_key: str) -> Iterator[ObjectRef]:
        manifest = json.loads(self.get(manifest_key))
        for entry in manifest.get("files", []):
            yield from inventory_rows(self.get(entry["key"], entry.get("MD5checksum")))

    def read_metadata(self, ref: ObjectRef) -> dict:
        return parse_metadata(self.get(ref.key), ref.key)

    def fetch_article(self, row: dict, media: str = "figures") -> FetchedArticle:
        xml, *images = row_files(row)
        data = self.get(xml.key, xml.md5)
        wanted, unparsed = select_media(data, images, lambda f: f.name, media)
        article = FetchedArticle([FetchedFile(xml.name, data)], [], len(images), unparsed=unparsed)
        for remote in wanted:
            try:
                article.files.append(FetchedFile(remote.name, self.get(remote.key, remote.md5)))
            except SourceError as exc:
                article.failures.append((remote.key, exc))
        return article


def select_media(
    xml: bytes, media: list[T], name: Callable[[T], str], mode: str
) -> tuple[list[T], bool]:
    """The media to fetch (in their order) and whether the XML failed to parse.

    An XML that does not parse gets no images: extract records its parse error and could
    use none of them, so fetching them would only cost requests and disk.
    """
    if mode == "all":
        return list(media), False
    try:
        wanted = set(figure_media(xml, [name(m) for m in media]))
    except JatsError:
        return [], True
    return [m for m in media if name(m) in wanted], False


def row_files(row: dict) -> list[RemoteFile]:
    """A manifest row's XML (first) and image media as RemoteFiles."""
    files = [RemoteFile(row["xml_key"], row["xml_key"].rsplit("/", 1)[-1], row.get("xml_md5"))]
    for key, md5 in zip(row["media_keys"], row["media_md5"], strict=True):
        files.append(RemoteFile(key, key.rsplit("/", 1)[-1], md5 or None))
    return files


class _CappedBuffer(io.BytesIO):
    """A BytesIO that refuses to grow past a cap (a hostile or broken object)."""

    def __init__(self, cap: int, key: str) -> None:
        super().__init__()
        self.cap, self.key = cap, key

    def write(self, b) -> int:  # type: ignore[override]
        if self.tell() + len(b) > self.cap:
            raise SourceError(f"{self.key}: object larger than the {self.cap}-byte cap")
        return super().write(b)


__all__ = [
    "BUCKET",
    "BucketSource",
    "FetchedFile",
    "FetchedArticle",
    "IntegrityError",
    "MEDIA_MODES",
    "MetadataError",
    "NotFound",
    "ObjectRef",
    "RemoteFile",
    "Source",
    "SourceError",
    "article_files",
    "is_figure_image",
    "parse_metadata",
    "parse_version_key",
    "select_media",
]
