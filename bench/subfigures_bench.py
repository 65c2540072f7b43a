"""Subfigure splitting on real material: panels, sub-captions, and what the split costs.

(a) Panels. Compound figures are composed from the corpus's REAL single-panel figures
(``subfigures/figure_classes.json``), each tile resized to fill its cell (cropping would cut
frames and arrows and make new gutters inside a tile), in grids (2x1, 1x2, 2x2, 3x2, 2x3) and
irregular layouts (a tall panel beside two stacked ones, a wide one over two, three of
different widths), with white, black, thin (2-3 px) and absent gutters, with and without
printed letters (Pillow's default font). Each composite goes through ``normalise_image``
(JPEG, as extract writes it) before ``find_panels``. A ground-truth box is its tile less the
margins of the canvas colour (no splitter can tell those from a gutter).
Precision/recall/F1 at IoU >= 0.7 per layout family and gutter kind; then the
false-split rate on the real single figures and the split counts on the real compounds.

(b) Captions. Exact label-set match (case-insensitive) and sub-caption agreement on both
annotation files: mean token F1 of whole sub-captions, and of each label's own part (the
annotation's shared prefix/suffix and our preamble removed), plus the exact own-part rate.

(c) Cost. CPU time per corpus figure of the split (``panel_rows`` on the normalised image:
decode, ``find_panels``, caption split, crops, JPEG, hashes) against ``normalise_image`` and
against the extract stage's per-figure time, best of ``--repeat`` runs in this process; and
its parts: ``find_panels`` on the grey image, the rest (``panel_rows`` handed the same boxes
by a detector: colour decode, caption split, crops, JPEG, hashes), and the grey decode;
and the floor (``split_floor``): the codec work no split that writes panel images avoids.

    python -m bench.subfigures_bench [--corpus DIR] [--instances 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.extract_bench import corpus_articles, run_ours
from pmc_pipeline.images import normalise_image
from pmc_pipeline.subfigures import Box, decode_figure, find_panels, panel_rows, split_caption

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CELL = (300, 230)  # a 2x3 grid with 12 px gutters stays under 1024 px: no resize in extract
GUTTERS = {
    "white": (12, "white"),
    "black": (12, "black"),
    "thin": (None, "white"),
    "absent": (0, "white"),
}
IOU = 0.7


# ---- (a) composed compound figures ---------------------------------------------------------


def load_classes(corpus: Path) -> dict:
    return json.loads((corpus / "subfigures" / "figure_classes.json").read_text())


def layouts() -> dict[str, list[tuple[int, int, int, int]]]:
    """Cells (col, row, col span, row span) on a unit grid; spans include inner gutters."""
    grids = {
        f"grid {r}x{c}": [(j, i, 1, 1) for i in range(r) for j in range(c)]
        for r, c in [(2, 1), (1, 2), (2, 2), (3, 2), (2, 3)]
    }
    return grids | {
        "tall + 2 stacked": [(0, 0, 1, 2), (1, 0, 1, 1), (1, 1, 1, 1)],
        "wide + 2 below": [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)],
        "3 widths in a row": [(0, 0, 1, 1), (1, 0, 1, 1), (2, 0, 1, 1)],
    }


def compose(
    tiles: list[Image.Image], name: str, cells, gutter: int, colour: str, letters: bool
) -> tuple[Image.Image, list[Box]]:
    """Paste tiles into a layout; return the figure and each tile's content box."""
    widths = [1.35, 0.7, 1.0] if name == "3 widths in a row" else None
    cols = max(c + cs for c, _, cs, _ in cells)
    rows = max(r + rs for _, r, _, rs in cells)
    col_w = [round(CELL[0] * (widths[j] if widths else 1)) for j in range(cols)]
    xs = [gutter + sum(col_w[:j]) + gutter * j for j in range(cols + 1)]
    ys = [gutter + (CELL[1] + gutter) * i for i in range(rows + 1)]
    canvas = Image.new("RGB", (xs[-1], ys[-1]), colour)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=22)
    truth = []
    for k, ((c, r, cs, rs), tile) in enumerate(zip(cells, tiles, strict=False)):
        x0, y0 = xs[c], ys[r]
        size = (xs[c + cs] - gutter - x0, ys[r + rs] - gutter - y0)
        canvas.paste(tile.resize(size, Image.Resampling.LANCZOS), (x0, y0))
        if letters:
            draw.rectangle([x0, y0, x0 + 24, y0 + 26], fill="white")
            draw.text((x0 + 4, y0 + 1), "ABCDEFGH"[k], fill="black", font=font)
        bx = _content_box(canvas.crop((x0, y0, x0 + size[0], y0 + size[1])), colour)
        truth.append((x0 + bx[0], y0 + bx[1], x0 + bx[2], y0 + bx[3]))
    return canvas, truth


