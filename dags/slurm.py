"""Run the build on a SLURM cluster: dask-jobqueue starts the workers as batch jobs."""

from __future__ import annotations

import sys

from _launch import parser, run_build, split_argv


def main(argv: list[str]) -> None:
    ours, build_argv = split_argv(argv)
    p = parser(__doc__)
    p.add_argument("--jobs", type=int, default=10, help="SLURM jobs (one worker each)")
    p.add_argument("--cores", type=int, default=8, help="cores per job")
    p.add_argument("--memory", default="32GB", help="memory per job")
    p.add_argument("--walltime", default="24:00:00")
    p.add_argument("--queue", default=None, help="SLURM partition")
    p.add_argument("--account", default=None)
    opts = p.parse_args(ours)
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    with (
        SLURMCluster(
            cores=opts.cores,
            processes=opts.cores,  # one single-threaded worker process per core
            memory=opts.memory,
            walltime=opts.walltime,
            queue=opts.queue,
            account=opts.account,
        ) as cluster,
        Client(cluster) as client,
    ):
        cluster.scale(jobs=opts.jobs)
        client.wait_for_workers(1)
        run_build(client, build_argv)


if __name__ == "__main__":
    main(sys.argv[1:])
