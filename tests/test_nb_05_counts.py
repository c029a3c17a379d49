"""Notebook 05's displayed frames keep counts integer-typed (issue 19: budgets and
cells shown as ``20000.000``).

    .venv/bin/python -m pytest -q tests/test_nb_05_counts.py

Runs the exhibit's functions as the notebook calls them, at the smoke sizes of
:data:`zclib.notebooks.SMOKE` (3 runs, 20 bootstrap resamples): a few seconds.
"""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from zclib import notebooks, reference, search
from zclib.exhibits import time_budget as ex
from zclib.search import lookup

DATASETS = ["cifar10", "cifar100", "ImageNet16-120"]
FITNESS, COST = "valid_acc_12ep", "train_time_12ep_s"  # the notebook's defaults
# the count columns of every frame the notebook shows (see the notebook's cells)
COUNTS = {
    "budgets": ["budget_s", "≈ cells per budget"],
    "final": ["budget_s", "runs"],
    "tests": ["budget_s", "n_a", "n_b", "n_boot"],
}


@pytest.fixture(scope="module")
def frames(shared_dir):
    n_runs, n_boot = notebooks.SMOKE["N_RUNS"], notebooks.SMOKE["N_BOOT"]
    algos = {
        "REA": (search.rea, {"population": 10, "sample": 3}),
        "RS": (search.random_search, {}),
        "REINFORCE": (search.reinforce, {"lr": 0.01, "momentum": 0.9}),
    }
    data = {ds: lookup.load(ds, []) for ds in DATASETS}
    b = reference.published(
        "dong2021_natsbench", "protocol_time_budget", metric="seconds"
    )
    budgets = {ds: float(v) for ds, v in zip(b["dataset"], b["value"], strict=True)}
    traces, wall = ex.run_budgets(data, budgets, algos, FITNESS, COST, n_runs, 0)
    return {
        "budgets": ex.budget_table(data, budgets, COST),
        "final": ex.final_table(traces, data, budgets, wall),
        "tests": ex.vs_random_search(traces, data, budgets, n_boot, 0, 0.95),
    }, budgets


@pytest.mark.parametrize("frame", sorted(COUNTS))
def test_count_columns_are_integer(frames, frame):
    df = frames[0][frame]
    for col in COUNTS[frame]:
        assert pd.api.types.is_integer_dtype(df[col]), f"{frame}.{col}: {df[col].dtype}"


def test_budgets_shown_are_the_budgets_searched(frames):
    shown, budgets = frames
    assert shown["budgets"]["budget_s"].to_dict() == {
        ds: int(b) for ds, b in budgets.items()
    }
    half = shown["tests"][shown["tests"]["budget_frac"] == 0.5]
    assert set(half["budget_s"]) == {int(b / 2) for b in budgets.values()}


def test_records_keep_float_budgets(frames):
    """numbers.json bytes are unchanged by the int column: budget_s stays a float
    there, and the metric names read ``20000s`` as before."""
    final, tests = frames[0]["final"], frames[0]["tests"]
    rec = ex.records(
        final, tests, pd.DataFrame(), FITNESS, COST, 12000, 1.0, 3, 0.95, True
    )
    budget_rows = [r for r in rec if "budget_s" in r]
    assert budget_rows and all(type(r["budget_s"]) is float for r in budget_rows)
    assert any(r["metric"].endswith(", 20000s)") for r in rec)


def test_executed_notebook_prints_budgets_as_ints(tmp_path, shared_dir):
    """End to end: the tables of the executed notebook (smoke size) show every
    budget as ``20000``, never ``20000.00``."""
    name = "05_search_baselines_time_budget"
    notebooks.run(name, smoke=True, results_dir=tmp_path)
    nb = nbformat.read(tmp_path / name / f"{name}.ipynb", as_version=4)
    html = "\n".join(
        o["data"]["text/html"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    )
    b = reference.published("dong2021_natsbench", "protocol_time_budget")
    shown = {int(v) for v in b["value"]} | {int(v) // 2 for v in b["value"]}
    for v in shown:
        assert re.search(rf">\s*{v}\s*<", html), f"budget {v} not shown"
        assert not re.search(rf">\s*{v}\.\d+\s*<", html), f"budget {v} as a float"
