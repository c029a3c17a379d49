"""zico (Li et al. 2023): inverse coefficient of variation of gradients.

    python -m zclib score --proxies zico --n 10 --out /tmp/s.csv

Per Conv2d/Linear layer, over B >= 2 minibatches, each weight's gradient g_b gives
mean_b|g_b| / std_b(g_b) (population std); weights with zero std are skipped; the
layer contributes log of the sum of those ratios (nothing if the sum is 0); the
score sums layers. Reference: SLDGroup/ZiCo ``ZeroShotProxy/compute_zico.py``
(``getgrad``, ``caculate_zico``; CE loss, train mode, one backward per batch).
Batches: batch 0 is the batch every other proxy uses, batch 1.. are further
seeded batches of the same size (the scorer's ``--zico-batches``, default 2).
"""

import numpy as np
import torch

from zclib.proxies.registry import proxy


def zico_from_grads(per_batch: list[list]) -> float:
    """ZiCo of gradients ``per_batch[b][layer]`` (tensors or arrays).

    Computed in float64 on the gradients' device (the reference: numpy on float32);
    one host sync in all.
    """
    if len(per_batch) < 2:
        raise ValueError("zico needs gradients from at least two batches")
    sums = []
    for layer in range(len(per_batch[0])):
        g = torch.stack([_flat(b[layer]) for b in per_batch])  # (B, n_weights)
        # np.std (population std), written out: Tensor.std over the short leading
        # dim is ~8x slower on CPU; same values up to float64 rounding
        std = (g - g.mean(dim=0)).square_().mean(dim=0).sqrt_()
        # skip zero-std weights without boolean indexing (no host sync per layer)
        ratio = g.abs().mean(dim=0) / torch.where(std != 0, std, 1.0)
        sums.append(torch.where(std != 0, ratio, 0.0).sum())
    s = torch.stack(sums).cpu().numpy()
    return float(np.sum(np.log(s[s != 0])))


def _flat(t) -> torch.Tensor:
    t = t if torch.is_tensor(t) else torch.as_tensor(np.asarray(t))
    return t.detach().reshape(-1).to(torch.float64)


@proxy(
    "zico",
    needs={"weight_grad", "batch_weight_grads"},
    output="scalar",
    n_batches=2,
    reference="SLDGroup/ZiCo caculate_zico",
)
def zico(p):
    """ZiCo over the pass's batches."""
    return zico_from_grads(p["batch_weight_grads"])
