"""A legacy mirror: ``oa_file_list.csv`` + ``oa_package/xx/yy/PMC*.tar.gz`` on a user's disk.

PMC stopped publishing these in August 2026, but many groups still hold copies. A tarball
is untrusted input: members with absolute paths, ``..``, links or devices make the whole
package an error (a tampered package is not worth salvaging), and member sizes are capped.
"""

from __future__ import annotations

import csv
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .base import FetchedArticle, FetchedFile, ObjectRef, Source, is_figure_image, select_media
from .transport import NotFound, SourceError

FILE_LIST = "oa_file_list.csv"
LEGACY_SCHEME = "legacy://"


class UnsafePackage(SourceError):
    """A tarball member that could escape the extraction folder or is not a regular file."""


class LegacySource(Source):
    _transient = ("_rows",)

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.uri = f"legacy:{self.root}"
        if not (self.root / FILE_LIST).is_file():
            raise SourceError(f"{self.root} has no {FILE_LIST}: not a legacy PMC mirror")
        self._rows: dict[str, dict] | None = None

    @property
    def rows(self) -> dict[str, dict]:
        """oa_file_list.csv by package path, read once per process."""
        if self._rows is None:
            with open(self.root / FILE_LIST, newline="", encoding="utf-8") as f:
                self._rows = {row["File"]: row for row in csv.DictReader(f)}
        return self._rows

    def list_metadata(self) -> Iterator[ObjectRef]:
        for key, row in self.rows.items():
            pmcid = row.get("Accession ID", "").strip()
            if pmcid.startswith("PMC"):
                yield ObjectRef(key, row.get("Last Updated (YYYY-MM-DD HH:MM:SS)"), pmcid, 1)

    def read_metadata(self, ref: ObjectRef) -> dict:
        """Metadata in the bucket's schema, from what the CSV knows (every row was OA)."""
        row = self.rows[ref.key]
        pmid = (row.get("PMID") or "").strip()
        return {
            "pmcid": ref.pmcid,
            "version": 1,
            "pmid": pmid.removeprefix("PMID:") or None,
            "doi": None,
            "mid": None,
            "title": None,
            "citation": row.get("Article Citation"),
            "is_pmc_openaccess": True,
            "is_manuscript": False,
            "is_historical_ocr": False,
            "is_retracted": False,
            "license_code": (row.get("License") or "").strip() or None,
            "xml_url": LEGACY_SCHEME + ref.key,
            "media_urls": [],
        }

    def fetch_article(self, row: dict, media: str = "figures") -> FetchedArticle:
        path = (self.root / row["xml_key"]).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafePackage(f"{row['xml_key']}: package path escapes the mirror")
        if not path.is_file():
            raise NotFound(f"{row['xml_key']}: package not found in {self.root}")
        try:
            with tarfile.open(path, "r:*") as tar:
                return self._read_package(tar, row["xml_key"], media)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise SourceError(f"{row['xml_key']}: unreadable package ({exc})") from exc

    def _read_package(self, tar: tarfile.TarFile, key: str, media: str) -> FetchedArticle:
        """The package's XML and the images ``media`` selects, as the bucket sources do."""
        xml: tarfile.TarInfo | None = None
        images: list[tarfile.TarInfo] = []
        for member in tar.getmembers():
            check_member(member, key, self.max_object_bytes)
            if not member.isfile():
                continue
            name = _name(member)
            if name.endswith((".nxml", ".xml")) and xml is None:
                xml = member
            elif is_figure_image(name):
                images.append(member)
        if xml is None:
            raise SourceError(f"{key}: package holds no .nxml article")
        data = _read_member(tar, xml)
        images.sort(key=_name)
        wanted, unparsed = select_media(data, images, _name, media)
        # read in archive order: a gzip stream seeks backwards only by starting over
        read = {m.name: _read_member(tar, m) for m in sorted(wanted, key=lambda m: m.offset)}
        return FetchedArticle(
            [FetchedFile(_name(xml), data), *(FetchedFile(_name(m), read[m.name]) for m in wanted)],
            [],
            len(images),
            sum(m.size for m in images if m not in wanted),
            unparsed,
        )


def check_member(member: tarfile.TarInfo, key: str, cap: int) -> None:
    """Refuse links, devices, absolute paths, ``..`` and oversized members."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise UnsafePackage(f"{key}: member {member.name!r} escapes the package folder")
    if member.issym() or member.islnk():
        raise UnsafePackage(f"{key}: member {member.name!r} is a link")
    if not (member.isfile() or member.isdir()):
        raise UnsafePackage(f"{key}: member {member.name!r} is not a regular file")
    if member.size > cap:
        raise UnsafePackage(f"{key}: member {member.name!r} is over the {cap}-byte cap")


def _name(member: tarfile.TarInfo) -> str:
    """A member's file name without its folder: its name in the bundle."""
    return PurePosixPath(member.name).name


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(member)
    if f is None:
        raise SourceError(f"member {member.name!r} has no data")
    return f.read()
