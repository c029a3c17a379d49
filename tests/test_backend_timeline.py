"""Where a backend's time goes: the task stamps (zclib.tasktime) and what the
backend bench reads from a run's timeline (zclib.speed.backends.run_stats).

    .venv/bin/python -m pytest -q tests/test_backend_timeline.py

No cluster and no pool: hand-made timelines whose answers are known by hand.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from zclib import tasktime
from zclib.speed.backends import run_stats


def test_timed_returns_the_result_and_counts_the_tasks_of_its_process(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    result, first = tasktime.timed(lambda a, b: a + b, 2, 3)
    _result, second = tasktime.timed(sum, [1.0] * 1000)
    assert result == 5
    assert second["task_in_process"] == first["task_in_process"] + 1
    assert first["pid"] == os.getpid() and first["malloc_trim"] == "65536"
    assert first["start"] <= first["done"] and first["minor_faults"] >= 0
    assert 0 <= first["cpu_s"] <= first["process_cpu_s"] + 1e-3
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert tasktime.timed(int)[1]["malloc_trim"] is None


def task(saved, n=4, first=False, pid=1, cpu=2.0, shared=7):
    """A timeline entry: ``n`` cells saved at ``saved`` s after the call began."""
    return {
        "chunks": ["part-x"],
        "n_archs": n,
        "start": 100 + saved - 1,
        "done": 100 + saved,
        "saved": 100 + saved,
        "cpu_s": cpu,
        "process_cpu_s": cpu + 0.5,
        "minor_faults": 10 * n,
        "threads": 1,
        "pid": pid,
        "task_in_process": 1 if first else 2,
        "malloc_trim": None,
        "shared_id": shared,
    }


def frame(backend, tasks, **extra):
    df = pd.DataFrame({"arch_str": ["a"]})
    df.attrs["timeline"] = {"start": 100.0, "backend": backend, "tasks": tasks}
    df.attrs["timeline"].update(extra)
    return df


def test_steady_state_starts_when_every_worker_finished_its_first_task():
    # 2 workers: first tasks saved at 10 and 11 s (start-up), then a task every 2 s
    tasks = [task(10, first=True, pid=1), task(11, first=True, pid=2, cpu=4.0)]
    tasks += [task(11 + 2 * i, pid=1 + i % 2) for i in range(1, 9)]  # 8 more, 32 cells
    st = run_stats(frame("pool", tasks[::-1]), wall=30.0, workers=2)  # any order
    assert st["steady_tasks"] == 8
    assert st["steady_cells_per_s"] == pytest.approx(32 / 16)  # from 11 s to 27 s
    assert st["fixed_s"] == pytest.approx(30 - 40 / 2)
    assert st["first_task_start_s"] == pytest.approx(9)
    assert st["cpu_s_per_cell"] == pytest.approx((9 * 2.0 + 4.0) / 40)
    assert st["process_cpu_s_per_cell"] == pytest.approx((9 * 2.5 + 4.5) / 40)
    assert st["minor_faults_per_cell"] == pytest.approx(10)
    assert st["first_task_cpu_s_per_cell"] == pytest.approx(6.0 / 8)
    assert st["later_task_cpu_s_per_cell"] == pytest.approx(2.0 / 4)
    assert st["threads"] == [1] and st["malloc_trim"] == ["None"]
    assert "scatter_s" not in st
    # each task runs 1 s, saved at once; worker 1 ran 9-10, 14-15, 18-19, 22-23,
    # 26-27 s (waits 4+3+3+3), worker 2 10-11, 12-13, 16-17, 20-21, 24-25 (1+3+3+3)
    assert st["worker_idle_s"] == pytest.approx(13 + 10)
    assert st["done_to_saved_s"] == 0


def test_too_few_tasks_have_no_steady_state_and_dask_counts_scorer_copies():
    tasks = [task(5, first=True, pid=1), task(6, first=True, pid=2, shared=8)]
    tasks.append(task(8, pid=2, shared=9))  # worker 2 got a second scorer copy
    df = frame("dask", tasks, connected=102.5, scatter_s=0.5)
    st = run_stats(df, wall=9.0, workers=2)
    assert st["steady_tasks"] == 1
    assert st["steady_cells_per_s"] == pytest.approx(4 / 2)
    assert (st["connect_s"], st["scatter_s"]) == (2.5, 0.5)
    assert st["scorer_copies_per_worker"] == 2
    st = run_stats(frame("pool", tasks[:2]), wall=7.0, workers=2)
    assert st["steady_cells_per_s"] is None and st["fixed_s"] is None