def _content_box(tile: Image.Image, canvas: str) -> Box:
    """The tile less margins of the canvas colour: no splitter can tell those from the
    gutter (on black, a white chart keeps its white margin: it is the panel)."""
    a = np.asarray(tile.convert("L"), dtype=np.int16)
    content = a > 24 if canvas == "black" else a < 224
    rows, cols = np.flatnonzero(content.any(1)), np.flatnonzero(content.any(0))
    if not rows.size:
        return (0, 0, tile.width, tile.height)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def match(pred: list[Box], truth: list[Box]) -> int:
    """True positives: greedy one-to-one matching by IoU, pairs at or above ``IOU``."""
    pairs = sorted(
        ((iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)), reverse=True
    )
    used_p, used_t, tp = set(), set(), 0
    for v, i, j in pairs:
        if v >= IOU and i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            tp += 1
    return tp


def split_image(jpeg: bytes) -> list[Box]:
    """Panels as the split stage finds them: from the grey decode of the stored JPEG."""
    return find_panels(decode_figure(jpeg, "L")).boxes


def bench_composites(corpus: Path, singles: list[str], instances: int) -> dict:
    tiles = [Image.open(corpus / p).convert("RGB") for p in singles]
    rng = random.Random(20260601)
    counts: dict[tuple[str, str, bool], Counter] = {}
    for name, cells in layouts().items():
        for kind, (gutter, colour) in GUTTERS.items():
            for letters in (False, True):
                c = counts.setdefault((name, kind, letters), Counter())
                for i in range(instances):
                    g = (2 + i % 2) if gutter is None else gutter
                    chosen = rng.sample(tiles, len(cells))
                    fig, truth = compose(chosen, name, cells, g, colour, letters)
                    buf = io.BytesIO()
                    fig.save(buf, "PNG")
                    pred = split_image(normalise_image(buf.getvalue()).jpeg)
                    tp = match(pred, truth)
                    c.update(
                        tp=tp,
                        fp=len(pred) - tp,
                        fn=len(truth) - tp,
                        figs=1,
                        exact=int(tp == len(truth) == len(pred)),
                    )
    return _prf_tables(counts)


def _prf(c: Counter) -> dict:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f, 3),
        "figures": c["figs"],
        "all_panels_exact": round(c["exact"] / c["figs"], 3),
    }


def _prf_tables(counts: dict[tuple[str, str, bool], Counter]) -> dict:
    def total(pred) -> Counter:
        out = Counter()
        for key, c in counts.items():
            if pred(*key):
                out.update(c)
        return out

    families = sorted({k[0] for k in counts})
    return {
        "by_layout_and_gutter": {
            f"{name} | {kind}": _prf(
                total(lambda n, k, _l, name=name, kind=kind: (n, k) == (name, kind))
            )
            for name in families
            for kind in GUTTERS
        },
        "by_gutter": {
            kind: _prf(total(lambda _n, k, _l, kind=kind: k == kind)) for kind in GUTTERS
        },
        "by_letters": {
            str(flag): _prf(total(lambda _n, _k, lt, flag=flag: lt == flag))
            for flag in (False, True)
        },
        "with_gutters_all": _prf(total(lambda _n, k, _l: k != "absent")),
    }


def bench_real(corpus: Path, classes: dict) -> dict:
    """False splits on the real singles; split counts on the real compounds."""

    def count(path: str) -> int:
        return len(split_image(normalise_image((corpus / path).read_bytes()).jpeg))

    singles = {p: count(p) for p in classes["single"]}
    compounds = {p: (count(p), v["panels_approx"]) for p, v in classes["compound"].items()}
    return {
        "singles": len(singles),
        "singles_split": sorted(p for p, n in singles.items() if n > 1),
        "false_split_rate": round(sum(n > 1 for n in singles.values()) / len(singles), 3),
        "compounds": len(compounds),
        "compounds_split_rate": round(
            sum(n > 1 for n, _ in compounds.values()) / len(compounds), 3
        ),
        "compounds_count_equals_approx": sum(n == a for n, a in compounds.values()),
        "compounds_count_within_1": sum(abs(n - a) <= 1 for n, a in compounds.values()),
        "compounds_kept_whole": sorted(p for p, (n, _) in compounds.items() if n == 1),
    }


# ---- (b) captions --------------------------------------------------------------------------


