"""Subfigure splitting, judged as training data: precision first, on figures it never saw.

(a) Generated figures (``tests/fixtures/synthetic_figures``, seeded, drawn with matplotlib as
real charts are): a development set the rules were tuned on, and a held-out set with other
seeds and chart and layout families never seen in development. Every figure goes through
``normalise_image`` (the JPEG extract writes) and ``split_figure`` with its caption, as the
split stage runs it. Singles: the share that yields panel samples (target <= 1%); and,
harder, the share that does under a caption naming 2, 3 or 4 panels (reported: the search is
asked for pieces that are not there, and every split of a single figure is wrong).
Compounds: panel precision and recall at IoU >= 0.7 over accepted panels (a figure kept
whole predicts no panel), ImageCLEF accuracy (a predicted box is right when > 0.66 of it
lies in a true panel; per figure right / max(predicted, true), a figure kept whole predicting
itself), labels right on matched panels that have a caption label, labels wrong (another
panel's label: a wrong pair; a panel left unaligned, with the whole caption, is neither),
and the share of those whose sub-caption is their own (token F1 with its own text +
preamble the best of all the figure's panels, and >= 0.6). A panel of a caption that
names none (split at clean gutters) has no sub-caption of its own: it carries the whole
caption, counted apart. Only held-out numbers count; both are printed, by family, pooled
over their seeds and per seed (held-out: ``HELDOUT_SEEDS``, seeds whose figures no one has
opened).

(b) Real figures of ``../shared/corpus`` with their real captions (extract's rows): real
singles split (target: none), and on real compounds (panel counts judged by eye, no boxes)
the share accepted and how often the accepted count equals the eye's count.

(c) Captions: label-set match and sub-caption agreement on both annotation files.

(d) Cost: CPU time per figure of ``split_figure`` against its own codec floor: the grey
decode every searched figure needs, and for an accepted split the colour decode, the crops
and their JPEG encodes (target <= 1.5x), on the held-out set and on the real figures.

    python -m bench.subfigures_bench [--corpus DIR] [--singles 300] [--compounds 400]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from pmc_pipeline.config import Config
from pmc_pipeline.errors import ErrorLog
from pmc_pipeline.images import normalise_image
from pmc_pipeline.stages.extract import figure_rows
from pmc_pipeline.subfigures import Box, decode_figure, split_caption, split_figure
from pmc_pipeline.subfigures.boxes import iou
from tests.fixtures.synthetic_figures import SyntheticFigure, iter_generate

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
IOU = 0.7
CLEF_OVERLAP = 0.66
OWN_F1 = 0.6
# A single figure under a caption that names 2-4 panels (a caption's labels that name parts
# of one chart, or a mis-split caption): a harder precision test than its own caption, since
# the search is then asked for n pieces that are not there.
NAMING_CAPTIONS = {
    n: "Effects of treatment. " + " ".join(f"({chr(65 + k)}) Measure {k}." for k in range(n))
    for n in (2, 3, 4)
}
# Held-out seeds no one has opened a figure of: seeds 0 and 1 were, while the rules were
# tuned (their misses drawn and read), so they count as development data now. Open no
# figure of these; when one is opened, its seed moves out of this list.
HELDOUT_SEEDS = [2, 3, 4]
TARGETS = {
    "singles_yielding_panels": 0.01,
    "precision": 0.95,
    "recall": 0.85,
    "labels_right": 0.95,
    "subcaption_own": 0.90,
    "split_over_floor": 1.5,
}


# ---- (a) generated figures -------------------------------------------------------------------


def prepared(fig: SyntheticFigure) -> tuple[dict, bytes, tuple[float, float]]:
    """The figure as the split stage sees it: a row with its caption and the normalised
    JPEG; and the scale from generated to normalised pixels (extract fits the long side)."""
    buf = io.BytesIO()
    fig.image.save(buf, "PNG")
    jpeg = normalise_image(buf.getvalue()).jpeg
    w, h = decode_figure(jpeg, "L").size
    row = {"key": "PMC1_" + re.sub(r"[^A-Za-z0-9]", "_", fig.name), "caption": fig.caption}
    return row, jpeg, (w / fig.image.width, h / fig.image.height)


def scaled(box: Box, s: tuple[float, float]) -> Box:
    return (round(box[0] * s[0]), round(box[1] * s[1]), round(box[2] * s[0]), round(box[3] * s[1]))


def match(pred: list[Box], truth: list[Box]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (pred index, truth index) by IoU, at or above ``IOU``."""
    pairs = sorted(
        ((iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)), reverse=True
    )
    used_p, used_t, out = set(), set(), []
    for v, i, j in pairs:
        if v >= IOU and i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def clef_accuracy(pred: list[Box], truth: list[Box]) -> float:
    """ImageCLEF compound figure separation: right / max(predicted, true) for one figure."""
    right = 0
    for p in pred:
        area = max(1, (p[2] - p[0]) * (p[3] - p[1]))
        overlaps = [
            max(0, min(p[2], t[2]) - max(p[0], t[0])) * max(0, min(p[3], t[3]) - max(p[1], t[1]))
            for t in truth
        ]
        right += max(overlaps, default=0) / area > CLEF_OVERLAP
    return right / max(len(pred), len(truth))


