"""``s3://pmc-oa-opendata`` through boto3: unsigned by default, any S3-compatible endpoint."""

from __future__ import annotations

import io

import boto3
from botocore import UNSIGNED
from botocore.client import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from .base import BucketSource, ObjectRef
from .transport import NotFound, Retryable, SourceError

_RETRYABLE_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "503"}


class S3Source(BucketSource):
    """boto3 client built lazily per process (clients are not picklable)."""

    _transient = ("_client",)

    def __init__(
        self, bucket: str, *, endpoint_url: str | None = None, sign: bool = False, pool: int = 32
    ) -> None:
        self.bucket, self.endpoint_url, self.sign, self.pool = bucket, endpoint_url, sign, pool
        self.uri = f"s3://{bucket}"
        self._client = None

    @property
    def client(self):
        if self._client is None:
            config = BotoConfig(
                signature_version=None if self.sign else UNSIGNED,
                retries={"mode": "standard", "total_max_attempts": 1},  # we retry ourselves
                max_pool_connections=self.pool,
                connect_timeout=10,
                read_timeout=60,
            )
            session = boto3.session.Session()
            self._client = session.client(
                "s3", endpoint_url=self.endpoint_url, config=config, region_name="us-east-1"
            )
        return self._client

    def _list_page(self, prefix, delimiter, token):
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        if token:
            kwargs["ContinuationToken"] = token
        resp = _call(lambda: self.client.list_objects_v2(**kwargs), f"list {prefix}")
        objects = [
            ObjectRef(o["Key"], o.get("ETag", "").strip('"') or None, size=o.get("Size"))
            for o in resp.get("Contents", [])
        ]
        prefixes = [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        return (
            objects,
            prefixes,
            resp.get("NextContinuationToken") if resp.get("IsTruncated") else None,
        )

    def _read(self, key: str, sink: io.BytesIO) -> None:
        def stream() -> None:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(1 << 20):
                sink.write(chunk)

        _call(stream, key)


def _call(fn, what: str):
    """Map botocore's exceptions onto NotFound / Retryable / SourceError."""
    try:
        return fn()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in {"NoSuchKey", "404", "NoSuchBucket"} or status == 404:
            raise NotFound(f"{what}: not found ({code or status})") from exc
        if code in _RETRYABLE_CODES or status >= 500:
            raise Retryable(f"{what}: {code or status}") from exc
        raise SourceError(f"{what}: {code or status}: {err.get('Message', exc)}") from exc
    except (ConnectionError, ReadTimeoutError) as exc:
        raise Retryable(f"{what}: {exc}") from exc
    except BotoCoreError as exc:
        raise Retryable(f"{what}: {exc}") from exc