def _tokens(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


def token_f1(a: str, b: str) -> float:
    ca, cb = Counter(_tokens(a)), Counter(_tokens(b))
    common = sum((ca & cb).values())
    if not ca and not cb:
        return 1.0
    if not common:
        return 0.0
    p, r = common / sum(ca.values()), common / sum(cb.values())
    return 2 * p * r / (p + r)


def _shared_words(texts: list[str], reverse: bool = False) -> int:
    words = [t.split()[::-1] if reverse else t.split() for t in texts]
    n = 0
    while len(texts) > 1 and all(len(w) > n for w in words) and len({w[n] for w in words}) == 1:
        n += 1
    return n


def bench_captions(path: Path) -> dict:
    data = json.loads(path.read_text())
    label_ok, whole, own, exact, misses = 0, [], [], 0, []
    for name, entry in data.items():
        truth = {
            s["label"]["text"].upper(): s["caption"]
            for s in entry["gt_subfigures"]
            if s.get("label")
        }
        split = split_caption(entry["caption"])
        ours = dict(split.items)
        if set(ours) != set(truth):
            misses.append(name)
            continue
        label_ok += 1
        head = _shared_words(list(truth.values()))
        tail = _shared_words(list(truth.values()), reverse=True)
        skip = len(split.preamble.split())
        for label, gt in truth.items():
            gw = gt.split()
            gt_own = " ".join(gw[head : max(head, len(gw) - tail)])
            our_own = " ".join(ours[label].split()[skip:])
            whole.append(token_f1(ours[label], gt))
            own.append(token_f1(our_own, gt_own))
            exact += _tokens(our_own) == _tokens(gt_own)
    return {
        "figures": len(data),
        "label_set_match": round(label_ok / len(data), 3),
        "label_set_misses": misses,
        "subcaptions_compared": len(whole),
        "whole_subcaption_token_f1": round(float(np.mean(whole)), 3),
        "own_part_token_f1": round(float(np.mean(own)), 3),
        "own_part_exact": round(exact / len(own), 3),
    }


# ---- (c) cost ------------------------------------------------------------------------------


def split_floor(jpeg: bytes, boxes: list[Box]) -> None:
    """The least work any split writing panel images must do, with Pillow as the codec.

    A grey decode of the figure (a panel search reads its pixels) and, for a compound
    figure, a colour decode and the JPEG encode of each panel crop; the search itself, the
    caption split and the hashes count as free. This over the extract time bounds from
    below the ratio any implementation could reach.
    """
    decode_figure(jpeg, "L")
    if len(boxes) > 1:
        rgb = decode_figure(jpeg, "RGB")
        for box in boxes:
            rgb.crop(box).save(io.BytesIO(), "JPEG", quality=90)


def bench_cost(corpus: Path, classes: dict, repeat: int) -> dict:
    paths = classes["single"] + list(classes["compound"]) + list(classes["ambiguous"])
    raw = [(corpus / p).read_bytes() for p in paths]
    normal = [normalise_image(b) for b in raw]
    parents = [
        {"key": f"PMC1_f{i}", "caption": "Figure. (A) One. (B) Two."} for i in range(len(paths))
    ]
    grey = [decode_figure(n.jpeg, "L") for n in normal]
    found = [find_panels(g).boxes for g in grey]

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return min(times) / len(paths) * 1000

    def given(boxes: list[Box]):
        return lambda _img: boxes

    norm_ms = best(lambda: [normalise_image(b) for b in raw])
    split_ms = best(lambda: [panel_rows(p, n.jpeg) for p, n in zip(parents, normal, strict=True)])
    find_ms = best(lambda: [find_panels(g) for g in grey])
    decode_ms = best(lambda: [decode_figure(n.jpeg, "L") for n in normal])
    rest_ms = best(
        lambda: [
            panel_rows(p, n.jpeg, detector=given(b))
            for p, n, b in zip(parents, normal, found, strict=True)
        ]
    )
    floor_ms = best(lambda: [split_floor(n.jpeg, b) for n, b in zip(normal, found, strict=True)])
    articles = corpus_articles(corpus)
    n_fig = run_ours(articles)
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run_ours(articles)
        times.append(time.process_time() - start)
    extract_ms = min(times) / n_fig * 1000
    return {
        "figures": len(paths),
        "figures_split": sum(len(b) > 1 for b in found),
        "panels": sum(len(b) for b in found if len(b) > 1),
        "normalise_image_ms_per_figure": round(norm_ms, 2),
        "extract_stage_ms_per_figure": round(extract_ms, 2),
        "split_panel_rows_ms_per_figure": round(split_ms, 2),
        "of_which_find_panels_ms": round(find_ms, 2),
        "of_which_the_rest_ms": round(rest_ms, 2),  # panel_rows given the boxes
        "of_which_grey_decode_ms": round(decode_ms, 2),
        "split_over_normalise": round(split_ms / norm_ms, 2),
        "split_over_extract": round(split_ms / extract_ms, 2),
        "target_split_over_extract": 0.33,
        "floor_ms_per_figure": round(floor_ms, 2),
        "floor_over_extract": round(floor_ms / extract_ms, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--instances", type=int, default=4, help="composites per cell of the grid")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    classes = load_classes(args.corpus)
    sub = args.corpus / "subfigures"
    result = {
        "bench": "subfigures",
        "composites": bench_composites(args.corpus, classes["single"], args.instances),
        "real_figures": bench_real(args.corpus, classes),
        "captions": {
            name: bench_captions(sub / f"{name}.json")
            for name in ("caption_split_prostate_sample", "panelseg_zou_sample")
        },
        "cost": bench_cost(args.corpus, classes, args.repeat),
        "targets": {"f1_with_gutters": 0.90, "false_split_rate": 0.05, "label_set_match": 0.85},
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
