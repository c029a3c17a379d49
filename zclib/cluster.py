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
  bound to 127.0.0.1 (its HTTP port too, any free one; :func:`local_cluster`); or
  a client of an existing cluster (``tcp://HOST:PORT``, e.g. one that
  ``dask-jobqueue`` started on SLURM: README). Deviation from Dask's defaults: the
  LocalCluster's workers do not get ``MALLOC_TRIM_THRESHOLD_=65536`` (Dask's
  ``distributed.nanny.pre-spawn-environ``). Set, it turns glibc's dynamic mmap
  threshold off, so every tensor over 128 KiB is a fresh ``mmap`` whose pages
  fault in anew: all 16 proxies on a CIFAR-10 cell took ~2.4 million minor page
  faults with it and ~2 without (:mod:`zclib.tasktime` counts them per task), and
  the pool's processes do not have it. The nannies run in this process and set
  their variables in its ``os.environ``; :func:`local_cluster` puts it back on
  exit, so processes spawned later (a pool) do not inherit them. Workers started
  by hand or by ``dask-jobqueue`` get Dask's default unless configured (README);
  :func:`run` warns once per such worker (:class:`SlowWorkerWarning`). Second
  deviation: the LocalCluster's workers run without Dask's statistical profiler
  (``distributed.worker.profile``, a stack sample every 10 ms, shown only on the
  dashboard's profile page): the CPU that a worker's other threads took while a
  task ran (:mod:`zclib.tasktime`: ``process_cpu_s - cpu_s``) fell from ~0.6 to
  ~0.26 s per cell of ~5.5 s with it off (all 16 proxies, CIFAR-10, 2 workers);
  the pool's processes have ~0. The rest is Dask's event loop, heartbeats and
  monitors, not changed here. Third deviation: the LocalCluster's scheduler never
  drops a worker for missed heartbeats (``distributed.scheduler.worker-ttl``,
  Dask's default 5 minutes, set to None). A background job paused with ``kill
  -STOP`` (as one is for a benchmark) otherwise lost its scattered data on
  ``kill -CONT`` after a pause of over 5 minutes and died with
  ``FutureCancelledError`` (2026-12-04, the EcoNAS job after an 18-minute pause;
  reproduced with a 5 s ttl and a 15 s pause, which None survives). A worker
  process that dies is still noticed at once by its nanny.
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
- Each task returns :func:`worker_info` (address, host, CPU, load) and its
  :func:`zclib.tasktime.timed` stamps with its result; the callers record the
  former per chunk; :func:`run` adds the client's stamps (submitted, received,
  saved) to ``record`` when given one.

``distributed`` is the optional ``[dask]`` extra (pinned with ``dask`` and
``dask-jobqueue`` in pyproject.toml); without it :class:`MissingDaskError`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator

from zclib import tasktime

BACKENDS = ("pool", "dask")  # pool: this process or multiprocessing (the default)
# What local_cluster() changes of Dask's defaults (module docstring): no
# MALLOC_TRIM_THRESHOLD_ from the nannies, no statistical profiler in the workers,
# no worker dropped for missed heartbeats
LOCAL_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.worker-ttl": None,  # survive kill -STOP / -CONT
}


class MissingDaskError(ImportError):
    """The ``[dask]`` extra (``distributed``) is not installed."""


class SlowWorkerWarning(UserWarning):
    """A worker runs with ``MALLOC_TRIM_THRESHOLD_`` set (module docstring)."""


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
        local_cluster(workers) as local,
        distributed.Client(local) as client,
    ):
        client.wait_for_workers(workers)  # all of them take the first tasks
        yield client


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator:
    """A ``LocalCluster`` on 127.0.0.1: ``workers`` processes, one thread each,
    without ``MALLOC_TRIM_THRESHOLD_``; ``os.environ`` is put back on exit (module
    docstring).

    Args:
        workers: worker processes.

    Returns:
        A context manager giving the ``distributed.LocalCluster``.
    """
    distributed = require()
    import dask

    before = dict(os.environ)  # the nannies run here and set their variables here
    try:
        # the nannies read the config as they are made: set only meanwhile (a
        # config left set would reach clusters made later, in this process)
        with dask.config.set(LOCAL_CONFIG):
            local = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # any free port (8787 may be taken)
            )
        with local:
            yield local
    finally:
        for key in set(os.environ) - set(before):
            del os.environ[key]
        os.environ.update(before)


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
    """On a worker: ``fn(shared, *args)`` with ``threads`` torch threads; returns
    the result and :func:`worker_info` with the task's :func:`tasktime.timed`
    stamps. ``shared`` is the worker's one deserialized copy of the scattered
    object (the same for every task: stamps' ``shared_id``)."""
    import torch

    if torch.get_num_threads() != threads:  # once per process
        torch.set_num_threads(threads)
    result, stamps = tasktime.timed(fn, shared, *args)
    return result, {**worker_info(), **stamps, "shared_id": id(shared)}


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
    record: dict | None = None,
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
        record: when given, gets ``scatter_s`` (seconds to scatter ``shared``) and
            ``tasks``: per task in the order saved, the worker's stamps
            (:func:`_call`) and the client's ``submitted``, ``received`` and
            ``saved`` (``time.time()``).

    Returns:
        The number of tasks submitted.
    """
    distributed = require()
    record = {} if record is None else record
    t0 = time.time()
    shared_f = client.scatter(shared, broadcast=True, hash=False)
    record["scatter_s"] = time.time() - t0
    record["tasks"] = []
    queue = iter(tasks)
    names: dict[str, str] = {}  # Dask key -> our key
    submitted: dict[str, float] = {}  # Dask key -> time.time()
    trimmed: set[str] = set()  # workers warned of MALLOC_TRIM_THRESHOLD_
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
            submitted[fut.key] = time.time()
            pending.add(fut)

    try:
        top_up()
        for fut in pending:
            result, info = fut.result()
            received = time.time()
            if info["malloc_trim"] is not None and info["worker"] not in trimmed:
                trimmed.add(info["worker"])
                warnings.warn(
                    f"Dask worker {info['worker']} runs with MALLOC_TRIM_THRESHOLD_="
                    f"{info['malloc_trim']}: torch's allocations fault their pages "
                    "in anew, tasks are slower (README, 'Past one machine: Dask')",
                    SlowWorkerWarning,
                    stacklevel=2,
                )
            save(names[fut.key], result, info)
            stamps = {"key": names[fut.key], "submitted": submitted[fut.key]}
            stamps |= {"received": received, "saved": time.time()}
            record["tasks"].append({**info, **stamps})
            fut.release()
            top_up()
    finally:  # interrupted: nothing more runs for this call
        client.cancel(list(pending.futures))
        client.cancel(shared_f)
    return len(names)