def _tokens(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


def token_f1(a: str, b: str) -> float:
    ca, cb = Counter(_tokens(a)), Counter(_tokens(b))
    common = sum((ca & cb).values())
    if not common:
        return 1.0 if not ca and not cb else 0.0
    p, r = common / sum(ca.values()), common / sum(cb.values())
    return 2 * p * r / (p + r)


def judge_compound(fig: SyntheticFigure, row: dict, jpeg: bytes, s) -> Counter:
    result = split_figure(row, jpeg)
    truth = [scaled(p.box, s) for p in fig.panels]
    pred = [
        _box_px(r["box"], jpeg_size(s, fig)) for r in result.rows if r["decision"] == "accepted"
    ]
    pairs = match(pred, truth)
    c = Counter(figures=1, tp=len(pairs), pred=len(pred), true=len(truth))
    c["accepted"] += bool(pred)
    whole = [(0, 0, *jpeg_size(s, fig))]
    c["clef"] += clef_accuracy(pred or whole, truth)
    texts = [f"{fig.preamble} {p.own_text}" for p in fig.panels]
    accepted = [r for r in result.rows if r["decision"] == "accepted"]
    for i, j in pairs:
        got = accepted[i]
        if fig.panels[j].label is None:  # the caption names no panels: nothing of its own
            c["whole_caption"] += got["subcaption"] == fig.caption
            continue
        c["labelled"] += 1
        c["label_right"] += (got["label"] or "").upper() == fig.panels[j].label
        # another panel's label (and sub-caption): a wrong pair; an unaligned panel (no
        # label, the whole caption: its order was not sure) is no wrong pair
        c["label_wrong"] += got["label"] is not None and got["label"].upper() != fig.panels[j].label
        scores = [token_f1(got["subcaption"], t) for t in texts]
        c["own"] += scores[j] >= OWN_F1 and scores[j] == max(scores)
    return c


def jpeg_size(s, fig: SyntheticFigure) -> tuple[int, int]:
    return round(fig.image.width * s[0]), round(fig.image.height * s[1])


def _box_px(box: list[float], size: tuple[int, int]) -> Box:
    w, h = size
    return (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))


