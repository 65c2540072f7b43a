"""Training: open_clip's model and ``ClipLoss`` in our own step-based loop, one GPU or many.

Why our loop rather than ``open_clip_train.main``: the stock trainer is a script (its own
argument parsing, global logging and log layout) that counts epochs of a declared
``--train-num-samples``. The CLI and the tests need a function to call in-process that
resumes at an exact step, logs JSONL, writes retrieval metrics beside each checkpoint and
shares its set-up with the loader benchmark. Everything numerical is open_clip's: the model,
transforms and tokenizer, ``ClipLoss`` (``local_loss`` + ``gather_with_grad`` under DDP, the
exact and memory-lean setting its README recommends), the cosine schedule with warmup
(``open_clip_train.scheduler.cosine_lr``) and AdamW without weight decay on gains, biases
and the logit scale. The stock trainer reads our shards unchanged too (tests/test_train.py).

Several GPUs: ``torchrun --nproc_per_node 8 -m pmc_pipeline.train --shards ... --out ...``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from open_clip import ClipLoss
from open_clip_train.scheduler import cosine_lr
from webdataset.utils import make_seed

from . import TrainError, data, models
from .evaluate import embed, retrieval_metrics
from .text_tower import write_random_bert

PRECISIONS = ("auto", "amp_bf16", "fp32")
CHECKPOINTS = "checkpoints"
LOG_FILE = "log.jsonl"


@dataclass(frozen=True)
class TrainConfig:
    """One run. Defaults follow BiomedCLIP's recipe where it has one."""

    shards: str
    out: str
    model: str = "biomedclip"
    hf_model_name: str | None = None
    random_text_tower: bool = False
    steps: int = 1000
    batch_size: int = 256
    lr: float = 5e-4
    weight_decay: float = 0.2
    warmup: int = 100
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    workers: int = 4
    precision: str = "auto"
    grad_checkpointing: bool = False
    seed: int = 0
    log_every: int = 10
    save_every: int = 0
    resume: str | None = None
    eval_split: str | None = "test"
    eval_batch_size: int = 256
    eval_max_samples: int | None = 10_000
    device: str | None = None


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()


