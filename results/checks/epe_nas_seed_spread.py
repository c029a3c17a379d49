"""How much does epe_nas's Spearman on CIFAR-100 move with the scorer seed?

    python results/checks/epe_nas_seed_spread.py 500

NAS-Bench-Suite-Zero's epe_nas on CIFAR-100 (Fig. 2: 0.60 against the 200-epoch
validation accuracy, 1,000 random cells, batch 64) is 0.06 below ours on the suite
job's first 1,000 cells. With 100 classes a batch of 64 holds most classes once or
not at all, so the score rests on the few classes that repeat: which images the
batch holds (the scorer seed sets the batch and the initialisation together) could
move the correlation more than for CIFAR-10. This check scores epe_nas on the first
N cells of the full-space order with scorer seeds 1, 2, 3 (seed 0 is the suite
job's table, re-scored on its first 20 cells to confirm the configuration) and
records Spearman with the 200-epoch validation accuracy per seed, with bootstrap
95% CIs. Writes epe_nas_seed_spread_cifar100.json beside this file.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from zclib import results, stats
from zclib.fullspace import jobs as fjobs
from zclib.fullspace import merge as fmerge
from zclib.provenance import provenance
from zclib.scoring import Scorer

torch.set_num_threads(1)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
DS, PROXY, TARGET = "cifar100", "epe_nas", "valid_acc"
job = next(j for j in fjobs.plan([DS]) if j.name == "suite")
table = results.with_accuracy(fmerge.read_prefix(job, 1000), DS).iloc[:N]
archs, acc = list(table["arch_str"]), table[TARGET].to_numpy()
seed0 = Scorer(DS, [PROXY], seed=0)
again = [seed0.score(a)[PROXY] for a in archs[:20]]
same = np.allclose(again, table[PROXY].to_numpy()[:20], rtol=1e-5, equal_nan=True)
assert same, "seed 0 does not re-score the suite table: another configuration"
out = {
    "what": __doc__,
    "n": N,
    "dataset": DS,
    "target": TARGET,
    "published": 0.60,
    "seed0_rescored_equal": bool(same),
    "seeds": {},
}
for seed in (0, 1, 2, 3):
    if seed == 0:
        x = table[PROXY].to_numpy()
    else:
        sc = Scorer(DS, [PROXY], seed=seed)
        x = np.array([sc.score(a)[PROXY] for a in archs], dtype=float)
    rho, lo, hi = stats.bootstrap_ci(x, acc, n_boot=1000, seed=0)
    out["seeds"][seed] = {
        "spearman": rho,
        "ci95": [lo, hi],
        "n_nan": int(np.isnan(x).sum()),
    }
    print(seed, round(rho, 4), flush=True)
rhos = [s["spearman"] for s in out["seeds"].values()]
out["seed_range"] = [min(rhos), max(rhos)]
out["seed_sd"] = float(np.std(rhos, ddof=1))
out["provenance"] = provenance()
Path(__file__).with_name("epe_nas_seed_spread_cifar100.json").write_text(
    json.dumps(out, indent=2, default=str)
)
