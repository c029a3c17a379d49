"""Would fisher computed on the BN-free copy match the published values?

    python results/checks/fisher_bn_free.py cifar100 3000 [workers]

The reference decorates fisher with ``bn=True`` (its network keeps BN), and that is
what ``zclib`` computes; our |rho| sits below the published value (CIFAR-100 0.339
vs 0.385 over all cells, CIFAR-10 0.335 vs 0.360). This check scores fisher on the
foresight network *without* BN (``use_bn=False``: stem, cell and final BN removed,
residual blocks keep theirs, as the reference's ``get_prunable_copy(bn=False)``
builds it) on the first N cells of the seed-0 sample, same batch and same init as
the scorer (seed 0, batch 64), beside the with-BN table shipped under
``results/scores/variants/``. It only asks whether a run made with a BN-free copy
would land nearer the published |rho|; nothing in the reference code says the
published run used one. Writes ``fisher_bn_free_<dataset>.json``.
"""

import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
import torch

from zclib import data, reference, results, space, stats
from zclib import proxies as zp
from zclib.network import build
from zclib.provenance import provenance


def _score(task):
    ds, archs = task
    torch.set_num_threads(1)
    b = data.get_batch(ds, 64, seed=0)
    out = []
    for a in archs:
        net = build(a, ds, variant="foresight", bn=False, seed=0)
        out.append(zp.compute(net, ["fisher"], [(b.x, b.y)], copy_net=False)["fisher"])
    return out


def main():
    ds = results.canonical_dataset(sys.argv[1] if len(sys.argv) > 1 else "cifar100")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    archs = space.sample(n, 0)
    if results.variant_coverage(ds, "fisher", "foresight") < len(archs):
        # a subset check: only where the shipped with-BN table covers the cells
        sys.exit(
            f"the shipped foresight fisher table of {ds} lacks some of the "
            f"first {n} cells"
        )
    with_bn = results.compute_scores(
        ds, ["fisher"], n_archs=n, variant="foresight", progress=False
    )
    t0 = time.time()
    chunks = [archs[i::workers] for i in range(workers)]
    with mp.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_score, [(ds, c) for c in chunks])
    free = np.empty(n)
    for i, part in enumerate(parts):
        free[i::workers] = part
    secs = time.time() - t0
    acc = results.with_accuracy(with_bn, ds)["test_acc"].to_numpy(dtype=float)
    pub = reference.published(
        "abdelfattah2021", "table_spearman_nb201", ds, "spearman_all", "fisher"
    )
    out = {
        "what": __doc__,
        "dataset": ds,
        "n": n,
        "seed": 0,
        "batch_size": 64,
        "published_abs_rho": float(pub["value"].iloc[0]),
        "seconds": secs,
    }
    for name, x in (
        ("with_bn", with_bn["fisher"].to_numpy(dtype=float)),
        ("bn_free", free),
    ):
        rho, lo, hi = stats.bootstrap_ci(x, acc, n_boot=1000, seed=0)
        out[name] = {"rho": rho, "abs_rho": abs(rho), "ci95_signed": [lo, hi]}
        print(name, round(rho, 4), [round(lo, 4), round(hi, 4)], flush=True)
    out["provenance"] = provenance()
    Path(__file__).with_name(f"fisher_bn_free_{ds}.json").write_text(
        json.dumps(out, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
