"""The command line: settings resolution, clear errors, and the offline demo build."""

from __future__ import annotations

import json

import pytest

from pmc_pipeline.cli import build_parser, main, resolve_config
from pmc_pipeline.config import CONFIG_FILE, Config


def test_settings_resolve_saved_then_toml_then_flags(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    saved = Config(out=str(out), source="s3://pmc-oa-opendata", partition_size=7, concurrency=3)
    (out / CONFIG_FILE).write_text(saved.to_json())
    toml = tmp_path / "s.toml"
    toml.write_text("concurrency = 16\nlicenses = ['comm']\n")
    args = build_parser().parse_args(
        ["fetch", "--out", str(out), "--config", str(toml), "--retries", "9"]
    )
    config = resolve_config(args)
    assert (config.source, config.partition_size) == ("s3://pmc-oa-opendata", 7)  # saved
    assert (config.concurrency, config.licenses) == (16, ("comm",))  # TOML
    assert config.retries == 9  # flag


def test_unknown_setting_is_a_clear_error(tmp_path, capsys):
    toml = tmp_path / "s.toml"
    toml.write_text("concurrancy = 16\n")
    code = main(
        ["list", "--source", str(tmp_path), "--out", str(tmp_path / "o"), "--config", str(toml)]
    )
    assert code == 2
    assert "unknown config keys: concurrancy" in capsys.readouterr().err


def test_missing_source_is_a_clear_error(tmp_path, capsys):
    code = main(["list", "--source", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "neither s3://BUCKET" in capsys.readouterr().err


def test_every_stage_has_a_command():
    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert {"list", "fetch", "extract", "split", "dedupe", "shard", "report", "build"} <= set(
        commands
    )


@pytest.mark.slow
def test_offline_demo_build(tmp_path, capsys):
    """What ``make build-dataset`` runs, on one worker: shards and a funnel that adds up."""
    out = tmp_path / "build"
    argv = ["build", "--source", "demo", "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["report"]["ok"] is True
    assert summary["shard"]["splits"]["train"] > 0
    assert json.loads((out / "shards" / "train" / "sizes.json").read_text())
    assert main(argv) == 0  # a rerun finds everything done
    again = json.loads(capsys.readouterr().out)
    assert again["fetch"]["skipped"] == again["fetch"]["partitions"]
