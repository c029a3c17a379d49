"""How much does fisher's Spearman move with the scorer seed (init + batch)?

    python results/checks/fisher_seed_spread.py 400

Foresight-network fisher on the first N cells of the seed-0 sample, CIFAR-100,
scorer seeds 0, 1, 2 (seed 0 = the shipped partial table); Spearman with the
200-epoch test accuracy for each seed. Writes fisher_seed_spread_cifar100.json.
"""

import json
import sys
from pathlib import Path

import torch

from zclib import results, space, stats
from zclib.provenance import provenance
from zclib.scoring import Scorer

torch.set_num_threads(1)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
ds = "cifar100"
archs = space.sample(N, 0)
acc = results.with_accuracy(
    results.compute_scores(
        ds, ["fisher"], n_archs=N, variant="foresight", progress=False
    ),
    ds,
)["test_acc"].to_numpy()
out = {
    "what": __doc__,
    "n": N,
    "dataset": ds,
    "variant": "foresight",
    "published": 0.385,
    "seeds": {},
}
for seed in (0, 1, 2):
    sc = Scorer(ds, ["fisher"], seed=seed, variant="foresight")
    x = [sc.score(a)["fisher"] for a in archs]
    rho, lo, hi = stats.bootstrap_ci(x, acc, n_boot=1000, seed=0)
    out["seeds"][seed] = {"spearman_test_acc": rho, "ci95": [lo, hi]}
    print(seed, rho, flush=True)
out["provenance"] = provenance()
Path(__file__).with_name("fisher_seed_spread_cifar100.json").write_text(
    json.dumps(out, indent=2, default=str)
)
