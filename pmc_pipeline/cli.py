"""``pmc-pipeline <stage>``: one command per stage, and ``build`` for the whole graph.

Every command takes ``--out OUT``. Settings resolve in this order, later winning: the
defaults, the ``config.json`` an earlier ``list`` saved in OUT, ``--config FILE.toml``,
then the flags on the command line. So ``pmc-pipeline fetch --out OUT`` needs no
``--source``: it reads what ``list`` used.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import CONFIG_FILE, Config
from .sources import SourceError
from .sources.base import MEDIA_MODES

DEMO = "demo"


def _add_common(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--out", required=True, help="build folder: a path or s3://bucket/prefix")
    p.add_argument("--out-endpoint-url", default=S, help="S3 endpoint for an s3:// --out")
    p.add_argument("--config", dest="config_file", default=S, help="TOML file of settings")
    p.add_argument("--scheduler", default=S, help="address of a running Dask scheduler")
    p.add_argument("--workers", type=int, default=S, help="LocalCluster worker processes")
    p.add_argument("--threads-per-worker", type=int, default=S)
    p.add_argument("--memory-limit", default=S, help="per worker, e.g. 4GB (default auto)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=S)
    p.add_argument("-v", "--verbose", action="store_true", default=False)


def _add_source(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument(
        "--source",
        default=S,
        help="s3://pmc-oa-opendata (default), https://pmc-oa-opendata.s3.amazonaws.com, "
        "a local copy of the bucket, a legacy mirror (folder with oa_file_list.csv), "
        "or 'demo' (bundled offline synthetic source)",
    )
    p.add_argument("--endpoint-url", default=S, help="S3-compatible endpoint for s3:// sources")
    p.add_argument("--sign", action="store_true", default=S, help="sign S3 requests")


def _add_filters(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument(
        "--licenses",
        default=S,
        help="comma list of groups (comm, noncomm, other) and codes ('CC BY'); default: all OA",
    )
    p.add_argument("--pmcids", dest="pmcids_file", default=S, help="file of PMCIDs to keep")
    p.add_argument("--include-manuscripts", action="store_true", default=S)
    p.add_argument("--include-ocr", action="store_true", default=S)
    p.add_argument("--partition-size", type=int, default=S, help="articles per partition (500)")


def _add_list(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    _add_filters(p)
    p.add_argument("--limit", type=int, default=S, help="keep at most N articles")
    p.add_argument("--previous", default=S, help="earlier build folder: keep new/changed only")
    p.add_argument("--force", action="store_true", default=False, help="redo a finished list")


def _add_fetch(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--concurrency", type=int, default=S, help="requests in flight per task (8)")
    p.add_argument(
        "--rps", dest="requests_per_second", type=float, default=S, help="global request cap"
    )
    p.add_argument("--retries", type=int, default=S, help="retries of transient errors (5)")
    p.add_argument("--timeout", type=float, default=S, help="seconds per request (60)")
    p.add_argument(
        "--media",
        choices=MEDIA_MODES,
        default=S,
        help="figures (default): only the images <fig> graphics name; all: every listed image",
    )


def _add_extract(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--max-side", type=int, default=S, help="longest image side (1024)")
    p.add_argument("--jpeg-quality", type=int, default=S, help="JPEG quality (90)")
    p.add_argument("--min-side", type=int, default=S, help="smaller images are errors (32)")


def _add_dedupe(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--near-distance", type=int, default=S, help="max pHash bits for near dups")
    p.add_argument("--test-fraction", type=float, default=S, help="share of clusters in test")
    p.add_argument("--val-fraction", type=float, default=S, help="share of clusters in val")


def _add_shard(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--samples-per-shard", type=int, default=S, help="samples per tar (5000)")
    p.add_argument("--keep-duplicates", action="store_true", default=S, help="write all, marked")
    p.add_argument("--panels", choices=["off", "add", "only"], default=S, help="subfigure samples")


def _add_split(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--panel-detector",
        default=argparse.SUPPRESS,
        help="a local learned panel detector (file.py:fn, module:fn or TorchScript .pt)",
    )


def _add_plan(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=int, default=3000, help="articles to read (3000; all: 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (0)")
    p.add_argument("--cores", type=int, default=None, help="cores of the build (this machine's)")
    p.add_argument(
        "--bandwidth", type=float, default=100.0, help="download MB/s of the build (100)"
    )
    p.add_argument(
        "--rps",
        dest="requests_per_second",
        type=float,
        default=argparse.SUPPRESS,
        help="the build's request cap (the config's, default 1000)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmc-pipeline", description="PubMed Central figures + captions -> WebDataset shards"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="enumerate articles into OUT/manifest/")
    _add_common(p), _add_source(p), _add_list(p), _add_fetch(p)
    p = sub.add_parser("fetch", help="download each manifest partition into OUT/bundles/")
    _add_common(p), _add_source(p), _add_fetch(p)
    p = sub.add_parser("extract", help="figures and captions of each bundle into OUT/figures/")
    _add_common(p), _add_extract(p)
    p = sub.add_parser("split", help="panels of compound figures into OUT/panels/")
    _add_common(p), _add_split(p)
    p = sub.add_parser("dedupe", help="exact and near-duplicate clusters into OUT/dedupe/")
    _add_common(p), _add_dedupe(p)
    p.add_argument("--force", action="store_true", default=False, help="redo a finished dedupe")
    p = sub.add_parser("shard", help="WebDataset + Parquet shards per split into OUT/shards/")
    _add_common(p), _add_shard(p)
    p = sub.add_parser("report", help="OUT/build.json funnel and OUT/report/index.html")
    _add_common(p)
    p = sub.add_parser("build", help="run every stage (resumable)")
    _add_common(p), _add_source(p), _add_list(p), _add_fetch(p), _add_extract(p)
    _add_split(p), _add_dedupe(p), _add_shard(p)
    p.add_argument(
        "--discard-bundles",
        action="store_true",
        default=argparse.SUPPRESS,
        help="delete each partition's bundle once its figures are written (saves disk)",
    )
    p = sub.add_parser("plan", help="predict a build's articles, requests, bytes, disk, hours")
    _add_common(p), _add_source(p), _add_filters(p), _add_plan(p)
    from .train.cli import add_train_parser  # flags only: torch loads when `train` runs

    add_train_parser(sub)
    return parser


_NOT_CONFIG = {"command", "config_file", "verbose", "force", "sample", "seed", "cores", "bandwidth"}


def resolve_config(args: argparse.Namespace) -> Config:
    """Defaults < OUT/config.json < --config TOML < explicit flags."""
    from .storage import Store

    values: dict = {}
    store = Store(args.out, getattr(args, "out_endpoint_url", None))
    if store.exists(CONFIG_FILE):
        values.update(json.loads(store.read_bytes(CONFIG_FILE)))
    if hasattr(args, "config_file"):
        values.update(read_toml(args.config_file))
    flags = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG}
    if isinstance(flags.get("licenses"), str):
        flags["licenses"] = tuple(x.strip() for x in flags["licenses"].split(",") if x.strip())
    values.update(flags)
    config = Config.from_dict(values)
    if config.source == DEMO:
        config = config.replace(source=str(_demo_source(config)))
    return config


def read_toml(path: str) -> dict:
    """The settings a TOML file names (checked against Config), nothing else."""
    with open(path, "rb") as f:
        values = tomllib.load(f)
    Config.from_dict(values)  # unknown keys or bad values fail here, with the file named
    return values


def _demo_source(config: Config) -> Path:
    """The bundled synthetic bucket, generated once into OUT/demo-source (offline)."""
    from .demo import build_demo_source

    if config.store.is_s3:
        raise SourceError("--source demo needs a local --out folder")
    return build_demo_source(Path(config.out) / "demo-source")


Command = Callable[[Config, argparse.Namespace], dict]


def _with_client(run: Callable[[Config, Any, argparse.Namespace], dict]) -> Command:
    """A command that runs ``run(config, client, args)`` on the configured Dask cluster."""

    def command(config: Config, args: argparse.Namespace) -> dict:
        from .cluster import dask_client

        with dask_client(config) as client:
            return run(config, client, args)

    return command


def _list(config: Config, client, args: argparse.Namespace) -> dict:
    from .stages.listing import run_list

    return run_list(config, client, force=args.force)


def _fetch(config: Config, client, args: argparse.Namespace) -> dict:
    from .dag import add_counts
    from .stages.fetch import fetch_all

    return add_counts(fetch_all(config, client))


def _extract(config: Config, client, args: argparse.Namespace) -> dict:
    from .dag import add_counts
    from .stages.extract import extract_all

    return add_counts(extract_all(config, client))


def _split(config: Config, client, args: argparse.Namespace) -> dict:
    from .cluster import map_tasks
    from .dag import add_counts
    from .stages.extract import extract_done
    from .stages.split import split_partition

    parts = extract_done(config.store)
    return add_counts(map_tasks(client, split_partition, config, parts, desc="split"))


def _dedupe(config: Config, client, args: argparse.Namespace) -> dict:
    from .stages.dedupe import run_dedupe

    return run_dedupe(config, client, force=args.force)


def _shard(config: Config, client, args: argparse.Namespace) -> dict:
    from .stages.shard import run_shard

    return run_shard(config, client)


def _build(config: Config, client, args: argparse.Namespace) -> dict:
    from .dag import build

    return build(config, client, force_list=args.force)


def cmd_plan(config: Config, args: argparse.Namespace) -> dict:
    from .planning import summary
    from .stages.plan import PLAN_JSON, run_plan

    plan = run_plan(
        config, sample=args.sample, seed=args.seed, cores=args.cores, bandwidth_mb_s=args.bandwidth
    )
    print(summary(plan))
    return {"plan": config.store.path(PLAN_JSON), "articles": plan["articles"]}


def cmd_report(config: Config, args: argparse.Namespace) -> dict:
    from .stages.report import run_report

    return run_report(config)


COMMANDS: dict[str, Command] = {
    "list": _with_client(_list),
    "fetch": _with_client(_fetch),
    "extract": _with_client(_extract),
    "split": _with_client(_split),
    "dedupe": _with_client(_dedupe),
    "shard": _with_client(_shard),
    "report": cmd_report,
    "plan": cmd_plan,
    "build": _with_client(_build),
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "force"):
        args.force = False
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "train":  # trains on shards, not a build folder: no build config
            from .train.cli import cmd_train

            summary = cmd_train(args)
        else:
            summary = COMMANDS[args.command](config=resolve_config(args), args=args)
    except (SourceError, ValueError, FileNotFoundError) as exc:
        print(f"pmc-pipeline {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
