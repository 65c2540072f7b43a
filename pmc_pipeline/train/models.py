"""Model configs registered with open_clip, and the ``local-dir:`` folders that carry them.

- ``biomedclip``: BiomedCLIP's architecture: timm ``vit_base_patch16_224`` image tower, an
  HF BERT text tower (PubMedBERT) through ``hf_model_name``, context length 256, MLP text
  projection, CLS pooling, 512-d embeddings.
- ``tiny``: ~3.4M parameters, 64 px images, open_clip's SimpleTokenizer (its BPE vocabulary
  ships inside open_clip, so it works offline): trains on a CPU in seconds.

A run writes its model as an open_clip ``local-dir:`` folder (``open_clip_config.json`` and,
for an HF text tower, the tokenizer files). One folder then serves our loop, the stock
``python -m open_clip_train.main --model local-dir:RUN/model`` and inference with
``open_clip.create_model_and_transforms("local-dir:RUN/model")`` once training has put
``open_clip_pytorch_model.bin`` beside it.

Real PubMedBERT weights, offline: on a machine with internet run
``hf download microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract --local-dir pubmedbert``
(or ``huggingface_hub.snapshot_download(..., local_dir="pubmedbert")``), copy the folder to
the training machine and pass ``--hf-model-name pubmedbert``. Without weights,
``--random-text-tower`` builds a randomly initialised BERT-base (see ``text_tower``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import open_clip
import torch
from transformers import AutoTokenizer

from . import MODELS, TrainError

CONFIG_DIR = Path(__file__).parent / "model_configs"
OPEN_CLIP_CONFIG = "open_clip_config.json"
# open_clip loads these from a local-dir: folder as the trained CLIP weights.
EXPORTED_WEIGHTS = "open_clip_pytorch_model.bin"
# Any of these in an HF folder means pretrained text weights (else: random init).
HF_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def register_models() -> None:
    """Make ``biomedclip`` and ``tiny`` known to open_clip by name in this process."""
    if not set(MODELS) <= set(open_clip.list_models()):
        open_clip.add_model_config(CONFIG_DIR)


def model_config(name: str, hf_model_name: str | Path | None = None) -> dict:
    """The open_clip ``model_cfg`` of ``name``, its HF text tower read from ``hf_model_name``."""
    if name not in MODELS:
        raise TrainError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    cfg = json.loads((CONFIG_DIR / f"{name}.json").read_text())
    text = cfg["text_cfg"]
    if "hf_model_name" in text:
        if hf_model_name is None:
            raise TrainError(
                f"model {name} needs its text tower on disk: --hf-model-name DIR (PubMedBERT "
                f"downloaded once from {text['hf_model_name']}), or --random-text-tower"
            )
        path = Path(hf_model_name)
        if not (path / "config.json").is_file():
            raise TrainError(f"{path} is not a Hugging Face model folder (no config.json)")
        text["hf_model_name"] = text["hf_tokenizer_name"] = str(path.resolve())
    return cfg


def has_hf_weights(folder: str | Path) -> bool:
    return any((Path(folder) / name).is_file() for name in HF_WEIGHT_FILES)


def write_model_dir(name: str, dest: Path, hf_model_name: str | Path | None = None) -> Path:
    """Write ``dest`` as an open_clip ``local-dir:`` folder; an existing one must match."""
    cfg = model_config(name, hf_model_name)
    config_path = dest / OPEN_CLIP_CONFIG
    if config_path.is_file():
        if json.loads(config_path.read_text())["model_cfg"] != cfg:
            raise TrainError(f"{dest} holds another model than {name}: use a new --out")
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    if "hf_tokenizer_name" in cfg["text_cfg"]:
        # open_clip reads a local-dir model's HF tokenizer from that folder itself.
        AutoTokenizer.from_pretrained(cfg["text_cfg"]["hf_tokenizer_name"]).save_pretrained(dest)
    tmp = config_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": {}}, indent=2))
    tmp.replace(config_path)
    return dest


def create(model_dir: Path, device: torch.device) -> tuple[torch.nn.Module, Any, Any, Any]:
    """(model, train transform, eval transform, tokenizer) of a model folder, fp32 weights.

    The HF text tower starts from its pretrained weights when its folder has them and from
    random init otherwise; CLIP weights exported beside the config are not loaded (a run
    restores its own checkpoints).
    """
    spec = f"local-dir:{model_dir}"
    text_cfg = json.loads((model_dir / OPEN_CLIP_CONFIG).read_text())["model_cfg"]["text_cfg"]
    hf = text_cfg.get("hf_model_name")
    model, preprocess_train, preprocess_val = open_clip.create_model_and_transforms(
        spec,
        load_weights=False,
        device=device,
        pretrained_text=hf is not None and has_hf_weights(hf),
        output_dict=True,
    )
    return model, preprocess_train, preprocess_val, open_clip.get_tokenizer(spec)
