"""Does the reference protocol (a new random batch per architecture) move fisher's rho?

    python results/checks/fisher_batch_protocol.py 400

Foresight-network fisher on the first N cells of the seed-0 sample, CIFAR-100:
(a) one fixed batch for all cells (our scorer), (b) batch index k for the k-th cell.
Writes fisher_batch_protocol_cifar100.json.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from zclib import data, results, space, stats
from zclib import proxies as zp
from zclib.network import build
from zclib.provenance import provenance

torch.set_num_threads(1)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ds = "cifar100"
archs = space.sample(N, 0)
fixed = results.compute_scores(
    ds, ["fisher"], n_archs=N, variant="foresight", progress=False
)
per = []
t0 = time.time()
for k, a in enumerate(archs):
    b = data.get_batch(ds, 64, seed=0, index=1000 + k)
    net = build(a, ds, variant="foresight", seed=0)
    per.append(zp.compute(net, ["fisher"], [(b.x, b.y)], copy_net=False)["fisher"])
    if k % 50 == 0:
        print(k, time.time() - t0, flush=True)
acc = results.with_accuracy(fixed, ds)["test_acc"].to_numpy()
out = {
    "what": __doc__,
    "n": N,
    "dataset": ds,
    "variant": "foresight",
    "published": 0.385,
}
for name, x in (
    ("fixed_batch", fixed["fisher"].to_numpy()),
    ("batch_per_arch", np.array(per)),
):
    rho, lo, hi = stats.bootstrap_ci(x, acc, n_boot=1000, seed=0)
    out[name] = {"spearman_test_acc": rho, "ci95": [lo, hi]}
out["provenance"] = provenance()
print(json.dumps(out, indent=1, default=str))
Path(__file__).with_name("fisher_batch_protocol_cifar100.json").write_text(
    json.dumps(out, indent=2, default=str)
)
