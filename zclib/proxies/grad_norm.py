"""grad_norm (Abdelfattah et al. 2021): sum over layers of ||dL/dW||_2.

    python -m zclib score --proxies grad_norm --n 10 --out /tmp/s.csv

Reference: foresight ``measures/grad_norm.py`` (``get_grad_norm_arr``): CE loss on
one batch, network in train mode with BN, the L2 norm of each Conv2d/Linear
weight gradient; the per-layer norms are summed (not the global norm).
"""

from zclib.proxies.registry import proxy


@proxy("grad_norm", needs={"weight_grad"}, reference="foresight get_grad_norm_arr")
def grad_norm(p):
    """Per-layer ||g||_2 of the CE-loss weight gradients."""
    return [g.norm() for g in p["weight_grad"]]
