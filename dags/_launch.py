"""Shared by the launchers: split argv at ``--``, build the config, run the graph."""

from __future__ import annotations

import argparse
import json

from pmc_pipeline.cli import build_parser, resolve_config
from pmc_pipeline.dag import build


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Launcher options before ``--``, ``pmc-pipeline build`` options after it."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, []


def run_build(client, build_argv: list[str]) -> dict:
    """Parse ``build_argv`` as ``pmc-pipeline build`` flags and run the graph on ``client``."""
    args = build_parser().parse_args(["build", *build_argv])
    config = resolve_config(args)
    summary = build(config, client, force_list=args.force)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def parser(description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        description=description, epilog="-- then pmc-pipeline build flags"
    )


__all__ = ["parser", "run_build", "split_argv"]
