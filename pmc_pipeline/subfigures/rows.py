"""Panel rows: one figure's normalised image and caption in, its panel records out."""

from __future__ import annotations

import hashlib
import io
import struct

from PIL import Image

from pmc_pipeline.images import (
    SUPPORTED_FORMATS,
    ImageUnreadableError,
    dhash64,
    hash_thumbnail,
    phash64,
)
from pmc_pipeline.keys import panel_key

from .captions import split_caption
from .decision import align
from .detector import Detector
from .layout import find_panels


def panel_rows(
    parent: dict,
    img_bytes: bytes,
    *,
    detector: Detector | None = None,
    max_side: int = 1024,
    quality: int = 90,
) -> list[dict]:
    """Panel rows of one figure row, or [] when the figure is not split.

    ``parent`` needs ``key`` and ``caption`` (``markup_labels`` is used when present);
    ``img_bytes`` is its normalised image. The classical splitter reads a grey decode (for a
    JPEG, libjpeg's luma plane alone: no chroma, no colour conversion), and the colour image
    is decoded only once the figure is known to be compound, for the crops; a detector reads
    the colour image. Crops are hashed from the grey image. Each row has ``key, parent_key,
    panel_index, box`` (x0, y0, x1, y1 as fractions of the parent), ``label, subcaption,
    aligned, image`` (RGB JPEG), ``width, height, sha256, phash, dhash``.
    """
    searched = decode_figure(img_bytes, "L" if detector is None else "RGB")
    boxes = find_panels(searched, detector=detector).boxes
    if len(boxes) < 2:
        return []
    rgb = searched if detector is not None else decode_figure(img_bytes, "RGB")
    gray = searched if detector is None else rgb.convert("L")
    split = split_caption(parent.get("caption") or "", parent.get("markup_labels"))
    w, h = rgb.size
    rows = []
    for k, (box, label, text, aligned) in enumerate(align(boxes, split)):
        crop = rgb.crop(box)
        if max(crop.size) > max_side:
            crop.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        jpeg = _encode_jpeg(crop, quality)
        thumb = hash_thumbnail(gray.crop(box))
        rows.append(
            {
                "key": panel_key(parent["key"], k),
                "parent_key": parent["key"],
                "panel_index": k,
                "box": [box[0] / w, box[1] / h, box[2] / w, box[3] / h],
                "label": label,
                "subcaption": text,
                "aligned": aligned,
                "image": jpeg,
                "width": crop.width,
                "height": crop.height,
                "sha256": hashlib.sha256(jpeg).hexdigest(),
                "phash": phash64(thumb),
                "dhash": dhash64(thumb),
            }
        )
    return rows


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error)


def decode_figure(data: bytes, mode: str) -> Image.Image:
    """Decode a (normalised) figure image to ``mode`` ("RGB" or "L").

    For "L", a JPEG is asked for grey at full size (``draft``), so libjpeg decodes the luma
    plane only: about half the cost of an RGB decode followed by a conversion.
    """
    try:
        im = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
        if mode == "L" and im.format == "JPEG":
            im.draft("L", im.size)
        im.load()
        return im if im.mode == mode else im.convert(mode)
    except _DECODE_ERRORS as exc:
        raise ImageUnreadableError(
            f"cannot decode figure image for panel splitting: {exc}"
        ) from exc


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, subsampling="4:2:0", optimize=False)
    return buf.getvalue()