@dataclass
class Session:
    """A model ready to train: everything ``train_step`` and the benchmarks need."""

    cfg: TrainConfig
    world: World
    device: torch.device
    precision: str
    clip: torch.nn.Module  # the open_clip model
    model: torch.nn.Module  # what runs forward/backward: ``clip`` or its DDP wrapper
    preprocess_train: Callable
    preprocess_val: Callable
    tokenizer: Callable
    loss: ClipLoss
    optimizer: torch.optim.Optimizer
    schedule: Callable[[int], float]
    model_dir: Path

    @property
    def run(self) -> Path:
        return Path(self.cfg.out)

    @property
    def image_size(self) -> tuple[int, int]:
        return self.clip.visual.preprocess_cfg["size"]

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "amp_bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def init_world(device: str | None) -> tuple[World, torch.device]:
    """This process's rank and device; joins the process group under torchrun."""
    world = World(
        rank=int(os.environ.get("RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )
    if device:
        dev = torch.device(device)
    elif torch.cuda.is_available():
        dev = torch.device("cuda", world.local_rank)
    else:
        dev = torch.device("cpu")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if world.world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return world, dev


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision not in PRECISIONS:
        raise TrainError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "amp_bf16" if device.type == "cuda" else "fp32"
    return precision


def prepare_model_dir(cfg: TrainConfig) -> Path:
    """RUN/model (and RUN/text_tower for a random-init text tower), written once."""
    run = Path(cfg.out)
    hf = cfg.hf_model_name
    if cfg.random_text_tower:
        if hf is not None:
            raise TrainError("--random-text-tower and --hf-model-name exclude each other")
        captions = data.iter_captions(data.shard_urls(cfg.shards, "train"))
        hf = write_random_bert(run / "text_tower", captions)
    return models.write_model_dir(cfg.model, run / "model", hf)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """open_clip's split: no weight decay on gains, biases, norms and the logit scale."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        skip = p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name
        (no_decay if skip or "logit_scale" in name else decay).append(p)
    return [
        {"params": no_decay, "weight_decay": 0.0},
        {"params": decay, "weight_decay": weight_decay},
    ]


def start(cfg: TrainConfig) -> Session:
    """Build model, loss, optimizer and schedule on this rank's device (fp32 weights)."""
    world, device = init_world(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    data.split_sizes(cfg.shards, "train")  # fail before building a model
    if cfg.eval_split:
        data.split_sizes(cfg.shards, cfg.eval_split)
    if world.main:
        prepare_model_dir(cfg)
    world.barrier()
    model_dir = Path(cfg.out) / "model"
    torch.manual_seed(cfg.seed)
    clip, preprocess_train, preprocess_val, tokenizer = models.create(model_dir, device)
    if cfg.grad_checkpointing:
        clip.set_grad_checkpointing(True)
    optimizer = torch.optim.AdamW(
        _param_groups(clip, cfg.weight_decay),
        lr=cfg.lr,
        betas=cfg.betas,
        eps=cfg.eps,
        fused=device.type == "cuda",  # one kernel for all parameters: cheaper steps on GPU
    )
    model = clip
    if world.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            clip,
            device_ids=[device.index] if device.type == "cuda" else None,
            static_graph=cfg.grad_checkpointing,
        )
    loss = ClipLoss(
        local_loss=True, gather_with_grad=True, rank=world.rank, world_size=world.world_size
    )
    return Session(
        cfg=cfg,
        world=world,
        device=device,
        precision=precision,
        clip=clip,
        model=model,
        preprocess_train=preprocess_train,
        preprocess_val=preprocess_val,
        tokenizer=tokenizer,
        loss=loss,
        optimizer=optimizer,
        schedule=cosine_lr(optimizer, cfg.lr, cfg.warmup, cfg.steps),
        model_dir=model_dir,
    )


def train_loader(s: Session, seed: int):
    """This rank's endless stream of training batches."""
    pipeline = data.train_pipeline(
        data.shard_urls(s.cfg.shards, "train"),
        s.preprocess_train,
        s.tokenizer,
        s.cfg.batch_size,
        seed,
        s.image_size,
    )
    return data.make_loader(pipeline, s.cfg.workers, pin_memory=s.device.type == "cuda")


def train_step(s: Session, images: torch.Tensor, texts: torch.Tensor, step: int) -> torch.Tensor:
    """One optimizer step at (0-based) ``step``; returns the loss without syncing the device."""
    s.schedule(step)
    s.model.train()
    images = images.to(s.device, non_blocking=True)
    texts = texts.to(s.device, non_blocking=True)
    with s.autocast():
        out = s.model(images, texts)
        loss = s.loss(out["image_features"], out["text_features"], out["logit_scale"])
    s.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    s.optimizer.step()
    with torch.no_grad():
        s.clip.logit_scale.clamp_(0, math.log(100))
    return loss.detach()


# --- checkpoints --------------------------------------------------------------------------


def checkpoint_path(run: Path, step: int) -> Path:
    return run / CHECKPOINTS / f"step_{step:07d}.pt"


def latest_checkpoint(run: Path) -> Path | None:
    found = sorted((run / CHECKPOINTS).glob("step_*.pt"))
    return found[-1] if found else None


def save_checkpoint(s: Session, step: int) -> Path:
    """Atomically write model, optimizer and step (open_clip-loadable ``state_dict``)."""
    path = checkpoint_path(s.run, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "step": step,
        "model": s.cfg.model,
        "state_dict": s.clip.state_dict(),
        "optimizer": s.optimizer.state_dict(),
        "config": asdict(s.cfg),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def restore(s: Session) -> int:
    """Load the checkpoint ``cfg.resume`` names; the step to continue from (0: fresh)."""
    latest = latest_checkpoint(s.run)
    if s.cfg.resume is None:
        if latest is not None:
            raise TrainError(
                f"{s.run} already has checkpoints (up to {latest.name}): pass --resume latest "
                "to continue, or a new --out"
            )
        return 0
    path = latest if s.cfg.resume == "latest" else Path(s.cfg.resume)
    if path is None:
        return 0  # "latest" with nothing saved yet: a fresh start, as in open_clip
    if not path.is_file():
        raise TrainError(f"checkpoint {path} not found")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("model") != s.cfg.model:
        raise TrainError(f"{path} is a {state.get('model')} checkpoint, not {s.cfg.model}")
    s.clip.load_state_dict(state["state_dict"])
    s.optimizer.load_state_dict(state["optimizer"])
    return int(state["step"])


def export_weights(s: Session) -> Path:
    """The trained weights where open_clip's ``local-dir:`` loader finds them."""
    path = s.model_dir / models.EXPORTED_WEIGHTS
    tmp = path.with_suffix(".tmp")
    torch.save(s.clip.state_dict(), tmp)
    tmp.replace(path)
    return path


# --- evaluation and logging ---------------------------------------------------------------


def evaluate(s: Session, step: int) -> dict:
    """Retrieval metrics on ``cfg.eval_split``, saved as JSON beside step's checkpoint."""
    cfg = s.cfg
    urls = data.shard_urls(cfg.shards, cfg.eval_split)
    pipeline = data.eval_pipeline(
        urls, s.preprocess_val, s.tokenizer, cfg.eval_batch_size, s.image_size
    )
    batches = data.make_loader(pipeline, min(cfg.workers, len(urls)))
    image, text = embed(s.clip, batches, s.device, s.autocast, cfg.eval_max_samples)
    metrics = {"step": step, "split": cfg.eval_split, **retrieval_metrics(image, text)}
    path = checkpoint_path(s.run, step).with_suffix(".retrieval.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return metrics


class StepLog:
    """Loss, learning rate and samples/s per interval: a stdout line and a JSONL row."""

    def __init__(self, path: Path, total_steps: int, start_step: int) -> None:
        self.path, self.total = path, total_steps
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():  # rows past the restart step came from a run that died after them
            rows = [line for line in path.read_text().splitlines() if line.strip()]
            kept = [line for line in rows if json.loads(line)["step"] <= start_step]
            path.write_text("".join(line + "\n" for line in kept))

    def write(self, row: dict) -> None:
        print(
            f"step {row['step']}/{self.total}  loss {row['loss']:.4f}  lr {row['lr']:.2e}  "
            f"logit_scale {row['logit_scale']:.2f}  samples/s {row['samples_per_s']:.1f}  "
            f"data {row['data_fraction']:.0%}",
            flush=True,
        )
        with self.path.open("a") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")


def _run_steps(s: Session, first: int, batches: Iterator, log: StepLog | None) -> dict:
    """Train from step ``first`` to ``cfg.steps``; log, save and sum up on the main rank."""
    cfg = s.cfg
    global_batch = cfg.batch_size * s.world.world_size
    window_start, window_steps, data_s, last = time.perf_counter(), 0, 0.0, {}
    rates = []
    for step in range(first, cfg.steps):
        t = time.perf_counter()
        images, texts = next(batches)
        data_s += time.perf_counter() - t
        loss = train_step(s, images, texts, step)
        window_steps += 1
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            value = float(loss)  # syncs the device: timing below covers the real work
            elapsed = time.perf_counter() - window_start
            last = {
                "step": done,
                "loss": value,
                "lr": s.optimizer.param_groups[0]["lr"],
                "logit_scale": float(s.clip.logit_scale.detach().exp()),
                "samples_per_s": round(global_batch * window_steps / elapsed, 2),
                "data_fraction": round(data_s / elapsed, 4),
            }
            if not math.isfinite(value):
                raise TrainError(f"loss is {value} at step {done}: lower --lr or check the data")
            rates.append(last["samples_per_s"])
            if log is not None:
                log.write(last)
            window_start, window_steps, data_s = time.perf_counter(), 0, 0.0
        if s.world.main and cfg.save_every and done % cfg.save_every == 0 and done < cfg.steps:
            save_checkpoint(s, done)
    return {"last": last, "samples_per_s": rates}


def train(cfg: TrainConfig) -> dict:
    """Train ``cfg.model`` on ``cfg.shards``/train; checkpoint, export and evaluate at the end."""
    s = start(cfg)
    first = restore(s)
    summary: dict[str, Any] = {"run": cfg.out, "model": cfg.model, "start_step": first}
    summary.update(precision=s.precision, world_size=s.world.world_size, device=str(s.device))
    if first < cfg.steps:
        batches = iter(train_loader(s, make_seed(cfg.seed, first)))
        log = StepLog(s.run / LOG_FILE, cfg.steps, first) if s.world.main else None
        result = _run_steps(s, first, batches, log)
        summary["loss"] = result["last"].get("loss")
        # the first interval holds start-up (workers, kernels): leave it out when others exist
        rates = result["samples_per_s"]
        summary["samples_per_s"] = statistics.median(rates[1:] or rates)
    summary["steps"] = cfg.steps
    if s.world.main:
        checkpoint = checkpoint_path(s.run, max(first, cfg.steps))
        if not checkpoint.is_file():
            save_checkpoint(s, cfg.steps)
        summary["checkpoint"] = str(checkpoint)
        summary["weights"] = str(export_weights(s))
        summary["log"] = str(s.run / LOG_FILE)
        if cfg.eval_split:
            summary["retrieval"] = evaluate(s, max(first, cfg.steps))
    s.world.barrier()
    return summary
