"""GPU check of the pretraining stage: does our shard loader keep BiomedCLIP training busy?

Trains ``biomedclip`` (timm ViT-B/16 + BERT-base text tower, context 256) at batch 256 in bf16
for a fixed number of steps and prints ONE JSON line with samples/s (a) on one in-memory
batch repeated, (b) fed from the shards through our loader (resampled, so a ~70-sample
build fills batches of 256), and the loader's own rate. The text tower is BERT-base with
random weights and a WordPiece vocabulary trained on the shard captions (no hub access).

    python bench/gpu_train_check.py --shards OUT/shards            # on the GPU machine
    python bench/gpu_train_check.py --shards OUT/shards --model tiny --batch-size 8 --steps 3

Needs only torch, torchvision, timm, transformers, tokenizers, pillow, open_clip_torch,
webdataset (<0.2.96), ftfy, braceexpand, wcwidth: it imports pmc_pipeline.train from this
checkout, not the installed pipeline (no Dask, pandas or boto3). About 2 minutes on one
H100 with the defaults; ``--steps`` scales the timed part.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from pmc_pipeline.train.bench import benchmark  # noqa: E402
from pmc_pipeline.train.loop import TrainConfig  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shards", required=True, help="shards/ folder of a build")
    p.add_argument("--model", choices=("biomedclip", "tiny"), default="biomedclip")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=30, help="timed steps per rate")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps before each rate")
    p.add_argument(
        "--workers", type=int, default=min(12, max(1, (os.cpu_count() or 2) - 2)),
        help="loader processes (default: cores - 2, at most 12)",
    )  # fmt: skip
    p.add_argument("--precision", choices=("auto", "amp_bf16", "fp32"), default="auto")
    p.add_argument("--grad-checkpointing", action="store_true")
    p.add_argument("--out", help="run folder (default: a temporary one)")
    return p.parse_args(argv)


def run(args: argparse.Namespace, out: str, grad_checkpointing: bool) -> dict:
    cfg = TrainConfig(
        shards=args.shards,
        out=out,
        model=args.model,
        random_text_tower=args.model == "biomedclip",
        steps=4 * (args.steps + args.warmup),  # the cosine schedule's length
        batch_size=args.batch_size,
        warmup=args.warmup,
        workers=args.workers,
        precision=args.precision,
        grad_checkpointing=grad_checkpointing,
        eval_split=None,
    )
    return benchmark(cfg, steps=args.steps, warmup=args.warmup)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-train-check-") as tmp:
        out = args.out or tmp
        try:
            result = run(args, out, args.grad_checkpointing)
        except torch.cuda.OutOfMemoryError:
            if args.grad_checkpointing:
                raise
            # one device session is short: retry at once with activations recomputed
            gc.collect()
            torch.cuda.empty_cache()
            result = run(args, out, grad_checkpointing=True)
            result["oom_without_grad_checkpointing"] = True
    result.update(
        grad_checkpointing=result.get("oom_without_grad_checkpointing", args.grad_checkpointing),
        torch=torch.__version__,
        wall_s=round(time.perf_counter() - started, 1),
    )
    print(json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
