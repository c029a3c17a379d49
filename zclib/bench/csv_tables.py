"""The offline CSV exports of NATS-Bench, joined into the tidy table.

    from zclib.bench.csv_tables import CSV_RELPATHS, csv_table
    df = csv_table("cifar10", *(root / rel for rel in CSV_RELPATHS))

Three files under ``<data root>/nats-bench/`` (:data:`CSV_RELPATHS`); they carry
no FLOPs (``flops_M`` is NaN: zclib computes FLOPs from the network).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zclib.bench.schema import tidy
from zclib.space import NUM_ARCHS

CSV_RELPATHS = (
    "nats-bench/nats_tss_test_acc_200ep.csv",  # 200-epoch test acc, row i = index i
    "nats-bench/nats_tss_12ep_acc.csv",  # 12-epoch valid/test acc
    "nats-bench/nats_tss_200ep_per_seed.csv",  # 200-epoch per-seed results
)
_CSV_TEST_COLUMN = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}


def csv_table(ds: str, test_csv: Path, ep12_csv: Path, seeds_csv: Path):
    """Join the three CSV exports into the tidy table of ``ds``."""
    test = pd.read_csv(test_csv)
    if len(test) != NUM_ARCHS:
        raise ValueError(f"{test_csv}: {len(test)} rows, expected {NUM_ARCHS}")
    df = pd.DataFrame(
        {
            "index": np.arange(NUM_ARCHS),  # row i of this file is benchmark index i
            "arch_str": test["ArchitectureString"],
            "unique_str": test["UniqueString"],
            "test_acc": test[_CSV_TEST_COLUMN[ds]],
        }
    )

    ep12 = pd.read_csv(ep12_csv).set_index("index").sort_index()
    _check_indices(ep12.index, ep12_csv)
    _check_same_archs(df["arch_str"], ep12["arch_str"], test_csv, ep12_csv)
    df["test_acc_12ep"] = ep12[f"{ds}_test_12ep"].to_numpy()
    df["valid_acc_12ep"] = ep12[f"{ds}_valid_12ep"].to_numpy()

    seeds = pd.read_csv(seeds_csv)
    seeds = seeds[seeds["dataset"] == ds]
    per_cell = seeds.groupby("index").agg(
        valid_acc=("valid_acc_200ep", "mean"),
        valid_acc_seeds=("valid_acc_200ep", "count"),
        # the whole test set (the x-valid and x-test halves); empty for cifar10
        valtest_acc=("test_acc_200ep", "mean"),
        train_time_200ep_s=("train_time_200ep_s", "mean"),
        params_M=("params_mb", "first"),  # same for every seed
    )
    _check_indices(per_cell.index, f"{seeds_csv} (dataset {ds})")
    df = df.join(per_cell, on="index")
    df["flops_M"] = np.nan  # not in these files; zclib computes FLOPs from the net
    return tidy(df)


def _check_indices(index: pd.Index, where) -> None:
    if not index.equals(pd.RangeIndex(NUM_ARCHS)):
        missing = sorted(set(range(NUM_ARCHS)) - set(index))[:5]
        raise ValueError(
            f"{where}: indices are not exactly 0..{NUM_ARCHS - 1} "
            f"({len(index)} rows; first missing: {missing})"
        )


def _check_same_archs(a: pd.Series, b: pd.Series, file_a, file_b) -> None:
    bad = np.flatnonzero(a.to_numpy() != b.to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"arch strings disagree between {file_a} and {file_b} at {bad.size} "
            f"indices; first, index {i}: {a.iloc[i]!r} vs {b.iloc[i]!r}"
        )
