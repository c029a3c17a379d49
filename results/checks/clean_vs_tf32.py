"""How far does each full-space Spearman move from the TF32 table to the clean one?

    python results/checks/clean_vs_tf32.py [dataset ...]

An early look at what issue 14's switch will move, per dataset whose clean fp32 table
(``results/scores/fp32/nb201_<dataset>.parquet``) is complete: over the cells both
tables score, the Spearman rho of every shared proxy (and the Copeland vote) with
the 200-epoch test and valid accuracy, in the shipped TF32 table and in the clean one,
and their difference. The notebooks' own before -> after comes from their re-recorded
summaries (``zclib.findings.moved``) when they switch; this check only says, ahead of
that, whether a number will move by more than the notebooks' 0.03 tolerance. A
proxy from a partial add-on table (the shipped ``fisher``, a CPU fp32 table over
part of the space) scores fewer cells (``n_tf32``): its clean rho is also given over
those cells (``rho_fp32_same_cells``), which separates the scores' change from the
sample's. For ImageNet16-120 the clean table is made from the
official-classes stand-in and the TF32 one from the old stand-in, so there the change
mixes fp32 with other images. Writes
``clean_vs_tf32_<dataset>.json`` beside this file.

The switch removed the TF32 tables: they are read from git, at the last commit that
shipped them (``TF32_COMMIT``), so this check can be rerun from a clone with history.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zclib import results, stats
from zclib.exhibits.spearman_nb201 import TARGETS
from zclib.fileio import read_parquet
from zclib.paths import PROJECT_ROOT
from zclib.provenance import provenance

HERE = Path(__file__).parent
CLEAN = results.SCORES_DIR  # the clean tables (results/scores/fp32)
VOTE = "vote"
# the last commit with the TF32 tables
TF32_COMMIT = "e031dfdaaad367682c802f83281bea210eccde82"


def _at_commit(name: str) -> pd.DataFrame:
    blob = subprocess.run(
        ["git", "show", f"{TF32_COMMIT}:results/scores/{name}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return pd.read_parquet(io.BytesIO(blob))


def tf32_table(ds: str) -> pd.DataFrame:
    """The TF32 GPU table of a dataset with its partial CPU fisher add-on joined
    (NaN where the add-on lacks a cell), as ``results.shipped`` read them then."""
    add = _at_commit(f"nb201_{ds}_fisher.parquet")[["arch_str", "fisher"]]
    return _at_commit(f"nb201_{ds}.parquet").merge(add, on="arch_str", how="left")


def compare(ds: str) -> dict:
    old = tf32_table(ds)  # the TF32 table + its partial add-on (fisher)
    new = read_parquet(CLEAN / f"nb201_{ds}.parquet")
    shared = [
        c
        for c in new.columns
        if c in old.columns and c not in results.SCORE_META and c != "arch_str"
    ]
    shared = [c for c in shared if c != "index"]
    cells = sorted(set(old["arch_str"]) & set(new["arch_str"]))
    tabs = {}
    for name, t in (("tf32", old), ("fp32", new)):
        t = t.set_index("arch_str").loc[cells].reset_index()
        t = results.with_accuracy(t, ds)
        # the vote over the proxies of the paper's majority, from each table's own
        # scores (stats.vote_score reads the columns it needs)
        t[VOTE] = stats.vote_score(t).to_numpy()
        tabs[name] = t
    rows = []
    for target in TARGETS:
        per = {
            name: stats.correlation_table(t, t[target], [*shared, VOTE]).set_index(
                "proxy"
            )
            for name, t in tabs.items()
        }
        for p in [*shared, VOTE]:
            a, b = per["tf32"].loc[p], per["fp32"].loc[p]
            # the clean rho over the cells the old table scored (a partial add-on's)
            old_t, new_t = tabs["tf32"], tabs["fp32"]
            on = np.isfinite(old_t[p].to_numpy(dtype=float))
            same = stats.correlation_table(
                new_t[on].reset_index(drop=True),
                new_t.loc[on, target].to_numpy(),
                [p],
            ).iloc[0]
            rows.append(
                {
                    "target": target,
                    "proxy": p,
                    "rho_tf32": float(a.rho),
                    "rho_fp32": float(b.rho),
                    "change": float(b.rho - a.rho),
                    "rho_fp32_same_cells": float(same.rho),
                    "change_same_cells": float(same.rho - a.rho),
                    "n_tf32": int(a.n),
                    "n_fp32": int(b.n),
                }
            )
    biggest = max(rows, key=lambda r: abs(np.nan_to_num(r["change_same_cells"])))
    return {
        "dataset": ds,
        "cells": len(cells),
        "stand_in": results.is_stand_in(ds),
        "rows": rows,
        "largest_change": biggest,
        "provenance": provenance(
            dataset=ds,
            scores=[
                f"{TF32_COMMIT}:results/scores/nb201_{ds}.parquet",
                str(CLEAN / f"nb201_{ds}.parquet"),
            ],
        ),
    }


def main():
    datasets = sys.argv[1:] or ["cifar10"]
    for ds in map(results.canonical_dataset, datasets):
        if not (CLEAN / f"nb201_{ds}.parquet").exists():
            sys.exit(f"{ds}: the clean table is not complete (not merged in {CLEAN})")
        out = compare(ds)
        path = HERE / f"clean_vs_tf32_{ds}.json"
        path.write_text(json.dumps(out, indent=1, default=str) + "\n")
        print(f"{ds}: {out['cells']} cells")
        for r in out["rows"]:
            print(
                f"  {r['target']:9s} {r['proxy']:10s} {r['rho_tf32']:+.4f} -> "
                f"{r['rho_fp32']:+.4f}  ({r['change']:+.4f}; "
                f"n {r['n_tf32']}/{r['n_fp32']}; "
                f"on the old cells {r['rho_fp32_same_cells']:+.4f}, "
                f"{r['change_same_cells']:+.4f})"
            )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
