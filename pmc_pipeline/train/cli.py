"""``pmc-pipeline train``: flags onto ``TrainConfig``; imports torch only when it runs.

    pmc-pipeline train --shards OUT/shards --model tiny --out RUN --steps 200 --batch-size 32
    pmc-pipeline train --shards OUT/shards --model biomedclip --hf-model-name pubmedbert \\
        --out RUN --steps 20000 --batch-size 512 --workers 12
    torchrun --nproc_per_node 8 -m pmc_pipeline.train --shards OUT/shards --out RUN ...
    pmc-pipeline train --shards OUT/shards --out RUN --random-text-tower --benchmark
"""

from __future__ import annotations

import argparse
import dataclasses

from . import MODELS


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Every ``train`` flag; defaults are BiomedCLIP's recipe where it has one."""
    p.add_argument("--shards", required=True, help="shards/ folder of a build (train/, test/)")
    p.add_argument("--out", required=True, help="run folder: model/, checkpoints/, log.jsonl")
    p.add_argument("--model", choices=MODELS, default="biomedclip")
    text = p.add_mutually_exclusive_group()
    text.add_argument(
        "--hf-model-name",
        help="local folder of the HF text tower (PubMedBERT downloaded once; see README)",
    )
    text.add_argument(
        "--random-text-tower",
        action="store_true",
        help="no PubMedBERT on disk: random-init BERT-base, vocabulary from the train captions",
    )
    p.add_argument("--steps", type=int, default=1000, help="total optimizer steps")
    p.add_argument("--batch-size", type=int, default=256, help="per GPU")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--wd", dest="weight_decay", type=float, default=0.2)
    p.add_argument("--warmup", type=int, default=100, help="linear warmup steps, then cosine")
    p.add_argument("--workers", type=int, default=4, help="loader processes per GPU")
    p.add_argument(
        "--precision", choices=("auto", "amp_bf16", "fp32"), default="auto",
        help="auto: bf16 autocast on CUDA, fp32 on CPU",
    )  # fmt: skip
    p.add_argument("--grad-checkpointing", action="store_true", help="less memory, ~30%% slower")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=10, help="steps per log line")
    p.add_argument("--save-every", type=int, default=0, help="checkpoint period (0: at the end)")
    p.add_argument("--resume", help="'latest' or a checkpoint path")
    p.add_argument(
        "--eval-split", default="test", help="retrieval metrics on this split ('' to skip)"
    )
    p.add_argument("--eval-batch-size", type=int, default=256)
    p.add_argument("--eval-max-samples", type=int, default=10_000)
    p.add_argument("--device", help="e.g. cuda:1 or cpu (default: this rank's GPU, else cpu)")
    p.add_argument(
        "--benchmark",
        action="store_true",
        help="measure loader and step samples/s instead of training",
    )
    p.add_argument("--bench-steps", type=int, default=20, help="timed steps per benchmark rate")
    p.add_argument("-v", "--verbose", action="store_true", default=False)


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """The ``train`` sub-command of ``pmc-pipeline``."""
    p = subparsers.add_parser(
        "train",
        help="CLIP pretraining (BiomedCLIP recipe) on OUT/shards; needs the [train] extra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(p)
    return p


def train_config(args: argparse.Namespace):
    from .loop import TrainConfig

    return TrainConfig(
        shards=args.shards,
        out=args.out,
        model=args.model,
        hf_model_name=args.hf_model_name,
        random_text_tower=args.random_text_tower,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup=args.warmup,
        workers=args.workers,
        precision=args.precision,
        grad_checkpointing=args.grad_checkpointing,
        seed=args.seed,
        log_every=args.log_every,
        save_every=args.save_every,
        resume=args.resume,
        eval_split=args.eval_split or None,
        eval_batch_size=args.eval_batch_size,
        eval_max_samples=args.eval_max_samples,
        device=args.device,
    )


def cmd_train(args: argparse.Namespace) -> dict:
    """Run the training (or ``--benchmark``) the flags describe; its summary."""
    try:
        cfg = train_config(args)
    except ImportError as exc:
        raise SystemExit(
            f"pmc-pipeline train needs the [train] extra: pip install 'pmc-pipeline[train]' ({exc})"
        ) from exc
    if args.benchmark:
        from .bench import benchmark

        return benchmark(dataclasses.replace(cfg, eval_split=None), steps=args.bench_steps)
    from .loop import train

    return train(cfg)
