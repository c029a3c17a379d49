"""grasp (Wang et al. 2020; Abdelfattah et al. 2021): sum over weights of -w ⊙ (H g).

    python -m zclib score --proxies grasp --n 10 --out /tmp/s.csv

Reference: foresight ``measures/grasp.py`` (T=1, one iteration): g = dL/dw on the
batch, then z = g_const · dL/dw computed with ``create_graph`` and ``z.backward()``
gives the Hessian-gradient product Hg; the score of a weight is ``-w * Hg`` (signed,
not absolute), summed. The reference runs a second, identical forward pass for the
create-graph gradient; we build the graph once (same values).

Direction: the reference sums and ranks as is; Abdelfattah et al. report |rho|.
"""

from zclib.proxies.registry import proxy


@proxy(
    "grasp",
    needs={"weight_grad", "hess_grad"},
    reference="foresight compute_grasp_per_weight",
)
def grasp(p):
    """Per-layer -w ⊙ Hg."""
    return [
        -(m.weight.detach() * hg)
        for m, hg in zip(p.layers, p["hess_grad"], strict=True)
    ]
