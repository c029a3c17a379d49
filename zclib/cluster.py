r"""The Dask backend: chunks of the long jobs as tasks on a Dask distributed cluster.

    python -m zclib score --n 1000 --out s.parquet --backend dask --workers 4
    python -m zclib score --n 1000 --out s.parquet --backend dask \
        --scheduler tcp://10.0.0.5:8786
    python -m zclib train --n 20 --setting r8c4e20 --backend dask --workers 2

    from zclib import cluster
    with cluster.connect(workers=2) as client:  # a LocalCluster on 127.0.0.1
        cluster.run(client, fn, shared, [(key, args), ...], save)

Used by :func:`zclib.scoring.score_archs` and :func:`zclib.train.sweep` with
``backend="dask"`` (the default backend, ``"pool"``, is unchanged: this process, or
a ``multiprocessing`` pool). What this module does:

- :func:`connect`: a ``LocalCluster`` of ``workers`` processes with one thread each,
  bound to 127.0.0.1 (its HTTP port too, any free one); or a client of an existing
  cluster (``tcp://HOST:PORT``, e.g. one that ``dask-jobqueue`` started on SLURM:
  README).
- :func:`run`: one task per chunk. ``shared`` (the scorer with its drawn batches,
  the training tensors) is scattered once to every worker; each task gets it and
  its own arguments, so the workers need zclib but neither the data files nor a
  shared file system. At most ``window`` tasks are in flight; the client, the only
  writer, hands each finished chunk to ``save`` (the callers write it with
  :mod:`zclib.chunks`' atomic writer), so resume and the configuration guard work
  as in the default backend; a client killed mid-run loses the tasks in flight.
- A worker that dies mid-task (its nanny restarts it) has its task rescheduled by
  the scheduler (up to ``distributed.scheduler.allowed-failures`` times, 3 by
  default). Deviation from "scatter once": if every worker holding the scattered
  object dies at once, its tasks fail (``FutureCancelledError``); rerun the same
  command, it resumes.
- Each task returns :func:`worker_info` (address, host, CPU, load) with its result;
  the callers record it per chunk.

``distributed`` is the optional ``[dask]`` extra (pinned with ``dask`` and
``dask-jobqueue`` in pyproject.toml); without it :class:`MissingDaskError`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator

BACKENDS = ("pool", "dask")  # pool: this process or multiprocessing (the default)


class MissingDaskError(ImportError):
    """The ``[dask]`` extra (``distributed``) is not installed."""


def require():
    """The ``distributed`` module, or :class:`MissingDaskError` saying what to install.

    Imported here, not at module top: the library does not need it.
    """
    try:
        import distributed
    except ImportError as exc:
        raise MissingDaskError(
            f"--backend dask needs the [dask] extra ({exc.name} is missing): "
            "pip install -e '.[dask]' (make env installs it)"
        ) from None
    return distributed


def check_backend(backend: str, workers: int, scheduler: str | None) -> None:
    """ValueError for a backend name, worker count or scheduler that do not fit."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    if scheduler and backend != "dask":
        raise ValueError("--scheduler needs --backend dask")
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")


@contextlib.contextmanager
def connect(workers: int = 1, scheduler: str | None = None) -> Iterator:
    """A Dask client: of a new LocalCluster, or of the cluster at ``scheduler``.

    Args:
        workers: LocalCluster worker processes (one thread each); ignored with
            ``scheduler``.
        scheduler: address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``;
            None: start a LocalCluster on 127.0.0.1 (closed on exit).

    Returns:
        A context manager giving a ``distributed.Client``.
    """
    distributed = require()
    if scheduler:
        with distributed.Client(scheduler) as client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # any free port (8787 may be taken)
        ) as local,
        distributed.Client(local) as client,
    ):
        client.wait_for_workers(workers)  # all of them take the first tasks
        yield client


def describe(client) -> dict:
    """What the provenance records of a cluster: its worker and thread counts."""
    nthreads = client.nthreads()
    return {"dask_workers": len(nthreads), "dask_threads": sum(nthreads.values())}


def worker_info() -> dict:
    """The worker running this task: Dask address, host name, CPU, 1-min load."""
    from distributed import get_worker

    # imported here: zclib.scoring imports this module
    from zclib.scoring.scorer import device_name

    return {
        "worker": get_worker().address,
        "host": socket.gethostname(),
        "cpu": device_name("cpu"),
        "loadavg_1min": os.getloadavg()[0],
    }


def _call(fn: Callable, shared, threads: int, args: tuple):
    """On a worker: ``fn(shared, *args)`` with ``threads`` torch threads."""
    import torch

    torch.set_num_threads(threads)
    return fn(shared, *args), worker_info()


def run(
    client,
    fn: Callable,
    shared,
    tasks: Iterable[tuple[str, tuple]],
    save: Callable[[str, object, dict], None],
    *,
    threads: int = 1,
    window: int | None = None,
    in_time: Callable[[], bool] = lambda: True,
) -> int:
    """Run ``fn(shared, *args)`` on the cluster for each ``(key, args)``, saving here.

    Args:
        client: a ``distributed.Client`` (:func:`connect`).
        fn: a module-level function (the workers import it by name).
        shared: scattered once to every worker and passed as the first argument.
        tasks: ``(key, args)`` per chunk; ``key`` names it to ``save``.
        save: called in this process as each task finishes, in the order they
            finish, with ``(key, result, worker_info())``.
        threads: torch threads per task (one per Dask thread: 1).
        window: most tasks in flight (None: 2 x the cluster's threads, counted
            anew after each task, so workers that join later, e.g. SLURM jobs
            still queued at the start, get work).
        in_time: no task is submitted once it returns False (those in flight are
            still saved).

    Returns:
        The number of tasks submitted.
    """
    distributed = require()
    shared_f = client.scatter(shared, broadcast=True, hash=False)
    queue = iter(tasks)
    names: dict[str, str] = {}  # Dask key -> our key
    pending = distributed.as_completed()
    token = uuid.uuid4().hex[:8]  # Dask keys unique per call (a resume resubmits)

    def top_up() -> None:
        most = window or 2 * max(1, sum(client.nthreads().values()))
        while pending.count() < most and in_time():
            item = next(queue, None)
            if item is None:
                return
            key, args = item
            fut = client.submit(
                _call, fn, shared_f, threads, args, key=f"zclib-{key}-{token}"
            )
            names[fut.key] = key
            pending.add(fut)

    try:
        top_up()
        for fut in pending:
            result, info = fut.result()
            save(names[fut.key], result, info)
            fut.release()
            top_up()
    finally:  # interrupted: nothing more runs for this call
        client.cancel(list(pending.futures))
        client.cancel(shared_f)
    return len(names)
