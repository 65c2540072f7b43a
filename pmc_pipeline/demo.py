"""A small synthetic ``pmc-oa-opendata`` folder to try the pipeline offline.

Everything here is our own: JATS 1.3 articles with 1-4 captioned figures, images drawn
with Pillow (plots, shapes, textures, 2x2 compound figures with "(A) ... (B) ..."
captions), a few exact and near duplicate images across articles, and the cases the
``list`` stage must filter (an article with two versions, a non-OA, a retracted and a
CC BY-NC article). Bylines have one to six authors; one article is signed by a
collaboration too, and one names no author, as real ones do. The same seed gives the same
bytes, so builds from it are comparable.
"""

from __future__ import annotations

import io
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from .bucket_layout import ArticleSpec, write_bucket

MARKER = ".pmc-demo-complete.json"  # written last: its presence means the demo is whole
FIRST_PMCID = 99_000_001  # far above real PMCIDs, so demo ids never collide with them
DEMO_FORMAT = 2  # bump when the generator changes what it writes
MIN_ARTICLES = 12

# Article roles, by index.
VERSIONED, NON_OA, RETRACTED, NON_COMMERCIAL = 0, 1, 2, 3
COMPOUND_AT = (4, 5, 6)  # these articles' first figure is a 2x2 compound figure
NO_AUTHORS, WITH_COLLABORATION = 9, 10
COLLABORATION = "Demo Imaging Consortium"
_PAIRS = ((4, -1, "exact"), (7, -2, "near"), (8, -3, "near"))  # (source, copy, kind)

_DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange '
    'DTD v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">'
)
_LICENSE_URL = {
    "CC BY": "https://creativecommons.org/licenses/by/4.0/",
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC BY-NC": "https://creativecommons.org/licenses/by-nc/4.0/",
}
_SUBJECTS = ["mouse cortex", "zebrafish larvae", "yeast colonies", "tumour spheroids"]
_SUBJECTS += ["root tips", "cardiac organoids", "bacterial biofilms", "retinal explants"]
_MEASURES = ["expression", "fluorescence intensity", "cell density", "migration speed"]
_MEASURES += ["survival", "calcium response", "colony size", "membrane potential"]
_TREATMENTS = ["rapamycin treatment", "heat shock", "hypoxia", "serum starvation", "irradiation"]
_GENES = ["Sox2", "Pax6", "Wnt3a", "Notch1", "Actb", "Gfap", "Mki67", "Lgr5"]
_GIVEN = ["Ana", "Bo", "Chidi", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ilse", "Jun"]
_SURNAMES = ["Okafor", "Lindqvist", "Tanaka", "Moreau", "Silva", "Novak", "Haddad", "Kim"]
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


class DemoError(ValueError):
    """The demo folder holds a different demo; building over it would mix two."""


@dataclass(frozen=True)
class _Figure:
    """What to draw and how to write one figure image."""

    kind: str  # line, scatter, bars, cells, texture, compound
    seed: int
    size: tuple[int, int]  # drawn at this size
    fmt: str  # PNG or JPEG
    quality: int = 90
    scale: float = 1.0  # then resized by this factor (near duplicates)


def build_demo_source(root: Path, n_articles: int = 40, seed: int = 0) -> Path:
    """Write the demo bucket into ``root`` (no-op when it already holds this exact demo)."""
    if n_articles < MIN_ARTICLES:
        raise DemoError(f"the demo needs at least {MIN_ARTICLES} articles, got {n_articles}")
    root = Path(root)
    params = {"format": DEMO_FORMAT, "n_articles": n_articles, "seed": seed}
    marker = root / MARKER
    if marker.is_file():
        found = json.loads(marker.read_text())
        if found == params:
            return root
        raise DemoError(
            f"{root} already holds a demo built with {found}; asked for {params}: "
            "pick another folder or delete this one"
        )
    write_bucket(root, demo_articles(n_articles, seed), inventory=False)
    marker.write_text(json.dumps(params, sort_keys=True) + "\n")
    return root


def demo_articles(n_articles: int, seed: int) -> list[ArticleSpec]:
    """The demo's article versions (two for article 0), deterministic for ``seed``."""
    rng = random.Random(seed)
    plans = [_plan_figures(rng, i) for i in range(n_articles)]
    for src, dst, kind in _PAIRS:
        plans[dst][0] = _duplicate(plans[src][0], kind)
    specs = []
    for i, figures in enumerate(plans):
        specs.extend(_article_versions(random.Random(f"{seed}-{i}"), i, figures))
    return specs


def _plan_figures(rng: random.Random, index: int) -> list[_Figure]:
    figures = []
    for k in range(rng.randint(1, 4)):
        kind = "compound" if (k == 0 and index in COMPOUND_AT) else rng.choice(_KINDS)
        photo = kind in ("cells", "texture")
        size = (rng.randint(300, 1500), rng.randint(300, 1500))
        if kind == "compound":
            size = (rng.randint(1000, 1500), rng.randint(900, 1400))
        fmt = "JPEG" if photo or rng.random() < 0.2 else "PNG"
        figures.append(_Figure(kind, rng.randrange(1 << 30), size, fmt))
    return figures


def _duplicate(fig: _Figure, kind: str) -> _Figure:
    """The same image again: identical bytes, or rescaled and saved as a lower-quality JPEG."""
    if kind == "exact":
        return fig
    scale = 0.75 if min(fig.size) >= 400 else 1.25  # stay within 300-1500 px
    return _Figure(fig.kind, fig.seed, fig.size, "JPEG", quality=75, scale=scale)


def _article_versions(rng: random.Random, index: int, figures: list[_Figure]) -> list[ArticleSpec]:
    pmcid = f"PMC{FIRST_PMCID + index}"
    stem = f"demo.{index + 1:04d}"
    license_code = "CC0" if index % 7 == 6 else "CC BY"
    if index == NON_COMMERCIAL:
        license_code = "CC BY-NC"
    if index == NON_OA:
        license_code = None
    subject, measure = rng.choice(_SUBJECTS), rng.choice(_MEASURES)
    title = f"{measure.capitalize()} of {subject} after {rng.choice(_TREATMENTS)}"
    captions = [_caption(rng, fig, subject) for fig in figures]
    authors = _authors(rng, index)  # drawn last: the rest of the article stays as it was
    media = {f"{stem}.g{k + 1:03d}.{_ext(fig)}": _encode(fig) for k, fig in enumerate(figures)}
    hrefs = [name.rsplit(".", 1)[0] for name in media]
    versions = (1, 2) if index == VERSIONED else (1,)
    specs = []
    for version in versions:
        vtitle = title if version == 1 else f"{title} (corrected)"
        vcaptions = captions if version == 1 else [c + " Scale bars corrected." for c in captions]
        figs = list(zip(hrefs, vcaptions, strict=True))
        xml = _jats(pmcid, version, stem, vtitle, license_code, authors, figs)
        specs.append(
            ArticleSpec(
                pmcid=pmcid,
                version=version,
                xml=xml,
                media=media,
                pmid=40_000_000 + index,
                doi=f"10.5555/{stem}",
                title=vtitle,
                citation=f"Demo J Synth Biol. 2026; 1:e{index + 1:04d}",
                license_code=license_code,
                is_pmc_openaccess=index != NON_OA,
                is_retracted=index == RETRACTED,
            )
        )
    return specs


def _authors(rng: random.Random, index: int) -> list[str]:
    """A byline: ``<contrib>`` XML per author, a collaboration last where the role says."""
    if index == NO_AUTHORS:
        return []
    people = [(rng.choice(_GIVEN), rng.choice(_SURNAMES)) for _ in range(rng.randint(1, 6))]
    contribs = [
        f'<contrib contrib-type="author"><name><surname>{surname}</surname>'
        f"<given-names>{given}</given-names></name></contrib>"
        for given, surname in people
    ]
    if index == WITH_COLLABORATION:
        contribs.append(
            f'<contrib contrib-type="author"><collab>{COLLABORATION}</collab></contrib>'
        )
    return contribs


def _caption(rng: random.Random, fig: _Figure, subject: str) -> str:
    """Caption XML (title + paragraph) with inline markup, panel labels for compounds."""
    gene = escape(rng.choice(_GENES))
    title = f"<title>{rng.choice(_MEASURES).capitalize()} in {escape(subject)}.</title>"
    if fig.kind == "compound":
        panels = " ".join(
            f"({letter}) {rng.choice(_MEASURES).capitalize()} of <italic>{gene}</italic>"
            f" cells at day {rng.randint(1, 14)}."
            for letter in "ABCD"
        )
        return f"{title}<p>{panels} Scale bar, 50 &#x3bc;m.</p>"
    n = rng.randint(3, 12)
    return (
        f"{title}<p>Mean {rng.choice(_MEASURES)} of <italic>{gene}</italic><sup>+</sup> cells"
        f" (n = {n}); CO<sub>2</sub> at {rng.randint(1, 10)}%. <bold>Error bars</bold>,"
        f" s.e.m.; <italic>P</italic> &lt; 0.0{rng.randint(1, 5)}.</p>"
    )


def _jats(
    pmcid: str,
    version: int,
    stem: str,
    title: str,
    license_code: str | None,
    authors: list[str],
    figures: list[tuple[str, str]],
) -> bytes:
    """A JATS 1.3 article: front matter, one results section citing each figure."""
    if license_code:
        permissions = (
            f'<permissions><license xlink:href="{_LICENSE_URL[license_code]}">'
            f"<license-p>This article is distributed under {license_code}.</license-p>"
            "</license></permissions>"
        )
    else:
        permissions = "<permissions><copyright-statement>All rights reserved."
        permissions += "</copyright-statement></permissions>"
    mentions = "".join(
        f'<p>Results are shown in <xref ref-type="fig" rid="f{k}">Figure {k}</xref>.</p>'
        for k in range(1, len(figures) + 1)
    )
    figs = "".join(
        f'<fig id="f{k}" position="float"><label>Figure {k}</label><caption>{caption}</caption>'
        f'<graphic xlink:href="{href}"/></fig>'
        for k, (href, caption) in enumerate(figures, 1)
    )
    number = pmcid.removeprefix("PMC")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{_DOCTYPE}\n"
        '<article xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:mml="http://www.w3.org/1998/Math/MathML" dtd-version="1.3" '
        'article-type="research-article" xml:lang="en">'
        '<front><journal-meta><journal-id journal-id-type="nlm-ta">Demo J Synth Biol'
        "</journal-id><journal-title-group><journal-title>Demo Journal of Synthetic Biology"
        '</journal-title></journal-title-group><issn pub-type="epub">0000-0000</issn>'
        "<publisher><publisher-name>pmc_pipeline demo</publisher-name></publisher>"
        "</journal-meta><article-meta>"
        f'<article-id pub-id-type="pmcid">{pmcid}</article-id>'
        f'<article-id pub-id-type="pmcid-ver">{pmcid}.{version}</article-id>'
        f'<article-id pub-id-type="pmc">{number}</article-id>'
        f'<article-id pub-id-type="doi">10.5555/{stem}</article-id>'
        f"<title-group><article-title>{escape(title)}</article-title></title-group>"
        + (f"<contrib-group>{''.join(authors)}</contrib-group>" if authors else "")
        + '<pub-date pub-type="epub"><year>2026</year></pub-date>'
        f"{permissions}<abstract><p>A synthetic article for the pmc_pipeline demo.</p>"
        "</abstract></article-meta></front>"
        f'<body><sec id="s1"><title>Results</title>{mentions}{figs}</sec></body></article>\n'
    )
    return xml.encode()


