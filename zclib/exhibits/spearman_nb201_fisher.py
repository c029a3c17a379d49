"""Notebook 01's fisher checks: the sample fisher on the reference network
(``fisher_fs``) is read on, and that fisher over the whole space where the shipped
table has its column for every cell.

    from zclib.exhibits import spearman_nb201_fisher as fx
    fx.fisher_sample_effect(tabs, fish, corr)   # |rho| on the fisher cells vs all
    table, rows = fx.fisher_fullspace(tabs, pub_wide, None, n_boot=1000, tolerance=0.03)
"""

from __future__ import annotations

import pandas as pd

from zclib import data, results, stats
from zclib.exhibits.spearman_nb201 import EXPERIMENT, FISH, TARGETS, abs_ci, checked


def fisher_sample_effect(tabs, fish, corr: pd.DataFrame) -> pd.DataFrame:
    """|ρ| vs test accuracy of fisher_fs and a few others (the official network's
    fisher among them) over exactly the fisher_fs cells, beside their value over all
    loaded cells."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    rows = []
    for ds, tab in tabs.items():
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
    return pd.DataFrame(rows).set_index(["dataset", "proxy"])


def fisher_fullspace(
    tabs,
    pub_wide: pd.DataFrame,
    n_archs: int | None,
    n_boot: int,
    tolerance: float,
    seed: int = 0,
) -> tuple[pd.DataFrame, list[dict]]:
    """fisher_fs over the whole space where its shipped table covers every cell
    (table, recorded rows); nothing when ``n_archs`` is a sample."""
    table, records = [], []
    for ds, tab in tabs.items():
        n_cov = results.variant_coverage(ds, "fisher", "foresight", seed)
        if n_archs is not None or n_cov < len(tab):
            continue
        fs = results.load_scores(
            ds, ["fisher"], n_archs=None, seed=seed, variant="foresight"
        )
        t = results.with_accuracy(fs, ds)
        published = float(pub_wide.loc["fisher", ds])
        stand_in = results.is_stand_in(ds)
        images = data.stand_in_label(results.score_stand_in(ds))
        for target in TARGETS:
            y, x = t[target].to_numpy(dtype=float), t["fisher"].to_numpy(dtype=float)
            rho, lo, hi = stats.bootstrap_ci(x, y, n_boot=n_boot, seed=seed)
            a, alo, ahi = abs_ci(rho, lo, hi)
            table.append(
                {
                    "dataset": ds,
                    "target": target,
                    "|rho|": a,
                    "CI": f"[{alo:.3f}, {ahi:.3f}]",
                    "n": len(t),
                    "published": published,
                    "delta": a - published,
                    "within": results.compare(
                        a, published, tolerance, checked(ds, target)
                    ),
                }
            )
            rec = {
                "experiment": EXPERIMENT,
                "metric": f"fisher_fs:abs_spearman_all_{target}_fullspace",
                "dataset": ds,
                "value": a,
                "stand_in": stand_in,
                "note": f"{TARGETS[target]}; fisher on the foresight network "
                f"variant over all {len(t):,} cells (shipped table), not a "
                "sample" + (f"; STAND-IN images: {images}" if stand_in else ""),
                "method": "fisher_fs",
                "target": target,
                "subset": "all",
                "rho": rho,
                "ci_lo": alo,
                "ci_hi": ahi,
                "n": len(t),
            }
            if checked(ds, target):
                rec.update(published=published, tolerance=tolerance)
            records.append(rec)
    if not table:
        return pd.DataFrame(), records
    return pd.DataFrame(table).set_index(["dataset", "target"]), records
