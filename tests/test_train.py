"""The pretraining stage on shards built from the real corpus (needs the [train] extra).

``tiny`` trains on the CPU: the loss falls on repeated batches, a run resumes at its step,
retrieval metrics land beside the checkpoint, two ranks train under torchrun (gloo), the
stock ``open_clip_train.main`` trains on our shards unchanged, and the GPU check script
runs end to end. ``biomedclip``'s random-init text tower is checked through its tokenizer.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest

for _module in ("torch", "open_clip", "open_clip_train", "webdataset", "transformers"):
    pytest.importorskip(_module, reason="needs the [train] extra: make install-train")

import open_clip  # noqa: E402
import torch  # noqa: E402

from pmc_pipeline.config import Config  # noqa: E402
from pmc_pipeline.dag import build  # noqa: E402
from pmc_pipeline.train import TrainError  # noqa: E402
from pmc_pipeline.train.data import (  # noqa: E402
    DecodeSample,
    iter_captions,
    shard_urls,
    split_sizes,
)
from pmc_pipeline.train.evaluate import retrieval_metrics  # noqa: E402
from pmc_pipeline.train.loop import TrainConfig, start, train, train_loader, train_step  # noqa: E402
from pmc_pipeline.train.models import model_config, register_models, write_model_dir  # noqa: E402
from pmc_pipeline.train.text_tower import write_random_bert  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def shards(dask_client, corpus_bucket_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train-build")
    config = Config(
        out=str(out),
        source=str(corpus_bucket_dir),
        partition_size=6,
        samples_per_shard=16,
        test_fraction=0.2,
        val_fraction=0.05,
        panels="off",
        progress=False,
    )
    build(config, dask_client)
    return out / "shards"


def tiny(shards: Path, out: Path, **kw) -> TrainConfig:
    settings = dict(model="tiny", batch_size=8, workers=0, lr=1e-3, warmup=1, log_every=1)
    settings.update(kw)
    return TrainConfig(shards=str(shards), out=str(out), **settings)


def test_train_package_and_core_pipeline_import_without_torch():
    code = (
        "import sys, pmc_pipeline.cli, pmc_pipeline.dag, pmc_pipeline.train.cli; "
        "heavy = {'torch', 'open_clip', 'transformers'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env())


def test_models_are_registered_with_open_clip():
    register_models()
    assert {"biomedclip", "tiny"} <= set(open_clip.list_models())
    cfg = open_clip.get_model_config("biomedclip")
    assert cfg["text_cfg"]["context_length"] == 256
    assert cfg["vision_cfg"]["timm_model_name"] == "vit_base_patch16_224"


def test_retrieval_metrics_rank_the_matching_pair():
    image = torch.eye(4)
    text = torch.eye(4)[[0, 1, 3, 2]]  # samples 2 and 3 swap captions: their match ranks 2nd
    metrics = retrieval_metrics(image, text, ks=(1, 2))
    assert metrics["samples"] == 4
    assert metrics["image_to_text"] == {"R@1": 0.5, "R@2": 1.0}
    assert metrics["text_to_image"] == {"R@1": 0.5, "R@2": 1.0}
    assert retrieval_metrics(image, image)["image_to_text"]["R@1"] == 1.0


def test_jpegs_decode_at_reduced_scale_but_never_below_the_model_size():
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (1000, 800), (200, 30, 30)).save(buf, "JPEG")
    image, text = DecodeSample((224, 224))({"jpg": buf.getvalue(), "txt": b"Fig. 1"})
    assert image.mode == "RGB" and image.size == (500, 400) and text == "Fig. 1"
    image, _ = DecodeSample((640, 640))({"jpg": buf.getvalue(), "txt": b""})
    assert image.size == (1000, 800)


def test_tiny_loss_is_finite_and_falls_on_repeated_batches(shards, tmp_path):
    s = start(tiny(shards, tmp_path, steps=1000, eval_split=None))
    batches = list(islice(iter(train_loader(s, seed=0)), 2))
    assert batches[0][0].shape == (8, 3, 64, 64) and batches[0][1].shape == (8, 77)
    losses = [float(train_step(s, *batches[i % 2], i)) for i in range(16)]
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-2:]) < 0.9 * sum(losses[:2]), losses


def test_resume_continues_the_step_count_and_writes_metrics(shards, tmp_path):
    first = train(tiny(shards, tmp_path, steps=2, workers=1))
    assert first["start_step"] == 0 and math.isfinite(first["loss"])
    with pytest.raises(TrainError, match="--resume latest"):
        train(tiny(shards, tmp_path, steps=4))
    with (tmp_path / "log.jsonl").open("a") as f:  # a run that died after its last checkpoint
        f.write(json.dumps({"step": 3, "loss": 9.9}) + "\n")
    second = train(tiny(shards, tmp_path, steps=4, resume="latest"))
    assert second["start_step"] == 2 and second["steps"] == 4
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(r["samples_per_s"] > 0 and math.isfinite(r["loss"]) for r in rows)
    checkpoint = Path(second["checkpoint"])
    assert checkpoint.name == "step_0000004.pt"
    assert torch.load(checkpoint, weights_only=False)["step"] == 4

    metrics = json.loads(checkpoint.with_suffix(".retrieval.json").read_text())
    assert metrics == second["retrieval"]
    assert metrics["samples"] == sum(split_sizes(shards, "test").values())
    for direction in ("image_to_text", "text_to_image"):
        assert set(metrics[direction]) == {"R@1", "R@5", "R@10"}
        assert all(0.0 <= v <= 1.0 for v in metrics[direction].values())

    # the run's model folder is an open_clip local-dir: model with the trained weights
    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{tmp_path / 'model'}")
    saved = torch.load(checkpoint, weights_only=False)["state_dict"]
    assert torch.equal(model.state_dict()["logit_scale"], saved["logit_scale"])


def test_bad_inputs_raise_train_errors(shards, tmp_path):
    with pytest.raises(TrainError, match="sizes.json"):
        train(tiny(tmp_path / "nowhere", tmp_path / "run"))
    with pytest.raises(TrainError, match="--hf-model-name"):
        model_config("biomedclip")
    with pytest.raises(TrainError, match="unknown model"):
        model_config("vit-huge")


def test_biomedclip_random_text_tower_tokenizes_captions(shards, tmp_path):
    captions = list(iter_captions(shard_urls(shards, "train")))
    tower = write_random_bert(tmp_path / "text_tower", captions)
    model_dir = write_model_dir("biomedclip", tmp_path / "model", tower)
    tokenizer = open_clip.get_tokenizer(f"local-dir:{model_dir}")
    tokens = tokenizer(captions[:4])
    assert tokens.shape == (4, 256)
    unknown = tokenizer.tokenizer.unk_token_id
    real = tokens[(tokens != 0)]
    assert (real == unknown).float().mean() < 0.05
    config = json.loads((tower / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (
        768,
        12,
        30522,
    )


def test_two_ranks_train_under_torchrun(shards, tmp_path):
    run = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "pmc_pipeline.train", "--shards", str(shards), "--out", str(run),
        "--model", "tiny", "--steps", "2", "--batch-size", "4", "--workers", "0",
        "--warmup", "1", "--log-every", "1", "--device", "cpu", "--eval-split", "",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert summary["world_size"] == 2 and Path(summary["checkpoint"]).is_file()


def test_stock_open_clip_trainer_reads_our_shards(shards, tmp_path):
    model_dir = write_model_dir("tiny", tmp_path / "model")
    sizes = split_sizes(shards, "train")
    last = len(sizes) - 1
    cmd = [
        sys.executable, "-m", "open_clip_train.main",
        "--dataset-type", "webdataset",
        "--train-data", f"{shards}/train/{{00000..{last:05d}}}.tar",
        "--train-num-samples", "16", "--model", f"local-dir:{model_dir}",
        "--batch-size", "8", "--epochs", "1", "--workers", "1", "--lr", "1e-3", "--warmup", "1",
        "--precision", "fp32", "--logs", str(tmp_path / "logs"), "--name", "stock",
        "--report-to", "", "--log-every-n-steps", "1", "--save-frequency", "1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (tmp_path / "logs" / "stock" / "out.log").read_text()
    assert "Train Epoch: 0" in log and "Contrastive_loss" in log
    assert (tmp_path / "logs" / "stock" / "checkpoints" / "epoch_1.pt").is_file()


def test_gpu_check_script_runs_tiny_on_cpu(shards):
    cmd = [
        sys.executable, str(REPO / "bench" / "gpu_train_check.py"), "--shards", str(shards),
        "--model", "tiny", "--batch-size", "8", "--steps", "3", "--warmup", "1", "--workers", "1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("loader", "step_in_memory", "step_from_loader"):
        assert result[f"{key}_samples_per_s"] > 0
    assert result["model"] == "tiny" and result["batch_size"] == 8
    assert all(math.isfinite(x) for x in result["loss_in_memory"])
