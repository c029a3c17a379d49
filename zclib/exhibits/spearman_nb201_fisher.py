"""Notebook 01's fisher check: when ``fisher_fs`` (fisher on the reference
network) is read on a smaller sample than the other scores (``FISHER_N`` below
``N_ARCHS``), how much the sample alone moves |rho|.

    from zclib.exhibits import spearman_nb201_fisher as fx
    fx.fisher_sample_effect(tabs, fish, corr)   # |rho| on the fisher cells vs all

By default ``fisher_fs`` is over the same cells as every other score (the clean
tables hold it for all 15,625), and the table is empty.
"""

from __future__ import annotations

import pandas as pd

from zclib import stats
from zclib.exhibits.spearman_nb201 import FISH


def fisher_sample_effect(tabs, fish, corr: pd.DataFrame) -> pd.DataFrame:
    """|ρ| vs test accuracy of fisher_fs and a few others (the official network's
    fisher among them) over exactly the fisher_fs cells, beside their value over all
    loaded cells; empty where the fisher cells are all the loaded cells."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    rows = []
    for ds, tab in tabs.items():
        if len(fish[ds]) == len(tab):
            continue  # fisher_fs is over every loaded cell: no sample effect
        sub = tab[tab["arch_str"].isin(set(fish[ds]["arch_str"]))]
        sub = sub.drop(columns=FISH, errors="ignore")  # a partial shipped column
        sub.attrs = {}
        sub = sub.merge(fish[ds][["arch_str", *FISH]], on="arch_str")
        y = sub["test_acc"].to_numpy(dtype=float)
        on_sample = stats.correlation_table(
            sub, y, [*FISH, "fisher", "synflow", "snip"]
        )
        for r in on_sample.itertuples():
            full = allc.loc[(ds, "test_acc", r.proxy)]
            rows.append(
                {
                    "dataset": ds,
                    "proxy": r.proxy,
                    "|rho| fisher cells": abs(r.rho),
                    "n": r.n,
                    "|rho| all loaded cells": full["abs_rho"],
                    "n all": int(full["n"]),
                }
            )
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index(["dataset", "proxy"])
