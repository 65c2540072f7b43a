"""``https://pmc-oa-opendata.s3.amazonaws.com`` through requests: the same keys, no AWS SDK.

ListObjectsV2 answers XML; we read it by local name so the S3 namespace (and servers that
omit it) both work.
"""

from __future__ import annotations

import io
import threading
from urllib.parse import quote

import requests
from lxml import etree

from .base import BucketSource, ObjectRef
from .transport import NotFound, Retryable, SourceError

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class HttpsSource(BucketSource):
    _transient = ("_local",)

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.uri = self.base_url
        self.timeout = timeout
        self._local: threading.local | None = None

    @property
    def session(self) -> requests.Session:
        """One session per thread: requests.Session is not guaranteed thread-safe."""
        if self._local is None:
            self._local = threading.local()
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _request(self, url: str, params: dict | None = None, stream: bool = False):
        try:
            resp = self.session.get(url, params=params, stream=stream, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Retryable(f"{url}: {exc}") from exc
        if resp.status_code == 404:
            resp.close()
            raise NotFound(f"{url}: 404 not found")
        if resp.status_code >= 500 or resp.status_code == 429:
            resp.close()
            raise Retryable(f"{url}: HTTP {resp.status_code}")
        if resp.status_code != 200:
            resp.close()
            raise SourceError(f"{url}: HTTP {resp.status_code}")
        return resp

    def _list_page(self, prefix, delimiter, token):
        params = {"list-type": "2", "prefix": prefix}
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["continuation-token"] = token
        resp = self._request(self.base_url + "/", params)
        root = etree.fromstring(resp.content, _SAFE_XML)
        objects, prefixes = [], []
        for el in root:
            name = etree.QName(el).localname
            if name == "Contents":
                fields = {etree.QName(c).localname: (c.text or "") for c in el}
                etag = fields.get("ETag", "").strip('"') or None
                size = int(fields["Size"]) if fields.get("Size", "").isdigit() else None
                objects.append(ObjectRef(fields["Key"], etag, size=size))
            elif name == "CommonPrefixes":
                prefixes.extend(c.text or "" for c in el)
        fields = {etree.QName(c).localname: (c.text or "") for c in root if len(c) == 0}
        truncated = fields.get("IsTruncated", "false").lower() == "true"
        return objects, prefixes, fields.get("NextContinuationToken") if truncated else None

    def _read(self, key: str, sink: io.BytesIO) -> None:
        url = f"{self.base_url}/{quote(key)}"
        resp = self._request(url, stream=True)
        try:
            for chunk in resp.iter_content(1 << 20):
                sink.write(chunk)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise Retryable(f"{url}: {exc}") from exc
        finally:
            resp.close()
