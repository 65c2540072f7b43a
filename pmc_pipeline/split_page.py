"""The "Split decisions" page: what the split stage did, for a person to eyeball (pure).

Counts alone cannot say whether the panel boxes are right, so the page shows a sample of
accepted splits (the figure with each panel box drawn, beside its panels' labels and
sub-captions) and of rejected ones (candidate boxes dashed in grey, with the reason and
confidence). Images are embedded as data: URIs so the page opens offline. Samples are
picked by the caller; :func:`sample_rank` gives a stable order so the page is reproducible.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from PIL import ImageDraw, ImageFont

from .report import preview_image

THUMB_SIDE = 480
SAMPLES = 24
CAPTION_CHARS = 600
# distinct, colour-blind-friendly outlines (Tableau 10)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
REJECTED_COLOUR = "#888888"
COUNT_ROWS = (
    ("figures", "figures examined"),
    ("caption_labelled", "with >= 2 panel labels in the caption"),
    ("candidates", "with >= 2 candidate panels"),
    ("accepted", "split (accepted)"),
    ("panels", "panel samples"),
    ("panels_aligned", "panels paired with their own sub-caption"),
)

Box = Sequence[float]  # x0, y0, x1, y1 as fractions of the image


def sample_rank(key: str) -> bytes:
    """A stable pseudo-random sort key: the same build always shows the same figures,
    spread over the build rather than its first partition."""
    return hashlib.blake2b(key.encode(), digest_size=8).digest()


def _dashed_rectangle(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int, int, int], colour: str, width: int
) -> None:
    """PIL draws no dashed lines: one short segment every other ``dash`` pixels."""
    x0, y0, x1, y1 = xy
    dash = 6
    for x in range(x0, x1, 2 * dash):
        draw.line([(x, y0), (min(x + dash, x1), y0)], fill=colour, width=width)
        draw.line([(x, y1), (min(x + dash, x1), y1)], fill=colour, width=width)
    for y in range(y0, y1, 2 * dash):
        draw.line([(x0, y), (x0, min(y + dash, y1))], fill=colour, width=width)
        draw.line([(x1, y), (x1, min(y + dash, y1))], fill=colour, width=width)


def draw_boxes(
    jpeg: bytes,
    boxes: Sequence[Box],
    labels: Sequence[str],
    *,
    rejected: bool = False,
    side: int = THUMB_SIDE,
) -> bytes | None:
    """A thumbnail (longer side <= ``side``) with each box outlined and its label written
    at its top-right corner; solid distinct colours, or dashed grey for ``rejected``
    candidates. Returns JPEG bytes, or None when the image does not decode."""
    img = preview_image(jpeg, side)
    if img is None:
        return None
    w, h = img.size
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(11, min(w, h) // 28))
    width = 3 if max(w, h) >= 300 else 2
    for i, (box, label) in enumerate(zip(boxes, labels, strict=True)):
        x0, y0, x1, y1 = (
            round(box[0] * w),
            round(box[1] * h),
            round(box[2] * w),
            round(box[3] * h),
        )
        xy = (max(0, x0), max(0, y0), min(w - 1, x1), min(h - 1, y1))
        colour = REJECTED_COLOUR if rejected else PALETTE[i % len(PALETTE)]
        if rejected:
            _dashed_rectangle(draw, xy, colour, width)
        else:
            draw.rectangle(xy, outline=colour, width=width)
        # top-right corner: the figure's own panel letter is usually top-left, and a
        # reader compares the two
        tw = draw.textlength(label, font=font)
        at = (max(xy[0] + width, xy[2] - width - 2 - tw), xy[1] + width)
        draw.rectangle(draw.textbbox(at, label, font=font), fill=colour)
        draw.text(at, label, fill="white", font=font)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _panel_tag(panel: Mapping[str, Any]) -> str:
    """What is written on a box: the caption label when aligned, else the reading index."""
    label = panel.get("label")
    return str(label) if label else f"#{panel.get('panel_index', 0)}"


def _short(text: str | None, n: int = CAPTION_CHARS) -> str:
    text = text or ""
    return text if len(text) <= n else text[:n].rstrip() + "…"


def figure_block(figure: Mapping[str, Any], panels: Sequence[Mapping[str, Any]]) -> str:
    """One sampled figure: its boxed thumbnail beside its panels (accepted) or its
    decision (rejected). ``figure``: ``key``, ``caption``, ``image`` (JPEG bytes or None);
    ``panels``: its panel rows (``panel_index, box, label, subcaption, aligned, decision,
    reason, confidence``)."""
    panels = sorted(panels, key=lambda p: p.get("panel_index") or 0)
    first = panels[0] if panels else {}
    rejected = first.get("decision", "accepted") != "accepted"
    tags = [_panel_tag(p) for p in panels]
    drawable = [(p["box"], t) for p, t in zip(panels, tags, strict=True) if p.get("box")]
    thumb = (
        draw_boxes(
            figure["image"], [b for b, _ in drawable], [t for _, t in drawable], rejected=rejected
        )
        if figure.get("image")
        else None
    )
    img = (
        f'<img alt="{escape(figure["key"])}" src="data:image/jpeg;base64,'
        f'{base64.b64encode(thumb).decode()}">'
        if thumb
        else "<div class=noimg>image unavailable</div>"
    )
    confidence = first.get("confidence")
    verdict = f"{first.get('reason') or first.get('decision', 'accepted')}" + (
        f" · confidence {confidence:.2f}" if confidence is not None else ""
    )
    head = f"<h3>{escape(figure['key'])} <small>{escape(verdict)}</small></h3>"
    if rejected:
        body = (
            f"<p>{len(panels)} candidate boxes, not split.</p>"
            f"<p class=cap>{escape(_short(figure.get('caption')))}</p>"
        )
    else:
        items = []
        for i, (p, tag) in enumerate(zip(panels, tags, strict=True)):
            swatch = f'<span class=sw style="background:{PALETTE[i % len(PALETTE)]}"></span>'
            aligned = "" if p.get("aligned", True) else " <i>(not aligned)</i>"
            items.append(
                f"<li>{swatch}<b>{escape(tag)}</b>{aligned}: "
                f"{escape(_short(p.get('subcaption')))}</li>"
            )
        body = f"<ol>{''.join(items)}</ol>"
    return f"<div class=fig><div>{img}</div><div class=side>{head}{body}</div></div>"


def _counts_table(counts: Mapping[str, Any]) -> str:
    rows = [
        f"<tr><td>{escape(label)}</td><td class=num>{int(counts.get(k) or 0):,}</td></tr>"
        for k, label in COUNT_ROWS
    ]
    decisions = sorted((counts.get("decisions") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    rows += [
        f"<tr><td>reason: {escape(str(r))}</td><td class=num>{int(n):,}</td></tr>"
        for r, n in decisions
    ]
    return "<table><tr><th>figures</th><th>count</th></tr>" + "".join(rows) + "</table>"


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.fig{display:flex;gap:16px;border-top:1px solid #ddd;padding:10px 0}
.fig img{max-width:480px}.side{max-width:640px}.side h3{margin:0 0 6px;font-size:15px}
.side small{font-weight:normal;color:#555}.side li{margin-bottom:4px}.cap{color:#444}
.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
.noimg{width:240px;height:120px;background:#eee}
"""


def render_split_page(
    counts: Mapping[str, Any],
    accepted: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    rejected: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
) -> str:
    """The whole page. ``counts``: the split stage's summed stats (``figures``,
    ``caption_labelled``, ``candidates``, ``accepted``, ``panels``, ``panels_aligned``,
    ``decisions``); ``accepted`` / ``rejected``: (figure, its panel rows) pairs, in the
    order to show (see :func:`figure_block`)."""

    def section(title: str, blocks: Sequence[tuple[Mapping, Sequence[Mapping]]]) -> str:
        inner = "".join(figure_block(f, p) for f, p in blocks) or "<p>none</p>"
        return f"<h2>{escape(title)} ({len(blocks)} shown)</h2>{inner}"

    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Split decisions</title><style>{STYLE}</style></head><body>"
        '<h1>Split decisions</h1><p><a href="index.html">build report</a></p>'
        f"{_counts_table(counts)}"
        + section("Accepted splits", accepted)
        + section("Rejected candidates", rejected)
        + "</body></html>"
    )
