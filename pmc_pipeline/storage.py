"""The build folder: a local path or ``s3://bucket/prefix``, with atomic writes.

Every stage decides "done" by the existence of its output file, so a file must appear
whole or not at all: locally we write a temporary sibling and ``os.replace`` it; on S3 a
single PUT (or a completed multipart upload) is already all-or-nothing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

# What atomic_writer names its temporary files, and the age after which one is abandoned.
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")
STALE_TEMP_S = 3600.0


def part_name(partition: int, suffix: str) -> str:
    """``part-00042.parquet``: the one spelling of a partition's file name."""
    return f"part-{partition:05d}{suffix}"


def partition_of(rel: str) -> int:
    """``manifest/part-00042.parquet`` -> 42."""
    return int(rel.rsplit("part-", 1)[1].split(".", 1)[0])


@dataclass(frozen=True)
class Store:
    """A build folder addressed by relative paths (``figures/part-00000.parquet``).

    Picklable: only the URI travels to Dask workers; each process opens its own filesystem.
    """

    uri: str
    endpoint_url: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @cached_property
    def fs(self) -> pafs.FileSystem:
        if not self.is_s3:
            return pafs.LocalFileSystem()
        kwargs = {"endpoint_override": self.endpoint_url} if self.endpoint_url else {}
        if self.endpoint_url and self.endpoint_url.startswith("http://"):
            kwargs["scheme"] = "http"
        region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        return pafs.S3FileSystem(region=region, **kwargs)

    def __getstate__(self) -> dict:
        return {"uri": self.uri, "endpoint_url": self.endpoint_url}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def root(self) -> str:
        """The root as pyarrow.fs spells it (no scheme for S3, absolute for local)."""
        if self.is_s3:
            return self.uri[len("s3://") :].rstrip("/")
        return str(Path(self.uri).resolve())

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def local_path(self, rel: str) -> Path:
        """The local path of ``rel``; only for local stores (e.g. to hand to tarfile)."""
        if self.is_s3:
            raise ValueError(f"{self.uri} is not a local folder")
        return Path(self.path(rel))

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def size(self, rel: str) -> int:
        """Bytes of one file (what deleting it frees)."""
        return self.fs.get_file_info(self.path(rel)).size

    def list(self, rel_dir: str, suffix: str = "") -> list[str]:
        """Relative paths of the files directly in ``rel_dir`` ending with ``suffix``, sorted."""
        selector = pafs.FileSelector(self.path(rel_dir), allow_not_found=True)
        names = [
            info.base_name
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
            and info.base_name.endswith(suffix)
            and not info.base_name.startswith(".")
        ]
        return [f"{rel_dir}/{name}" for name in sorted(names)]

    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.path(rel)) as f:
            return f.read()

    @contextmanager
    def open_read(self, rel: str) -> Iterator[IO[bytes]]:
        """A seekable binary handle (tar readers need to seek)."""
        with self.fs.open_input_file(self.path(rel)) as f:
            yield f

    def write_bytes(self, rel: str, data: bytes) -> None:
        with self.atomic_writer(rel) as f:
            f.write(data)

    @contextmanager
    def atomic_writer(self, rel: str) -> Iterator[IO[bytes]]:
        """Yield a local temporary file; publish it under ``rel`` only if the block succeeds."""
        if self.is_s3:
            with tempfile.TemporaryFile() as tmp:
                yield tmp
                tmp.flush()
                tmp.seek(0)
                with self.fs.open_output_stream(self.path(rel)) as out:
                    shutil.copyfileobj(tmp, out, 1 << 20)
            return
        target = self.local_path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp_path, "wb") as tmp:
                yield tmp
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_path, target)
        finally:
            tmp_path.unlink(missing_ok=True)

    def sweep_temp(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Delete the temporary files killed writers left behind; returns how many.

        Why: a SIGKILL between the open and the ``os.replace`` of :meth:`atomic_writer`
        leaves ``.<name>.<uuid>.tmp`` beside its target. Every stage ignores such files, but
        they hold disk. Only files untouched for ``older_than_s`` go, so a writer still at
        work (another build on the same folder) keeps its file. S3 writes stage in the
        machine's temporary folder and leave nothing under the output.
        """
        if self.is_s3 or not Path(self.root).is_dir():
            return 0
        cutoff, removed = time.time() - older_than_s, 0
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                if not _TEMP_NAME.match(name):
                    continue
                path = Path(folder, name)
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:  # its writer finished or another sweep took it
                    continue
        return removed

    def write_table(self, rel: str, table: pa.Table) -> None:
        """Write Parquet atomically (zstd; row groups sized for figure rows with images)."""
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd", row_group_size=1000)
        self.write_bytes(rel, buf.getvalue())

    @contextmanager
    def table_writer(self, rel: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
        """A Parquet file written table by table and published whole (as :meth:`write_table`):
        a file of millions of rows need never be held in memory."""
        with self.atomic_writer(rel) as f, pq.ParquetWriter(f, schema, compression="zstd") as w:
            yield w

    def read_table(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        with self.fs.open_input_file(self.path(rel)) as f:
            return pq.read_table(f, columns=columns)

    def remove_tree(self, rel: str) -> None:
        """Delete a folder and everything in it, if it exists."""
        if self.exists(rel):
            self.fs.delete_dir(self.path(rel))

    def remove(self, rel: str) -> None:
        if self.exists(rel):
            self.fs.delete_file(self.path(rel))
