"""A local folder in the bucket's per-version layout (e.g. a user's ``aws s3 sync`` copy)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from .base import BucketSource, ObjectRef
from .transport import NotFound, SourceError


class LocalSource(BucketSource):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.uri = str(self.root)
        if not self.root.is_dir():
            raise SourceError(f"source folder {self.root} does not exist")

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise SourceError(f"{key}: key escapes the source folder")
        return path

    def _list_page(self, prefix, delimiter, token):
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.is_dir():
            return [], [], None
        objects, prefixes = [], []
        walk = base.iterdir() if delimiter else base.rglob("*")
        for path in sorted(walk):
            key = path.relative_to(self.root).as_posix()
            if not key.startswith(prefix):
                continue
            if path.is_dir():
                if delimiter:
                    prefixes.append(key + "/")
            elif path.is_file():
                # S3 ETags of single-part uploads are the md5: compute it so incremental
                # builds see the same change signal as from the bucket.
                data = path.read_bytes()
                objects.append(ObjectRef(key, hashlib.md5(data).hexdigest(), size=len(data)))
        return objects, prefixes, None

    def _read(self, key: str, sink: io.BytesIO) -> None:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"{key}: not found in {self.root}")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                sink.write(chunk)
