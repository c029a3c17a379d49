"""Where a backend's time goes: what one task did in its worker process.

    from zclib import tasktime
    result, stamps = tasktime.timed(fn, *args)  # in the worker
    stamps["cpu_s"], stamps["minor_faults"], stamps["threads"]

Both scoring backends (the ``multiprocessing`` pool and Dask, :mod:`zclib.cluster`)
wrap each task in :func:`timed` and hand the stamps back with the result, so that
:func:`zclib.scoring.score_archs` can give a timeline of the run
(``df.attrs["timeline"]``) and ``python -m zclib speed-backends`` can compare the
backends on counts that do not depend on the machine's load: CPU seconds of the
task's thread and of its whole process (the difference is what the worker's other
threads, e.g. Dask's event loop and profiler, took meanwhile), minor page faults
(the allocator returning memory to the kernel and faulting it in again shows here:
Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``, see :mod:`zclib.cluster`), the torch
threads the task ran with, and whether it was the first task of its process (the
one that pays the imports and the first allocations).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable

_TASKS_IN_PROCESS = 0  # tasks this process has run through timed()


def timed(fn: Callable, *args) -> tuple[object, dict]:
    """``fn(*args)`` and what it cost this process.

    Args:
        fn: the task.
        *args: its arguments.

    Returns:
        ``(fn(*args), stamps)``; stamps: ``start``, ``done`` (``time.time()`` of
        this host), ``cpu_s`` (this thread), ``process_cpu_s`` (all threads of the
        process), ``minor_faults``, ``threads`` (torch's), ``pid``,
        ``task_in_process`` (1 for the first task of this process) and
        ``malloc_trim`` (this process's ``MALLOC_TRIM_THRESHOLD_``, None if unset).
    """
    global _TASKS_IN_PROCESS
    import torch  # imported here: the module is light for the client

    _TASKS_IN_PROCESS += 1
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cpu0, proc0, start = time.thread_time(), time.process_time(), time.time()
    result = fn(*args)
    stamps = {
        "start": start,
        "done": time.time(),
        "cpu_s": time.thread_time() - cpu0,
        "process_cpu_s": time.process_time() - proc0,
        "minor_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0,
        "threads": torch.get_num_threads(),
        "pid": os.getpid(),
        "task_in_process": _TASKS_IN_PROCESS,
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
    }
    return result, stamps