def bench_generated(subset: str, n_singles: int, n_compounds: int, seeds: list[int]) -> dict:
    """Pooled over ``seeds`` (each its own n_singles and n_compounds), and per seed: one
    seed's 400 compounds move recall by a few points (0.79-0.85 over held-out seeds 0-4)."""
    singles: dict[str, Counter] = defaultdict(Counter)
    by: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    per_seed: dict[int, Counter] = defaultdict(Counter)
    for seed in seeds:
        for fig in iter_generate(subset, n_singles, n_compounds, seed=seed):
            row, jpeg, s = prepared(fig)
            if not fig.compound:
                accepted = split_figure(row, jpeg).decision.accepted
                singles[fig.family].update(figures=1, split=int(accepted))
                per_seed[seed].update(singles=1, split=int(accepted))
                for n, caption in NAMING_CAPTIONS.items():
                    named = split_figure(dict(row, caption=caption), jpeg).decision.accepted
                    singles[fig.family].update({"named": 1, f"named_split_{n}": int(named)})
                    per_seed[seed].update(named=1, named_split=int(named))
                continue
            c = judge_compound(fig, row, jpeg, s)
            per_seed[seed].update(c)
            for facet, value in (
                ("layout", fig.family),
                ("gutter", fig.gutter),
                ("background", fig.background),
                ("letters", fig.letters),
                ("caption_labels", str(fig.caption_labels)),
                ("order", fig.order),
                ("all", "all"),
            ):
                by[facet][value].update(c)
    total = sum(singles.values(), Counter())
    named = {n: f"named_split_{n}" for n in NAMING_CAPTIONS}
    return {
        "seeds": seeds,
        "by_seed": {
            seed: {
                "singles_split": f"{c['split']}/{c['singles']}",
                "named_split": f"{c['named_split']}/{c['named']}",
                "precision": _rate(c["tp"], c["pred"]),
                "recall": _rate(c["tp"], c["true"]),
            }
            for seed, c in per_seed.items()
        },
        "singles": {
            "figures": total["figures"],
            "yielding_panels": _rate(total["split"], total["figures"]),
            "by_family": {k: f"{v['split']}/{v['figures']}" for k, v in sorted(singles.items())},
        },
        "singles_under_naming_captions": {
            "splits": total["named"],
            "yielding_panels": _rate(sum(total[k] for k in named.values()), total["named"]),
            "by_count": {n: _rate(total[k], total["figures"]) for n, k in named.items()},
            "by_family": {
                f: f"{sum(v[k] for k in named.values())}/{v['named']}"
                for f, v in sorted(singles.items())
            },
        },
        "compounds": {
            facet: {value: _scores(c) for value, c in sorted(values.items())}
            for facet, values in by.items()
        },
    }


