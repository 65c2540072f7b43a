"""Article sources: the PMC bucket over S3 or HTTPS, a local copy, or a legacy mirror."""

from __future__ import annotations

from pathlib import Path

from .base import (
    BucketSource,
    FetchedArticle,
    FetchedFile,
    IntegrityError,
    MetadataError,
    ObjectRef,
    Source,
    article_files,
    row_files,
)
from .https import HttpsSource
from .legacy import FILE_LIST, LegacySource, UnsafePackage
from .local import LocalSource
from .s3 import S3Source
from .transport import NotFound, Retryable, SourceError

PUBLIC_HTTPS = "https://pmc-oa-opendata.s3.amazonaws.com"


def open_source(
    spec: str, *, endpoint_url: str | None = None, sign: bool = False, timeout: float = 60.0
) -> Source:
    """Pick the implementation from the spelling of ``spec``.

    ``s3://bucket`` (boto3), ``https://...`` (requests), ``legacy:/path`` or a folder holding
    ``oa_file_list.csv`` (legacy mirror), any other folder (bucket layout on disk).
    """
    if spec.startswith("s3://"):
        bucket = spec[len("s3://") :].strip("/")
        if not bucket or "/" in bucket:
            raise SourceError(f"{spec!r}: give the bucket alone, e.g. s3://pmc-oa-opendata")
        return S3Source(bucket, endpoint_url=endpoint_url, sign=sign)
    if spec.startswith(("https://", "http://")):
        return HttpsSource(spec, timeout=timeout)
    if spec.startswith("legacy:"):
        return LegacySource(spec[len("legacy:") :])
    path = Path(spec)
    if (path / FILE_LIST).is_file():
        return LegacySource(path)
    if path.is_dir():
        return LocalSource(path)
    raise SourceError(
        f"source {spec!r} is neither s3://BUCKET, an https:// URL, nor an existing folder"
    )


__all__ = [
    "PUBLIC_HTTPS",
    "BucketSource",
    "FetchedArticle",
    "FetchedFile",
    "HttpsSource",
    "IntegrityError",
    "LegacySource",
    "LocalSource",
    "MetadataError",
    "NotFound",
    "ObjectRef",
    "Retryable",
    "S3Source",
    "Source",
    "SourceError",
    "UnsafePackage",
    "article_files",
    "open_source",
    "row_files",
]
