"""Monthly update: build only what is new or changed since an earlier build.

``list --previous OLD`` keeps new and changed articles and writes
``manifest/removed.parquet`` (retracted, no longer OA, withdrawn) for consumers to drop.
"""

from __future__ import annotations

import sys

from _launch import parser, run_build, split_argv


def main(argv: list[str]) -> None:
    ours, build_argv = split_argv(argv)
    p = parser(__doc__)
    p.add_argument("--previous", required=True, help="the earlier build folder")
    p.add_argument("--scheduler", default=None, help="a running Dask scheduler")
    opts = p.parse_args(ours)
    from pmc_pipeline.cli import build_parser, resolve_config
    from pmc_pipeline.cluster import dask_client

    flags = [*build_argv, "--previous", opts.previous]
    if opts.scheduler:
        flags += ["--scheduler", opts.scheduler]
    config = resolve_config(build_parser().parse_args(["build", *flags]))
    with dask_client(config) as client:
        run_build(client, flags)


if __name__ == "__main__":
    main(sys.argv[1:])
