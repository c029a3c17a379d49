"""Is the foresight-network fisher gap a sampling effect? Its |rho| over all cells.

    python results/checks/fisher_fs_fullspace.py cifar100

Reads the shipped foresight-network fisher table of one dataset (it must cover all
15,625 cells: run ``python -m zclib score --variant foresight --proxies fisher`` on
the missing cells into ``results/cache/scores/`` and ``results.export_partial``),
and reports |Spearman| with the 200-epoch test (and validation) accuracy over the
whole space and over the first 3,000 cells of the seed-0 sample that notebook 01
uses, with bootstrap CIs, beside the published value. For scale, the shipped
full-space proxies are correlated over the same two cell sets: how far the
3,000-cell sample sits from the full space for them. Writes
``fisher_fs_fullspace_<dataset>.json``.
"""

import json
import sys
from pathlib import Path

import numpy as np

from zclib import reference, results, space, stats
from zclib.provenance import provenance

ds = results.canonical_dataset(sys.argv[1] if len(sys.argv) > 1 else "cifar100")
n_shipped = results.variant_coverage(ds, "fisher", "foresight")
if n_shipped < space.NUM_ARCHS:  # compute_scores would score the rest here, for hours
    sys.exit(
        f"the shipped foresight fisher table of {ds} covers {n_shipped} cells, "
        f"not all {space.NUM_ARCHS}"
    )
fs = results.compute_scores(
    ds, ["fisher"], n_archs=None, variant="foresight", progress=False
)
SHIPPED = [
    "grad_norm",
    "snip",
    "grasp",
    "synflow",
    "jacob_cov",
    "naswot",
    "zico",
    "params",
]  # full-space columns of the shipped table (not fisher: partial)
tab = results.with_accuracy(results.compute_scores(ds, SHIPPED, progress=False), ds)
tab = tab.merge(
    fs[["arch_str", "fisher"]].rename(columns={"fisher": "fisher_fs"}), on="arch_str"
)
assert len(tab) == space.NUM_ARCHS, len(tab)
sample = set(space.sample(3000, 0))
in_sample = tab["arch_str"].isin(sample).to_numpy()
pub = reference.published(
    "abdelfattah2021", "table_spearman_nb201", ds, "spearman_all", "fisher"
)
out = {
    "what": __doc__,
    "dataset": ds,
    "variant": "foresight",
    "published_fisher": float(pub["value"].iloc[0]),
    "rows": [],
}
for target in ("test_acc", "valid_acc"):
    y = tab[target].to_numpy(dtype=float)
    for proxy in (
        "fisher_fs",
        "grad_norm",
        "snip",
        "grasp",
        "synflow",
        "jacob_cov",
        "naswot",
        "zico",
        "params",
    ):
        x = tab[proxy].to_numpy(dtype=float)
        row = {"target": target, "proxy": proxy}
        for name, m in (
            ("all_15625", np.ones(len(tab), bool)),
            ("sample_3000", in_sample),
        ):
            rho, lo, hi = stats.bootstrap_ci(x[m], y[m], n_boot=1000, seed=0)
            row[name] = {
                "abs_rho": abs(rho),
                "ci95_signed": [lo, hi],
                "n": int(m.sum()),
            }
        row["sample_minus_all"] = (
            row["sample_3000"]["abs_rho"] - row["all_15625"]["abs_rho"]
        )
        out["rows"].append(row)
        print(
            target,
            proxy,
            {k: round(v["abs_rho"], 4) for k, v in row.items() if isinstance(v, dict)},
            flush=True,
        )
out["provenance"] = provenance()
Path(__file__).with_name(f"fisher_fs_fullspace_{ds}.json").write_text(
    json.dumps(out, indent=2, default=str)
)
