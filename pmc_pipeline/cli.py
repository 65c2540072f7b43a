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
from collections.abc import Callable
from pathlib import Path

from .config import CONFIG_FILE, Config
from .sources import SourceError

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


def _add_list(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument(
        "--licenses",
        default=S,
        help="comma list of groups (comm, noncomm, other) and codes ('CC BY'); default: all OA",
    )
    p.add_argument("--limit", type=int, default=S, help="keep at most N articles")
    p.add_argument("--pmcids", dest="pmcids_file", default=S, help="file of PMCIDs to keep")
    p.add_argument("--partition-size", type=int, default=S, help="articles per partition (500)")
    p.add_argument("--previous", default=S, help="earlier build folder: keep new/changed only")
    p.add_argument("--include-manuscripts", action="store_true", default=S)
    p.add_argument("--include-ocr", action="store_true", default=S)
    p.add_argument("--force", action="store_true", default=False, help="redo a finished list")


def _add_fetch(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--concurrency", type=int, default=S, help="requests in flight per task (8)")
    p.add_argument(
        "--rps", dest="requests_per_second", type=float, default=S, help="global request cap"
    )
    p.add_argument("--retries", type=int, default=S, help="retries of transient errors (5)")
    p.add_argument("--timeout", type=float, default=S, help="seconds per request (60)")


def _add_extract(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--max-side", type=int, default=S, help="longest image side (1024)")
    p.add_argument("--jpeg-quality", type=int, default=S, help="JPEG quality (90)")
    p.add_argument("--min-side", type=int, default=S, help="smaller images are errors (32)")


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
    p = sub.add_parser("build", help="run every stage (resumable)")
    _add_common(p), _add_source(p), _add_list(p), _add_fetch(p), _add_extract(p)
    return parser


_NOT_CONFIG = {"command", "config_file", "verbose", "force"}


def resolve_config(args: argparse.Namespace) -> Config:
    """Defaults < OUT/config.json < --config TOML < explicit flags."""
    from .storage import Store

    values: dict = {}
    store = Store(args.out, getattr(args, "out_endpoint_url", None))
    if store.exists(CONFIG_FILE):
        values.update(json.loads(store.read_bytes(CONFIG_FILE)))
    if hasattr(args, "config_file"):
        values.update(vars(Config.from_toml(args.config_file)))
    flags = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG}
    if isinstance(flags.get("licenses"), str):
        flags["licenses"] = tuple(x.strip() for x in flags["licenses"].split(",") if x.strip())
    values.update(flags)
    config = Config.from_dict(values)
    if config.source == DEMO:
        config = config.replace(source=str(_demo_source(config)))
    return config


def _demo_source(config: Config) -> Path:
    """The bundled synthetic bucket, generated once into OUT/demo-source (offline)."""
    from .demo import build_demo_source

    if config.store.is_s3:
        raise SourceError("--source demo needs a local --out folder")
    return build_demo_source(Path(config.out) / "demo-source")


def cmd_list(config: Config, args) -> dict:
    from .cluster import dask_client
    from .stages.listing import run_list

    with dask_client(config) as client:
        return run_list(config, client, force=args.force)


def cmd_fetch(config: Config, args) -> dict:
    from .cluster import dask_client
    from .stages.fetch import fetch_all

    with dask_client(config) as client:
        results = fetch_all(config, client)
    return _sum_counts(results)


def cmd_extract(config: Config, args) -> dict:
    from .cluster import dask_client
    from .stages.extract import extract_all

    with dask_client(config) as client:
        return _sum_counts(extract_all(config, client))


def cmd_build(config: Config, args) -> dict:
    from .cluster import dask_client
    from .stages.extract import extract_all
    from .stages.fetch import fetch_all
    from .stages.listing import run_list

    with dask_client(config) as client:
        listed = run_list(config, client, force=args.force)
        fetched = _sum_counts(fetch_all(config, client))
        extracted = _sum_counts(extract_all(config, client))
    return {"list": listed, "fetch": fetched, "extract": extracted}


def _sum_counts(results: list[dict]) -> dict:
    """Add up per-partition summaries (numbers only) for the command's report."""
    total: dict = {"partitions": len(results)}
    for r in results:
        for k, v in r.items():
            if isinstance(v, bool):
                total[k] = total.get(k, 0) + int(v)
            elif isinstance(v, int) and k != "partition":
                total[k] = total.get(k, 0) + v
    return total


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], dict]] = {
    "list": cmd_list,
    "fetch": cmd_fetch,
    "extract": cmd_extract,
    "build": cmd_build,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        config = resolve_config(args)
        summary = COMMANDS[args.command](config, args)
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
