"""Write article specs in the layout of ``s3://pmc-oa-opendata`` or of a legacy FTP mirror.

The bucket layout (DESIGN.md §2) is what every source reader is built against, so the demo
source and the test fixtures share this one writer instead of each inventing its own. The
output is byte-deterministic (sorted keys, fixed timestamps, gzip/tar mtime 0) so that two
builds of the same specs can be compared file by file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import tarfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from lxml import etree

BUCKET = "pmc-oa-opendata"
INVENTORY_ROOT = f"inventory-reports/{BUCKET}/metadata"
INVENTORY_DATE_FORMAT = "%Y-%m-%dT%H-%MZ"
FILE_LIST_HEADER = (
    "File",
    "Article Citation",
    "Accession ID",
    "Last Updated (YYYY-MM-DD HH:MM:SS)",
    "PMID",
    "License",
)
_PMCID = re.compile(r"PMC[1-9]\d*")
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_LAST_MODIFIED = "2026-11-26T03:12:45.000Z"  # one fixed time: output must be deterministic
_LEGACY_UPDATED = "2026-07-31 12:00:00"  # the last day the FTP packages were refreshed


class LayoutError(ValueError):
    """An article spec cannot be written (bad PMCID, unsafe or clashing file name)."""


@dataclass
class ArticleSpec:
    """One article *version* as PMC publishes it: XML, media and the metadata JSON fields.

    ``media`` holds figure images (and whatever else PMC lists as media, e.g. ``.gif``
    thumbnails); ``extra_files`` holds supplements (``.s001.doc``, ``.zip``, ``.mp4``...).
    Both end up in ``media_urls``: telling them apart is the pipeline's job.
    Without a PDF, ``pdf_url`` is left out of the JSON, or written as ``null`` when
    ``null_pdf_url`` is set (the bucket does both).
    """

    pmcid: str
    version: int
    xml: bytes
    media: dict[str, bytes] = field(default_factory=dict)
    pmid: int | None = None
    doi: str | None = None
    title: str = ""
    citation: str = ""
    license_code: str | None = "CC BY"
    is_pmc_openaccess: bool = True
    is_manuscript: bool = False
    is_historical_ocr: bool = False
    is_retracted: bool = False
    extra_files: dict[str, bytes] = field(default_factory=dict)
    with_pdf: bool = True
    null_pdf_url: bool = False
    mid: str | None = None
    nxml_stem: str | None = None  # legacy package: <nxml_stem>.nxml (default from the DOI)
    package: bytes | None = None  # legacy mirror: ship these tarball bytes as they are

    def __post_init__(self) -> None:
        if not _PMCID.fullmatch(self.pmcid):
            raise LayoutError(f"{self.pmcid!r} is not a PMCID like 'PMC123'")
        if self.version < 1:
            raise LayoutError(f"{self.pmcid}: version must be >= 1, got {self.version}")
        reserved = {f"{self.prefix}.{ext}" for ext in ("xml", "json", "txt", "pdf")}
        names = [*self.media, *self.extra_files]
        for name in names:
            if not name or "/" in name or "\\" in name or name in {".", ".."}:
                raise LayoutError(f"{self.prefix}: {name!r} is not a plain file name")
            if name in reserved:
                raise LayoutError(f"{self.prefix}: file {name!r} clashes with the article files")
        if len(set(names)) != len(names):
            raise LayoutError(f"{self.prefix}: a file is both media and supplement")

    @property
    def prefix(self) -> str:
        """``PMC123.4``: the article version's folder (and file stem) in the bucket."""
        return f"{self.pmcid}.{self.version}"

    @property
    def pdf(self) -> bytes:
        """A placeholder PDF: the pipeline must never download it, so content is moot."""
        return b"%PDF-1.4\n% " + self.prefix.encode() + b" placeholder\n%%EOF\n"

    @cached_property
    def text(self) -> bytes:
        """The ``.txt`` PMC ships: the article's plain text."""
        try:
            root = etree.fromstring(self.xml, _SAFE_XML)
        except etree.XMLSyntaxError:
            return b""
        words = " ".join(root.itertext()).split()
        return (" ".join(words) + "\n").encode()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def metadata_json(spec: ArticleSpec) -> bytes:
    """The metadata JSON, fields in the bucket's order, URLs carrying the md5 of the bytes."""

    def url(name: str, data: bytes) -> str:
        return f"s3://{BUCKET}/{spec.prefix}/{name}?md5={md5_hex(data)}"

    meta: dict = {
        "pmcid": spec.pmcid,
        "version": spec.version,
        "pmid": spec.pmid,
        "doi": spec.doi,
        "mid": spec.mid,
        "title": spec.title,
        "citation": spec.citation,
        "is_pmc_openaccess": spec.is_pmc_openaccess,
        "is_manuscript": spec.is_manuscript,
        "is_historical_ocr": spec.is_historical_ocr,
        "is_retracted": spec.is_retracted,
        "license_code": spec.license_code,
        "xml_url": url(f"{spec.prefix}.xml", spec.xml),
        "text_url": url(f"{spec.prefix}.txt", spec.text),
    }
    if spec.with_pdf:
        meta["pdf_url"] = url(f"{spec.prefix}.pdf", spec.pdf)
    elif spec.null_pdf_url:
        meta["pdf_url"] = None
    files = {**spec.media, **spec.extra_files}
    meta["media_urls"] = [url(name, files[name]) for name in sorted(files)]
    return (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode()


def bucket_objects(spec: ArticleSpec) -> dict[str, bytes]:
    """Every object one article version puts in the bucket, by key."""
    p = spec.prefix
    objects = {f"{p}/{p}.xml": spec.xml, f"{p}/{p}.txt": spec.text}
    if spec.with_pdf:
        objects[f"{p}/{p}.pdf"] = spec.pdf
    for name, data in {**spec.media, **spec.extra_files}.items():
        objects[f"{p}/{name}"] = data
    meta = metadata_json(spec)
    objects[f"{p}/{p}.json"] = meta
    objects[f"metadata/{p}.json"] = meta
    return objects


def write_bucket(
    root: Path,
    articles: list[ArticleSpec],
    *,
    inventory: bool,
    inventory_date: str = "2026-11-27T01-00Z",
) -> None:
    """Write ``articles`` into ``root`` as the bucket lays them out (optionally with inventory).

    With ``inventory``, two dated S3 Inventory deliveries are written: ``inventory_date``
    listing every metadata key, and one a day older listing only the first half, so a reader
    that does not pick the newest one misses articles.
    """
    objects: dict[str, bytes] = {}
    for spec in articles:
        new = bucket_objects(spec)
        clash = objects.keys() & new.keys()
        if clash:
            raise LayoutError(f"{spec.prefix} is given twice (e.g. {min(clash)})")
        objects.update(new)
    if inventory:
        etags = {k: md5_hex(v) for k, v in objects.items() if k.startswith("metadata/")}
        keys = sorted(etags)
        older = _shift_date(inventory_date, days=-1)
        objects.update(inventory_objects(older, keys[: len(keys) // 2], etags, n_files=1))
        objects.update(inventory_objects(inventory_date, keys, etags, n_files=2))
    write_tree(root, objects)


def write_tree(root: Path, objects: dict[str, bytes]) -> None:
    """Write ``key -> bytes`` under ``root`` (keys are POSIX relative paths)."""
    root = Path(root)
    for key in sorted(objects):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(objects[key])


def inventory_objects(
    date: str, keys: list[str], etags: dict[str, str], *, n_files: int
) -> dict[str, bytes]:
    """One S3 Inventory delivery: ``<date>/manifest.json`` (+ checksum) and its CSV.gz files."""
    created = datetime.strptime(date, INVENTORY_DATE_FORMAT).replace(tzinfo=UTC)
    objects: dict[str, bytes] = {}
    files = []
    per_file = -(-len(keys) // n_files) if keys else 0
    for i in range(n_files):
        chunk = keys[i * per_file : (i + 1) * per_file]
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows([BUCKET, key, _LAST_MODIFIED, etags[key]] for key in chunk)
        data = gzip.compress(buf.getvalue().encode(), mtime=0)
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"{BUCKET}/{date}/{i}")
        key = f"{INVENTORY_ROOT}/data/{name}.csv.gz"
        objects[key] = data
        files.append({"key": key, "size": len(data), "MD5checksum": md5_hex(data)})
    manifest = {
        "sourceBucket": BUCKET,
        "destinationBucket": f"arn:aws:s3:::{BUCKET}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, LastModifiedDate, ETag",
        "files": files,
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    objects[f"{INVENTORY_ROOT}/{date}/manifest.json"] = manifest_bytes
    objects[f"{INVENTORY_ROOT}/{date}/manifest.checksum"] = md5_hex(manifest_bytes).encode()
    return objects


def _shift_date(date: str, *, days: int) -> str:
    try:
        when = datetime.strptime(date, INVENTORY_DATE_FORMAT)
    except ValueError as exc:
        raise LayoutError(f"inventory date {date!r} is not like 2026-11-27T01-00Z") from exc
    return (when + timedelta(days=days)).strftime(INVENTORY_DATE_FORMAT)


def package_path(pmcid: str) -> str:
    """``oa_package/xx/yy/PMC123.tar.gz``: two hex levels, as the FTP site spread them."""
    h = md5_hex(pmcid.encode())
    return f"oa_package/{h[:2]}/{h[2:4]}/{pmcid}.tar.gz"


def legacy_package(spec: ArticleSpec) -> bytes:
    """A ``.tar.gz`` with one ``PMC<id>/`` folder: the ``.nxml``, media, PDF and supplements."""
    stem = spec.nxml_stem or (spec.doi.rsplit("/", 1)[-1] if spec.doi else spec.pmcid)
    members = {f"{stem}.nxml": spec.xml, **spec.media, **spec.extra_files}
    if spec.with_pdf:
        members[f"{stem}.pdf"] = spec.pdf
    return tar_gz({f"{spec.pmcid}/{name}": data for name, data in members.items()})


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A deterministic .tar.gz of regular files (sorted, mtime 0, root-owned, 0644)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(members[name]), 0o644
            tar.addfile(info, io.BytesIO(members[name]))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_legacy_mirror(
    root: Path, articles: list[ArticleSpec], *, extra_tarballs: dict[str, bytes] | None = None
) -> None:
    """Write ``oa_file_list.csv`` and one package per article (a PMCID may appear once).

    ``extra_tarballs`` (path under ``root`` -> bytes, e.g. hostile packages) are written
    as given and listed with their PMCID taken from the file name.
    """
    seen = [spec.pmcid for spec in articles]
    if len(set(seen)) != len(seen):
        raise LayoutError("a legacy mirror holds one package per PMCID; a PMCID is given twice")
    objects: dict[str, bytes] = {}
    rows = []
    for spec in articles:
        path = package_path(spec.pmcid)
        objects[path] = spec.package if spec.package is not None else legacy_package(spec)
        pmid = f"PMID:{spec.pmid}" if spec.pmid else ""
        rows.append([path, spec.citation, spec.pmcid, _LEGACY_UPDATED, pmid, spec.license_code])
    for path, data in sorted((extra_tarballs or {}).items()):
        match = _PMCID.search(Path(path).name)
        if not match:
            raise LayoutError(f"extra tarball {path!r}: its file name holds no PMCID")
        objects[path] = data
        rows.append([path, "", match.group(0), _LEGACY_UPDATED, "", "CC BY"])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FILE_LIST_HEADER)
    writer.writerows(sorted(rows))
    objects["oa_file_list.csv"] = buf.getvalue().encode()
    write_tree(root, objects)


__all__ = [
    "BUCKET",
    "FILE_LIST_HEADER",
    "ArticleSpec",
    "LayoutError",
    "bucket_objects",
    "legacy_package",
    "metadata_json",
    "package_path",
    "tar_gz",
    "write_bucket",
    "write_legacy_mirror",
]
