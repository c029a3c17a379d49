"""fisher (Theis et al. 2018; Turner et al. 2020, as in Abdelfattah et al. 2021).

    python -m zclib score --proxies fisher --n 10 --out /tmp/s.csv

For each Conv2d/Linear output activation a (N, C, H, W) with gradient dL/da, the
per-channel Fisher saliency is ``0.5 * mean_n (sum_hw a ⊙ dL/da)^2``; the score sums
channels and layers. Reference: foresight ``measures/fisher.py`` (an identity
``dummy`` after each layer whose backward hook reads act and grad; CE loss with mean
reduction, so dL/da carries the 1/N factor, kept here). We read the same activation
and gradient with a forward hook and one ``autograd.grad`` call.
"""

from zclib.proxies.registry import proxy


@proxy("fisher", needs={"act_grad"}, reference="foresight compute_fisher_per_weight")
def fisher(p):
    """Per-layer, per-channel 0.5 * mean over samples of (sum_hw a * g)^2."""
    out = []
    for a, g in p["act_grad"]:
        gnk = (a * g).sum(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * g
        out.append(gnk.pow(2).mean(0).mul(0.5))
    return out
