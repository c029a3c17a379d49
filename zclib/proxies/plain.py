"""plain (Mozer & Smolensky 1989, as in NAS-Bench-Suite-Zero): sum of w ⊙ dL/dw.

    python -m zclib score --proxies plain --n 10 --out /tmp/s.csv

The first-order Taylor term of the loss with the sign kept: per weight
``w ⊙ dL/dw`` (CE loss on batch 0, network in train mode with BN), summed over every
Conv2d/Linear weight. It is snip without the absolute value. Reference: NASLib
``naslib/predictors/pruners/measures/plain.py`` (``compute_plain_per_weight``,
``layer.weight.grad * layer.weight``, zeros for a layer without gradient); read from
the shared weight gradient (same number, no backward of its own). Direction +1: the
signed score as NASLib reports it (its NB201 Spearman is small, see docs/proxies.md).
"""

from zclib.proxies.registry import proxy


@proxy("plain", needs={"weight_grad"}, reference="NASLib measures/plain.py")
def plain(p):
    """Per-layer w ⊙ g, signed (the reducer sums)."""
    return [
        m.weight.detach() * g for m, g in zip(p.layers, p["weight_grad"], strict=True)
    ]
