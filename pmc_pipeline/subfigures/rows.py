"""Panel rows: one figure's normalised image and caption in, its panel records out."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image

from pmc_pipeline.images import (
    DECODE_ERRORS,
    SUPPORTED_FORMATS,
    ImageUnreadableError,
    dhash64,
    encode_jpeg,
    fit_size,
    hash_thumbnail,
    phash64,
)
from pmc_pipeline.keys import panel_key

from .boxes import Box
from .captions import split_caption
from .decision import SplitDecision, align, decide_split
from .detector import Detector


@dataclass(frozen=True)
class FigureSplit:
    """One figure's split decision and its panel rows (candidates too, when rejected)."""

    decision: SplitDecision
    caption_labels: int  # how many panels the caption names (0 or 1: none)
    rows: list[dict]


def split_figure(
    parent: dict,
    img_bytes: bytes,
    *,
    detector: Detector | None = None,
    max_side: int = 1024,
    quality: int = 90,
) -> FigureSplit:
    """The split decision of one figure row, with a row per candidate panel.

    ``parent`` needs ``key`` and ``caption`` (``markup_labels`` is used when present);
    ``img_bytes`` is its normalised image. The classical splitter reads a grey decode (for a
    JPEG, libjpeg's luma plane alone: no chroma, no colour conversion), and the colour image
    is decoded only for an accepted split, for the crops; a detector reads the colour image.
    Crops are hashed from the grey image. Each row has ``key, parent_key, panel_index, box``
    (x0, y0, x1, y1 as fractions of the parent), ``label, subcaption, aligned, decision,
    reason, confidence, image`` (RGB JPEG; None for a rejected candidate), ``width,
    height, sha256, phash, dhash``.
    """
    split = split_caption(parent.get("caption") or "", parent.get("markup_labels"))
    searched = decode_figure(img_bytes, "L" if detector is None else "RGB")
    decision = decide_split(searched, split, detector=detector)
    if not decision.boxes:
        return FigureSplit(decision, len(split.items), [])
    rgb = gray = None
    if decision.accepted:
        rgb = searched if detector is not None else decode_figure(img_bytes, "RGB")
        gray = searched if detector is None else rgb.convert("L")
    w, h = searched.size
    rows = []
    for k, (box, label, text, aligned) in enumerate(align(decision.boxes, split, decision.ordered)):
        row = {
            "key": panel_key(parent["key"], k),
            "parent_key": parent["key"],
            "panel_index": k,
            "box": [box[0] / w, box[1] / h, box[2] / w, box[3] / h],
            "label": label,
            "subcaption": text,
            "aligned": aligned,
            "decision": "accepted" if decision.accepted else "rejected",
            "reason": decision.reason,
            "confidence": decision.confidence,
        }
        if rgb is None or gray is None:
            width, height = fit_size(box[2] - box[0], box[3] - box[1], max_side)
            row |= {"image": None, "width": width, "height": height}
            row |= {"sha256": None, "phash": None, "dhash": None}
        else:
            row |= _panel_image(rgb, gray, box, max_side, quality)
        rows.append(row)
    return FigureSplit(decision, len(split.items), rows)


def _panel_image(
    rgb: Image.Image, gray: Image.Image, box: Box, max_side: int, quality: int
) -> dict:
    """A panel's JPEG crop, its size and its hashes."""
    crop = rgb.crop(box)
    if max(crop.size) > max_side:
        crop.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    jpeg = encode_jpeg(crop, quality)
    thumb = hash_thumbnail(gray.crop(box))
    return {
        "image": jpeg,
        "width": crop.width,
        "height": crop.height,
        "sha256": hashlib.sha256(jpeg).hexdigest(),
        "phash": phash64(thumb),
        "dhash": dhash64(thumb),
    }


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
    except DECODE_ERRORS as exc:
        raise ImageUnreadableError(
            f"cannot decode figure image for panel splitting: {exc}"
        ) from exc