def _rate(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _scores(c: Counter) -> dict:
    return {
        "figures": c["figures"],
        "accepted": _rate(c["accepted"], c["figures"]),
        "precision": _rate(c["tp"], c["pred"]),
        "recall": _rate(c["tp"], c["true"]),
        "clef_accuracy": _rate(c["clef"], c["figures"]),
        "labels_right": _rate(c["label_right"], c["labelled"]),
        "labels_wrong": _rate(c["label_wrong"], c["labelled"]),
        "subcaption_own": _rate(c["own"], c["labelled"]),
        "matched_whole_caption": c["whole_caption"],
    }


# ---- (b) real figures ------------------------------------------------------------------------


def corpus_rows(corpus: Path) -> dict[str, dict]:
    """Every corpus figure as extract writes it (real caption, normalised image), by path."""
    out = {}
    source = {"pmcid": "PMC1", "version": 1, "pmid": None, "doi": None, "license_code": None}
    for folder in sorted(p for p in corpus.iterdir() if (p / "article.nxml").is_file()):
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        rows, _ = figure_rows(source, "article.nxml", files, Config(), ErrorLog("extract", 0))
        out |= {f"{folder.name}/{r['file']}": r for r in rows}
    return out


def bench_real(rows: dict[str, dict], classes: dict) -> dict:
    def decide(path: str):
        return split_figure(rows[path], rows[path]["image"])

    singles = {p: decide(p) for p in classes["single"]}
    compounds = {p: (decide(p), v["panels_approx"]) for p, v in classes["compound"].items()}
    accepted = {p: (len(d.rows), n) for p, (d, n) in compounds.items() if d.decision.accepted}
    return {
        "singles": len(singles),
        "singles_split": sorted(p for p, d in singles.items() if d.decision.accepted),
        "compounds": len(compounds),
        "compounds_with_caption_labels": sum(d.caption_labels >= 2 for d, _ in compounds.values()),
        "compounds_accepted": len(accepted),
        "accepted_count_equals_eye": sum(a == n for a, n in accepted.values()),
        "accepted_count_off": {p: v for p, v in accepted.items() if v[0] != v[1]},
        "decisions": dict(Counter(d.decision.reason for d, _ in compounds.values())),
    }


# ---- (c) captions ----------------------------------------------------------------------------


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


# ---- (d) cost --------------------------------------------------------------------------------


def split_floor(jpeg: bytes, boxes: list[Box], quality: int = 90) -> None:
    """The codec work of a split: the grey decode a panel search reads, and for an accepted
    split the colour decode, the crops and their JPEG encodes. Search, caption split and
    hashes count as free."""
    decode_figure(jpeg, "L")
    if boxes:
        rgb = decode_figure(jpeg, "RGB")
        for box in boxes:
            rgb.crop(box).save(io.BytesIO(), "JPEG", quality=quality, subsampling="4:2:0")


def bench_cost(figures: list[tuple[dict, bytes]], repeat: int) -> dict:
    """Best-of-``repeat`` CPU ms per figure of the split and of its floor, same process."""
    results = [split_figure(row, jpeg) for row, jpeg in figures]
    boxes = [list(r.decision.boxes) if r.decision.accepted else [] for r in results]

    def best(fn: Callable[[], Iterable]) -> float:
        times = []
        for _ in range(repeat):
            start = time.process_time()
            for _ in fn():
                pass
            times.append(time.process_time() - start)
        return min(times) / len(figures) * 1000

    split_ms = best(lambda: (split_figure(row, jpeg) for row, jpeg in figures))
    floor_ms = best(
        lambda: (split_floor(jpeg, b) for (_, jpeg), b in zip(figures, boxes, strict=True))
    )
    return {
        "figures": len(figures),
        "accepted": sum(bool(b) for b in boxes),
        "split_ms_per_figure": round(split_ms, 2),
        "floor_ms_per_figure": round(floor_ms, 2),
        "split_over_floor": round(split_ms / floor_ms, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--singles", type=int, default=300, help="generated singles per set")
    parser.add_argument("--compounds", type=int, default=400, help="generated compounds per set")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--subsets", nargs="+", default=["heldout", "dev"])
    parser.add_argument(
        "--heldout-seeds", nargs="+", type=int, default=HELDOUT_SEEDS, help="pooled"
    )
    parser.add_argument("--dev-seeds", nargs="+", type=int, default=[0], help="pooled")
    args = parser.parse_args(argv)
    result: dict = {"bench": "subfigures", "targets": TARGETS}
    seeds = {"heldout": args.heldout_seeds, "dev": args.dev_seeds}
    for subset in args.subsets:
        result[subset] = bench_generated(subset, args.singles, args.compounds, seeds[subset])
    held = [prepared(f)[:2] for f in iter_generate("heldout", 60, 140, seed=7)]
    cost = {"heldout_sample": bench_cost(held, args.repeat)}
    if (args.corpus / "subfigures" / "figure_classes.json").is_file():
        classes = json.loads((args.corpus / "subfigures" / "figure_classes.json").read_text())
        rows = corpus_rows(args.corpus)
        result["real_figures"] = bench_real(rows, classes)
        sub = args.corpus / "subfigures"
        result["captions"] = {
            name: bench_captions(sub / f"{name}.json")
            for name in ("caption_split_prostate_sample", "panelseg_zou_sample")
        }
        cost["real_figures"] = bench_cost([(r, r["image"]) for r in rows.values()], args.repeat)
    result["cost"] = cost
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
