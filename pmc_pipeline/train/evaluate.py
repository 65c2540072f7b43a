"""Cross-modal retrieval on a held-out split: image->text and text->image Recall@K.

Each image's own caption is its one correct text (and vice versa), as in BiomedCLIP's and
PMC-CLIP's retrieval benchmarks. Ranks are computed in row chunks, so memory stays
``chunk x N`` however large the split; ``max_samples`` bounds the ``N x N`` work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

import torch
import torch.nn.functional as F

KS = (1, 5, 10)


@torch.no_grad()
def embed(
    model: torch.nn.Module,
    batches: Iterable,
    device: torch.device,
    autocast: Callable[[], AbstractContextManager],
    max_samples: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised float32 (image, text) embeddings, row i of each from the same sample."""
    model.eval()
    images, texts = [], []
    seen = 0
    for pixels, tokens in batches:
        with autocast():
            images.append(model.encode_image(pixels.to(device), normalize=True).float())
            texts.append(model.encode_text(tokens.to(device), normalize=True).float())
        seen += len(pixels)
        if max_samples is not None and seen >= max_samples:
            break
    if not images:
        raise ValueError("no samples to evaluate on")
    return torch.cat(images)[:max_samples], torch.cat(texts)[:max_samples]


def _ranks(queries: torch.Tensor, keys: torch.Tensor, chunk: int) -> torch.Tensor:
    """0-based rank of key i among all keys for query i (ties count in the query's favour)."""
    out = []
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ keys.T
        rows = torch.arange(len(sims), device=sims.device)
        correct = sims[rows, rows + start].unsqueeze(1)
        out.append((sims > correct).sum(dim=1))
    return torch.cat(out)


def retrieval_metrics(
    image: torch.Tensor, text: torch.Tensor, ks: Iterable[int] = KS, chunk: int = 4096
) -> dict:
    """``{"image_to_text": {"R@1": ..}, "text_to_image": {..}, "samples": N}`` in [0, 1]."""
    if image.shape != text.shape:
        raise ValueError(f"image {tuple(image.shape)} and text {tuple(text.shape)} differ")
    image, text = F.normalize(image.float(), dim=-1), F.normalize(text.float(), dim=-1)
    out: dict = {"samples": len(image)}
    for name, (queries, keys) in {
        "image_to_text": (image, text),
        "text_to_image": (text, image),
    }.items():
        ranks = _ranks(queries, keys, chunk)
        out[name] = {f"R@{k}": round(float((ranks < k).float().mean()), 6) for k in ks}
    return out
