"""meco (Jiang, Wang & Bie, NeurIPS 2023): Minimum Eigenvalue of Correlation.

    python -m zclib score --proxies meco --n 10 --out /tmp/s.csv

One Gaussian input sample, one forward (train mode, no gradients). For every module
whose output is a feature map f of one sample (C, H, W), reshaped to (C, H*W):
``P = corrcoef(f)`` (C x C, NaN and inf set to 0) and its smallest eigenvalue
``λ_min(P)``; the score sums ``λ_min`` over the modules (NaN results dropped).
Reference: HamsterMimi/MeCo ``correlation/foresight/pruners/measures/meco.py``
(``get_score``: a ``torch.randn(1, 3, 64, 64)`` input, a forward hook on every
module of ``net.named_modules()``, containers included, reading
``data_output[0]``). We hook the same modules: an output that is not a feature map
(a pooled vector or the logits, whose rows have one value each) has an all-NaN
correlation, zeroed, so its λ_min is 0 and skipping it changes nothing; a module
whose output is not a tensor is skipped (the reference would fail on it).

Deviations (all stated): the input is drawn from a generator seeded with
:data:`SEED` (reference: the global RNG) so a network's score is reproducible; its
shape is (1, C_in, 64, 64) for image batches, as the reference hard-codes, and
(1, *batch_shape) for other inputs (an MLP has no feature map: its score is 0); the
eigenvalues are those of the symmetric P in float64 (``eigvalsh``; the reference:
``torch.linalg.eig`` in float32, the same values up to rounding). It computes its
own forward on the network, so ``packable=False``; it uses neither the images nor
the labels.
"""

import math

import torch
from torch import nn

from zclib.proxies.registry import proxy

SEED = 0  # generator of the one Gaussian input
RESOLUTION = 64  # the reference's input side for image batches, whatever the dataset


def min_corr_eigenvalue(fea: torch.Tensor) -> float:
    """λ_min of the channel correlation of one sample's (C, ...) feature map; NaN
    for a single channel (the reference fails there)."""
    if fea.shape[0] < 2:
        return math.nan
    fea = fea.detach().reshape(fea.shape[0], -1).double()
    if fea.shape[1] < 2:  # one value per channel: all-NaN P, zeroed: λ_min = 0
        return 0.0
    corr = torch.corrcoef(fea)
    corr = torch.where(torch.isfinite(corr), corr, 0.0)
    return float(torch.linalg.eigvalsh(corr)[0])


def meco_score(net: nn.Module, x: torch.Tensor) -> float:
    """Sum over ``net``'s modules of λ_min for the forward of the one sample ``x``."""
    values: list[float] = []

    def hook(_m, _inp, out):
        if torch.is_tensor(out) and out.dim() >= 3:  # (1, C, H, W): a feature map
            values.append(min_corr_eigenvalue(out[0]))

    hooks = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net.train()(x)
    finally:
        for h in hooks:
            h.remove()
    return float(sum(v for v in values if not math.isnan(v)))


def meco_input(x0: torch.Tensor, seed: int = SEED) -> torch.Tensor:
    """The one Gaussian sample for a batch like ``x0`` (see module doc)."""
    shape = (1, *x0.shape[1:])
    if x0.dim() == 4:
        shape = (1, x0.shape[1], RESOLUTION, RESOLUTION)
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen).to(x0.device, x0.dtype)


@proxy(
    "meco",
    output="scalar",
    uses_data=False,
    uses_labels=False,
    packable=False,
    requires={"feature_maps"},
    reference="HamsterMimi/MeCo measures/meco.py get_score",
)
def meco(p):
    """MeCo of the pass's network (its own one-sample forward)."""
    return meco_score(p.net, meco_input(p.batches[0][0]))
