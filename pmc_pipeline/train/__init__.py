"""The bundled pretraining stage: BiomedCLIP-style CLIP training on our WebDataset shards.

Needs the optional extra ``[train]`` (torch, open_clip, webdataset, transformers, timm).
This package and ``.cli`` import none of them, so ``pmc-pipeline --help`` and the core
pipeline work without the extra; ``.models``, ``.data``, ``.loop`` and ``.bench`` do.
"""

from __future__ import annotations

# The model configs in model_configs/, registered with open_clip under these names.
MODELS = ("biomedclip", "tiny")


class TrainError(ValueError):
    """A training run cannot start or go on; the message says what to change."""
