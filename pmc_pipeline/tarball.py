"""Reproducible tar members: the same bytes in give the same archive out, anywhere."""

from __future__ import annotations

import io
import tarfile


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add ``data`` as ``name`` with a fixed mtime, owner and mode."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))
