"""Counts stay integer-typed in the frames notebooks 00 and 07 show (issue 19:
``15625.000``); notebook 05's are checked in test_nb_05_counts.py.

    .venv/bin/python -m pytest -q tests/test_exhibit_counts.py
"""

from __future__ import annotations

import pandas as pd
import pytest

from zclib.exhibits import data_check as dc
from zclib.exhibits import econas as ec

DATASETS = ["cifar10", "cifar100", "ImageNet16-120"]


@pytest.fixture(scope="module")
def data_check_rows(shared_dir):
    img = dc.images(DATASETS)
    tables, archs, sample = dc.benchmark_sample(DATASETS, 50, 0)
    meta_df, cov = dc.shipped_tables(DATASETS)
    return img, dc.records(DATASETS, img, tables, archs, sample, meta_df, cov)


def test_00_image_counts_are_integer(data_check_rows):
    img, _ = data_check_rows
    for col in ("n_train", "n_test"):
        assert pd.api.types.is_integer_dtype(img[col]), img[col].dtype


def test_00_records_table_shows_counts_as_ints(data_check_rows):
    _, rows = data_check_rows
    shown = dc.records_table(rows)
    assert pd.api.types.is_integer_dtype(shown["count"])
    assert pd.api.types.is_float_dtype(shown["value"])
    counts = shown[shown["metric"].isin(dc.COUNT_METRICS)]
    assert len(counts) and counts["value"].isna().all()
    bench_rows = shown.loc[shown["metric"] == "n_archs_benchmark", "count"]
    assert (bench_rows == 15625).all()
    acc = shown[shown["metric"] == "mean_test_acc_200ep"]
    assert acc["count"].isna().all() and acc["value"].between(0, 100).all()
    # every row is in exactly one of the two columns (or neither: a missing split)
    assert not (shown["count"].notna() & shown["value"].notna()).any()


def test_07_run_summary_counts_are_integer():
    runs = pd.DataFrame(
        {
            "setting": ["a", "a", "b"],
            "arch_str": ["x", "y", "x"],
            "test_acc": [30.0, 31.0, 40.0],
            "cpu_seconds": [1.0, 2.0, 3.0],
            "seconds": [1.0, 2.0, 3.0],
            "train_flops": [1e9, 1e9, 2e9],
            "n_train": [5000.0, 5000.0, 500.0],  # the runs table stores floats
            "epochs": [20.0, 20.0, 1.0],
        }
    )
    s = ec.run_summary(runs)
    for col in ("archs", "images", "epochs"):
        assert pd.api.types.is_integer_dtype(s[col]), (col, s[col].dtype)
    assert s.loc["a", "images"] == 5000 and s.loc["b", "epochs"] == 1


def test_07_correlation_table_keeps_n_integer():
    corr_df = pd.DataFrame(
        [
            {"proxy": p, "kind": k, "target": t, "rho": r, "lo": r - 0.1}
            | {"hi": r + 0.1, "n": n}
            for p, k, n, r in [
                ("s@1", "reduced training", 4, 0.5),
                ("syn", "z", 60, 0.8),
            ]
            for t in ("test_acc", "valid_acc")
        ]
    )
    wide = ec.correlation_table(corr_df)
    assert pd.api.types.is_integer_dtype(wide[("n", "test_acc")])
    assert wide.loc[("z", "syn"), ("n", "valid_acc")] == 60
    assert list(wide.index) == [("reduced training", "s@1"), ("z", "syn")]
    assert wide.loc[("z", "syn"), ("rho", "test_acc")] == pytest.approx(0.8)