def _ext(fig: _Figure) -> str:
    return "png" if fig.fmt == "PNG" else "jpg"


def _encode(fig: _Figure) -> bytes:
    """Fixed encoder settings: the same figure always gives the same bytes."""
    buf = io.BytesIO()
    image = _DRAW[fig.kind](random.Random(fig.seed), fig.size)
    if fig.scale != 1.0:
        size = (round(fig.size[0] * fig.scale), round(fig.size[1] * fig.scale))
        image = image.resize(size, Image.Resampling.BILINEAR)
    if fig.fmt == "PNG":
        image.save(buf, "PNG", compress_level=6)
    else:
        image.save(buf, "JPEG", quality=fig.quality, subsampling=2, optimize=False)
    return buf.getvalue()


def _axes(draw: ImageDraw.ImageDraw, w: int, h: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = w // 8, h // 10, w - w // 20, h - h // 8
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=4)
    for t in range(6):
        x = left + t * (right - left) // 5
        y = bottom - t * (bottom - top) // 5
        draw.line([(x, bottom), (x, bottom + 15)], fill="black", width=3)
        draw.line([(left - 15, y), (left, y)], fill="black", width=3)
    return left, top, right, bottom


def _line(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = _axes(draw, *size)
    for colour in _PALETTE[: rng.randint(2, 4)]:
        freq, phase, level = rng.uniform(1, 6), rng.uniform(0, 6.3), rng.uniform(0.3, 0.7)
        points = [
            (x, bottom - (bottom - top) * (level + 0.25 * math.sin(freq * x / 200 + phase)))
            for x in range(left, right, 10)
        ]
        draw.line(points, fill=colour, width=5)
    return image


def _scatter(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = _axes(draw, *size)
    slope = rng.uniform(-0.8, 0.8)
    for colour in _PALETTE[: rng.randint(1, 3)]:
        for _ in range(rng.randint(40, 120)):
            u = rng.random()
            v = min(1.0, max(0.0, 0.5 + slope * (u - 0.5) + rng.gauss(0, 0.1)))
            x, y = left + u * (right - left), bottom - v * (bottom - top)
            draw.ellipse([x - 8, y - 8, x + 8, y + 8], fill=colour)
    return image


def _bars(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = _axes(draw, *size)
    n = rng.randint(3, 8)
    step = (right - left) / n
    for b in range(n):
        height = rng.uniform(0.1, 0.95) * (bottom - top)
        x0 = left + b * step + step * 0.15
        draw.rectangle([x0, bottom - height, x0 + step * 0.7, bottom], fill=_PALETTE[b % 5])
        draw.line([(x0 + step * 0.35, bottom - height - 40), (x0 + step * 0.35, bottom - height)])
    return image


def _cells(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A fluorescence-micrograph look: glowing blobs on black."""
    image = Image.new("RGB", size, (5, 5, 10))
    draw = ImageDraw.Draw(image)
    colour = rng.choice([(60, 220, 90), (230, 60, 60), (80, 120, 255)])
    for _ in range(rng.randint(20, 80)):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        rx, ry = rng.uniform(15, 60), rng.uniform(15, 60)
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=colour, outline="white")
    return image


def _texture(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Smooth noise (a gel or tissue look): a tiny random image blown up."""
    small = (16, max(4, 16 * size[1] // size[0]))
    noise = bytes(rng.randrange(256) for _ in range(small[0] * small[1]))
    tint = Image.new("RGB", size, rng.choice([(200, 120, 160), (120, 90, 60), (90, 90, 90)]))
    grey = Image.frombytes("L", small, noise).resize(size, Image.Resampling.BICUBIC)
    return Image.composite(tint, Image.new("RGB", size, "white"), grey)


def _compound(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Four panels with white gutters and bold letters A-D in their corners."""
    w, h = size
    gutter = 30
    pw, ph = (w - 3 * gutter) // 2, (h - 3 * gutter) // 2
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for p, letter in enumerate("ABCD"):
        x, y = gutter + (p % 2) * (pw + gutter), gutter + (p // 2) * (ph + gutter)
        kind = rng.choice(_KINDS)
        image.paste(_DRAW[kind](random.Random(rng.randrange(1 << 30)), (pw, ph)), (x, y))
        draw.rectangle([x, y, x + 50, y + 56], fill="white")
        draw.text((x + 8, y + 2), letter, fill="black", font=font)
    return image


_DRAW = {
    "line": _line,
    "scatter": _scatter,
    "bars": _bars,
    "cells": _cells,
    "texture": _texture,
    "compound": _compound,
}
_KINDS = ("line", "scatter", "bars", "cells", "texture")


__all__ = [
    "COLLABORATION",
    "MARKER",
    "NO_AUTHORS",
    "WITH_COLLABORATION",
    "DemoError",
    "build_demo_source",
    "demo_articles",
]
