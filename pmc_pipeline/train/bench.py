"""Does the shard loader keep the accelerator busy? Three rates, in samples/s per rank.

- ``loader``: batches the loader delivers on its own (tar read, JPEG decode, augment,
  tokenize) with ``cfg.workers`` worker processes;
- ``step_in_memory``: training steps on one batch kept on the device and repeated, the
  model's ceiling;
- ``step_from_loader``: training steps fed by the loader, what a run gets.

The loader keeps up when ``loader`` is at or above ``step_in_memory``; then
``step_from_loader`` matches ``step_in_memory`` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch

from .data import PREFETCH
from .loop import Session, TrainConfig, start, train_loader, train_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loader_rate(batches: Iterator, n: int, warmup: int) -> float:
    """Samples/s over ``n`` batches after ``warmup`` ones (worker start-up, prefetched)."""
    for _ in range(warmup):
        next(batches)
    start_t = time.perf_counter()
    samples = sum(len(next(batches)[0]) for _ in range(n))
    return samples / (time.perf_counter() - start_t)


def step_rate(s: Session, next_batch: Callable[[], tuple], steps: int, warmup: int) -> dict:
    """Samples/s of ``steps`` training steps after ``warmup`` ones, and the losses seen."""
    first = float(train_step(s, *next_batch(), 0))
    for i in range(1, warmup):
        train_step(s, *next_batch(), i)
    _sync(s.device)
    start_t = time.perf_counter()
    for i in range(steps):
        loss = train_step(s, *next_batch(), warmup + i)
    last = float(loss)
    _sync(s.device)
    rate = steps * s.cfg.batch_size / (time.perf_counter() - start_t)
    return {"samples_per_s": rate, "loss_first": first, "loss_last": last}


def benchmark(cfg: TrainConfig, steps: int = 20, warmup: int = 3) -> dict:
    """Loader, loader-fed step and in-memory step rates for ``cfg`` (no checkpoint written).

    In that order: the loader-alone run drains the batches workers prefetched at start-up,
    so the fed steps see the loader's steady rate; the in-memory steps run last, while the
    workers sit idle behind a full queue.
    """
    s = start(cfg)
    batches = iter(train_loader(s, cfg.seed))
    loader = loader_rate(batches, steps, warmup + cfg.workers * PREFETCH)
    if s.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(s.device)
    fed = step_rate(s, lambda: next(batches), steps, max(warmup, 1))
    images, texts = (t.to(s.device) for t in next(batches))
    in_memory = step_rate(s, lambda: (images, texts), steps, max(warmup, 1))
    result = {
        "model": cfg.model,
        "device": torch.cuda.get_device_name(s.device) if s.device.type == "cuda" else "cpu",
        "precision": s.precision,
        "world_size": s.world.world_size,
        "batch_size": cfg.batch_size,
        "workers": cfg.workers,
        "steps": steps,
        "params_m": round(sum(p.numel() for p in s.clip.parameters()) / 1e6, 2),
        "loader_samples_per_s": round(loader, 2),
        "step_in_memory_samples_per_s": round(in_memory["samples_per_s"], 2),
        "step_from_loader_samples_per_s": round(fed["samples_per_s"], 2),
        "loader_keeps_up": loader >= in_memory["samples_per_s"],
        # on a repeated batch the loss must fall: a sign the step really trains
        "loss_in_memory": [in_memory["loss_first"], in_memory["loss_last"]],
        "loss_from_loader": [fed["loss_first"], fed["loss_last"]],
    }
    if s.device.type == "cuda":
        result["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(s.device) / 2**30, 2)
    return result
