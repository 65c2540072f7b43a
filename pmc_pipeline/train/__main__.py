"""``python -m pmc_pipeline.train ...``: the ``train`` command on its own, for torchrun.

torchrun --nproc_per_node 8 -m pmc_pipeline.train --shards OUT/shards --out RUN ...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import TrainError
from .cli import add_train_arguments, cmd_train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pmc_pipeline.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        summary = cmd_train(args)
    except TrainError as exc:
        print(f"pmc-pipeline train: error: {exc}", file=sys.stderr)
        return 2
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
