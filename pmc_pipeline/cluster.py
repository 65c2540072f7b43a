"""Running stages on Dask: a LocalCluster of worker processes, or a running scheduler.

Tasks are partitions, never single files (DESIGN.md §6). ``map_partitions`` submits one
task per partition, shows a tqdm bar as they finish, and returns their small summaries.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from distributed import Client, LocalCluster, as_completed
from tqdm.auto import tqdm

from .config import Config

log = logging.getLogger("pmc_pipeline")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@contextmanager
def dask_client(config: Config) -> Iterator[Client]:
    """Connect to ``config.scheduler`` or start a LocalCluster of worker processes."""
    quiet_dask_logs()
    if config.scheduler:
        with Client(config.scheduler) as client:
            _announce(client, config)
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.workers or default_workers(),
            threads_per_worker=config.threads_per_worker,
            processes=True,
            memory_limit=config.memory_limit,
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        _announce(client, config)
        yield client


def quiet_dask_logs() -> None:
    """Dask's INFO chatter drowns the progress bars; keep warnings (also in worker processes)."""
    if logging.getLogger("pmc_pipeline").getEffectiveLevel() > logging.INFO:
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
        logging.getLogger("distributed").setLevel(logging.WARNING)


def _announce(client: Client, config: Config) -> None:
    if config.progress:
        link = client.dashboard_link or "(no dashboard)"
        tqdm.write(f"dask: {len(client.scheduler_info()['workers'])} workers; dashboard {link}")


def n_worker_processes(client: Client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def share_rate(config: Config, client: Client) -> Config:
    """Divide the global request cap among worker processes (each enforces its share)."""
    return config.replace(
        requests_per_second=config.requests_per_second / n_worker_processes(client)
    )


def map_tasks(
    client: Client,
    fn: Callable[..., Any],
    config: Config,
    items: list,
    *,
    desc: str,
    retries: int = 2,
    unit: str = "part",
) -> list[Any]:
    """Run ``fn(config, item)`` for every item as Dask tasks; results in item order.

    Items are partition ids (or small chunks of keys); the config travels once per task,
    which is cheap next to a partition's work.
    """
    if not items:
        return []
    futures = client.map(fn, [config] * len(items), items, pure=False, retries=retries)
    order = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(items)
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not config.progress) as bar:
        for future in as_completed(futures):
            results[order[future.key]] = future.result()
            bar.update(1)
    return results


def stream_tasks(
    client: Client,
    fn: Callable[..., Any],
    config: Config,
    items: Iterable,
    *,
    total: int,
    desc: str,
) -> Iterator[Any]:
    """Like :func:`map_tasks`, but yields results in item order with only a few tasks in
    flight (two per worker thread): a driver feeding millions of keys never holds every
    item, or every result, at once. ``items`` may be a generator; tasks get 2 retries."""
    window = 2 * max(1, sum(client.nthreads().values()))
    pending: deque = deque()
    with tqdm(total=total, desc=desc, unit="chunk", disable=not config.progress) as bar:
        for item in items:
            pending.append(client.submit(fn, config, item, pure=False, retries=2))
            if len(pending) >= window:
                yield pending.popleft().result()
                bar.update(1)
        while pending:
            yield pending.popleft().result()
            bar.update(1)
