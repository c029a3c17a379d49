"""How far can a 1,000-cell sample's Spearman fall from the whole space's?

    python results/checks/nbsz_sample_spread.py

NAS-Bench-Suite-Zero (Fig. 2) correlates each proxy with the 200-epoch validation
accuracy on 1,000 random cells; notebook 01 compares those numbers with ours over
all 15,625 cells, the value such a sample estimates. Our number then has almost no
sampling error, but theirs has the error of one 1,000-cell draw. This check measures
that error on our own scores: for the four NAS-Bench-Suite-Zero proxies on CIFAR-10
and CIFAR-100, Spearman over all cells and over 2,000 seeded random 1,000-cell
subsets (without replacement), with the subsets' sd and 2.5/97.5 percentiles, and
the fraction of subsets at least as far from the whole-space value as the published
number is (``p_as_far``: how often one 1,000-cell draw alone would miss by as much).
It does not include the scorer seed's spread (a separate check per proxy, e.g.
``epe_nas_seed_spread.py``): NAS-Bench-Suite-Zero's cells, batch and seeds are not
published. Writes ``nbsz_sample_spread.json`` beside this file.
"""

import json
from pathlib import Path

import numpy as np

from zclib import reference, results, stats
from zclib.provenance import provenance

N_SUB, N_DRAWS, SEED = 1000, 2000, 0
PROXIES = ("l2_norm", "plain", "epe_nas", "zen")
DATASETS = ("cifar10", "cifar100")
TARGET = "valid_acc"

rows = []
for ds in DATASETS:
    tab = results.with_accuracy(results.shipped(ds), ds)
    for p in PROXIES:
        ok = tab[[p, TARGET]].dropna()
        x, y = ok[p].to_numpy(dtype=float), ok[TARGET].to_numpy(dtype=float)
        full = stats.spearman(x, y)[0]
        rng = np.random.default_rng(SEED)
        idx = np.array(
            [rng.choice(len(x), N_SUB, replace=False) for _ in range(N_DRAWS)]
        )
        subs = stats.bootstrap.boot_stats("spearman", x, y, idx)  # one per row
        pub = reference.published(
            "krishnakumar2022_nbsz", method=p, dataset=ds, metric="spearman"
        )
        pub = float(pub["value"].item())
        rows.append(
            dict(
                dataset=ds,
                proxy=p,
                n_cells=len(x),
                spearman_all=full,
                published=pub,
                delta=full - pub,
                subset_sd=float(subs.std(ddof=1)),
                subset_p2_5=float(np.percentile(subs, 2.5)),
                subset_p97_5=float(np.percentile(subs, 97.5)),
                p_as_far=float(np.mean(np.abs(subs - full) >= abs(pub - full))),
            )
        )
        r = rows[-1]
        print(
            f"{ds:9s} {p:8s} all {full:+.3f}  published {pub:+.3f}  "
            f"1,000-cell subsets sd {r['subset_sd']:.3f} "
            f"[{r['subset_p2_5']:+.3f}, {r['subset_p97_5']:+.3f}]  "
            f"p_as_far {r['p_as_far']:.3f}"
        )

out = dict(
    what="Spearman vs 200-epoch valid acc: all cells vs 1,000-cell random subsets",
    n_subset=N_SUB,
    n_draws=N_DRAWS,
    seed=SEED,
    target=TARGET,
    rows=rows,
    provenance=provenance(),
)
path = Path(__file__).with_name("nbsz_sample_spread.json")
path.write_text(json.dumps(out, indent=2) + "\n")
print("wrote", path)
