"""The tidy benchmark table's columns and dtypes, shared by both sources.

    from zclib.bench.schema import COLUMNS, tidy
    df = tidy(raw)  # sorted by index, derived 12-epoch time, COLUMNS in order

The columns are described in :mod:`zclib.bench`.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = (
    "index",
    "arch_str",
    "unique_str",
    "test_acc",
    "valid_acc",
    "valid_acc_seeds",
    "valtest_acc",
    "test_acc_12ep",
    "valid_acc_12ep",
    "params_M",
    "flops_M",
    "train_time_200ep_s",
    "train_time_12ep_s",
)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns, column order and dtypes shared by both sources."""
    df = df.sort_values("index", ignore_index=True)
    # Training time scales with epochs: the 12-epoch schedule is 12/200 of it.
    df["train_time_12ep_s"] = df["train_time_200ep_s"] * (12 / 200)
    df = df[list(COLUMNS)].astype({"index": "int64", "valid_acc_seeds": "int64"})
    float_cols = [
        c
        for c in COLUMNS
        if c not in ("index", "arch_str", "unique_str", "valid_acc_seeds")
    ]
    return df.astype({c: "float64" for c in float_cols})
