"""The learned-detector seam: a local model file in place of the classical layout search.

Nothing is ever downloaded: a detector is a Python callable or a TorchScript file on disk.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from .boxes import Box, reading_order

Detector = Callable[[Image.Image], list[Box]]


class DetectorError(ValueError):
    """A learned detector could not be loaded, or returned something that is not boxes."""


def detected(img: Image.Image, detector: Detector) -> list[Box]:
    """Boxes from a learned detector, checked, clipped to the image, in reading order."""
    w, h = img.size
    try:
        raw = detector(img)
    except Exception as exc:  # a user-supplied model: report its failure as a panel error
        raise DetectorError(f"panel detector failed: {type(exc).__name__}: {exc}") from exc
    boxes = []
    for b in raw:
        try:
            x0, y0, x1, y1 = (float(v) for v in b)
        except (TypeError, ValueError) as exc:
            raise DetectorError(f"detector returned {b!r}, not (x0, y0, x1, y1)") from exc
        box = (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    return reading_order(boxes)


_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")


def load_detector(path: str | None) -> Detector | None:
    """A learned panel detector from a local file; None (the classical splitter) without one.

    ``path`` is either ``"file.py:function"`` / ``"package.module:function"`` naming a
    Python callable ``f(PIL.Image) -> [(x0, y0, x1, y1), ...]`` in image pixels, or a
    TorchScript file (``.pt``, ``.pth``, ``.ts``, ``.torchscript``; needs ``torch``) whose
    module takes a float tensor ``[1, 3, H, W]`` in 0..1 and returns an ``[N, 4]`` box
    tensor (or a dict with ``"boxes"``, or a tuple whose first item is one). Nothing is
    ever downloaded.
    """
    if path is None:
        return None
    if path.lower().endswith(_TORCHSCRIPT_SUFFIXES):
        return _torchscript_detector(Path(path))
    module_name, sep, attr = path.rpartition(":")
    if not sep or not module_name or not attr:
        raise DetectorError(
            f"detector {path!r} is neither 'file.py:function', 'module:function' nor a "
            f"TorchScript file ({', '.join(_TORCHSCRIPT_SUFFIXES)})"
        )
    module = _load_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise DetectorError(f"{module_name!r} has no callable {attr!r}")
    return fn


def _load_module(name: str):
    """Import a module from a local .py file or the installed packages, never a download."""
    if name.endswith(".py") or "/" in name or "\\" in name:
        file = Path(name)
        if not file.is_file():
            raise DetectorError(f"detector file not found: {file}")
        spec = importlib.util.spec_from_file_location(f"_pmc_detector_{file.stem}", file)
        if spec is None or spec.loader is None:
            raise DetectorError(f"cannot load detector file {file}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's file: report why it failed to import
            raise DetectorError(f"detector file {file} failed to import: {exc}") from exc
        return module
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise DetectorError(f"detector module {name!r} not found: {exc}") from exc


def _torchscript_detector(file: Path) -> Detector:
    if not file.is_file():
        raise DetectorError(f"detector file not found: {file}")
    try:
        import torch
    except ImportError as exc:
        raise DetectorError(f"TorchScript detector {file} needs torch, not installed") from exc
    model = torch.jit.load(str(file), map_location="cpu").eval()

    def detect(img: Image.Image) -> list[Box]:
        rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        with torch.no_grad():
            out = model(torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0))
        if isinstance(out, dict):
            out = out["boxes"]
        elif isinstance(out, (tuple, list)):
            out = out[0]
        return [tuple(row) for row in out.reshape(-1, 4).tolist()]

    return detect
