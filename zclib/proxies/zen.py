"""zen (Lin et al. 2021, Zen-NAS; as in NAS-Bench-Suite-Zero): Zen-score.

    python -m zclib score --proxies zen --n 10 --out /tmp/s.csv

On a copy of the network re-initialised with N(0, 1) Conv2d/Linear weights (biases
0, BN weight 1 and bias 0), in train mode and without gradients: draw Gaussian
inputs x, e of batch 0's shape, take the feature map f before the global average
pool (the input of the network's last ``AdaptiveAvgPool2d``) for x and for
``x + 0.01 e``; ``Δ = mean_n sum_chw |f(x) - f(x + 0.01 e)|``; the score is
``log Δ + sum over BatchNorm2d of log sqrt(mean(running_var))``, the running
variances being those left by the two forwards. Reference: NASLib
``naslib/predictors/pruners/measures/zen.py`` (``compute_zen_score`` with
``repeat=1, mixup_gamma=1e-2``, float32; ``network_weight_gaussian_init``;
``forward_before_global_avg_pool`` hooks the input of the ``AdaptiveAvgPool2d``).

It computes on the network itself (its own re-initialised forwards), so its spec has
``packable=False`` (a packed pass cannot serve it) and it uses neither the images
(only batch 0's shape) nor the labels. Deliberate deviations, each for determinism
and independence from the other proxies of a fused pass:

* the Gaussian weights and inputs come from a generator seeded with :data:`SEED`
  (drawn on the CPU, then moved), not from the global RNG, so a network's score is
  the same on every call and device;
* the copy's BN running statistics are reset (mean 0, var 1, as on a freshly built
  network) before the two forwards, so the score does not depend on forwards that
  other proxies ran on the shared network;
* a BatchNorm2d without running statistics (``track_running_stats=False``, e.g. the
  cells of the foresight variant) contributes nothing to the BN term (the reference
  would fail on its ``running_var`` of None); every BN of the official network
  tracks its statistics.

A network without an ``AdaptiveAvgPool2d`` cannot be scored (ValueError); Δ = 0
(e.g. an all-'none' cell) gives log 0 = -inf, reported as NaN.
"""

import copy

import torch
from torch import nn

from zclib.proxies.registry import proxy

SEED = 0  # the generator of the Gaussian weights and inputs
MIXUP_GAMMA = 1e-2  # the reference's perturbation scale


def gaussian_init(net: nn.Module, gen: torch.Generator) -> None:
    """N(0, 1) Conv2d/Linear weights, zero biases, BN/GroupNorm weight 1 bias 0 (the
    reference's ``network_weight_gaussian_init``), drawn from ``gen`` in module
    order. In place."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


def pre_gap_features(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the last ``AdaptiveAvgPool2d`` when ``net`` runs on ``x``.

    Raises:
        ValueError: the network has no ``AdaptiveAvgPool2d``.
    """
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise ValueError(
            "zen needs the feature map before a global average pool: the network "
            "has no nn.AdaptiveAvgPool2d"
        )
    seen = []
    h = pools[-1].register_forward_hook(lambda _m, inp, _o: seen.append(inp[0]))
    try:
        net(x)
    finally:
        h.remove()
    return seen[-1]


def zen_score(net: nn.Module, shape, device, dtype, seed: int = SEED) -> float:
    """Zen-score of a copy of ``net`` for inputs of ``shape`` (see module doc)."""
    gen = torch.Generator().manual_seed(seed)
    net = copy.deepcopy(net).train()
    gaussian_init(net, gen)
    bns = [
        m
        for m in net.modules()
        if isinstance(m, nn.BatchNorm2d) and m.running_var is not None
    ]
    for m in bns:
        m.reset_running_stats()
    x = torch.randn(tuple(shape), generator=gen).to(device, dtype)
    e = torch.randn(tuple(shape), generator=gen).to(device, dtype)
    with torch.no_grad():
        f = pre_gap_features(net, x)
        f_mix = pre_gap_features(net, x + MIXUP_GAMMA * e)
        delta = (f - f_mix).abs().sum(dim=tuple(range(1, f.dim()))).mean()
        log_bn = sum(
            (torch.log(torch.sqrt(m.running_var.mean())) for m in bns),
            torch.zeros((), dtype=torch.float64, device=device),
        )
        return float(torch.log(delta).double() + log_bn)


@proxy(
    "zen",
    output="scalar",
    uses_data=False,
    uses_labels=False,
    packable=False,
    requires={"global_pool"},
    reference="NASLib measures/zen.py compute_zen_score",
)
def zen(p):
    """Zen-score of the pass's network for batch 0's input shape."""
    x = p.batches[0][0]
    return zen_score(p.net, x.shape, x.device, x.dtype)
