"""snip (Lee et al. 2019; Abdelfattah et al. 2021): sum over weights of |w ⊙ dL/dw|.

    python -m zclib score --proxies snip --n 10 --out /tmp/s.csv

Reference: foresight ``measures/snip.py`` multiplies every Conv2d/Linear weight by a
mask of ones and scores ``|dL/dmask|``. At mask = 1 that gradient is exactly
``w ⊙ dL/dw``, so we read it from the shared weight gradient instead of patching
``forward`` (same number, one backward fewer).
"""

from zclib.proxies.registry import proxy


@proxy("snip", needs={"weight_grad"}, reference="foresight compute_snip_per_weight")
def snip(p):
    """Per-layer |w ⊙ g| (element-wise; the reducer sums)."""
    return [
        (m.weight.detach() * g).abs()
        for m, g in zip(p.layers, p["weight_grad"], strict=True)
    ]
