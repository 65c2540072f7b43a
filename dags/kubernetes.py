"""Run the build on Kubernetes: dask-kubernetes' operator starts scheduler and workers."""

from __future__ import annotations

import sys

from _launch import parser, run_build, split_argv


def main(argv: list[str]) -> None:
    ours, build_argv = split_argv(argv)
    p = parser(__doc__)
    p.add_argument("--name", default="pmc-pipeline")
    p.add_argument("--image", required=True, help="an image with pmc-pipeline installed")
    p.add_argument("--workers", type=int, default=10)
    p.add_argument("--resources", default='{"limits": {"cpu": "2", "memory": "8Gi"}}')
    opts = p.parse_args(ours)
    import json

    from dask_kubernetes.operator import KubeCluster
    from distributed import Client

    with (
        KubeCluster(
            name=opts.name,
            image=opts.image,
            n_workers=opts.workers,
            resources=json.loads(opts.resources),
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(1)
        run_build(client, build_argv)


if __name__ == "__main__":
    main(sys.argv[1:])
