"""synflow (Tanaka et al. 2020; Abdelfattah et al. 2021): data-free synaptic flow.

    python -m zclib score --proxies synflow --n 10 --out /tmp/s.csv

Take a copy of the network without BatchNorm, in float64 (the spec's ``bn=False,
float64=True``: the pass prepares that network), with every parameter and buffer
replaced by its absolute value; feed one all-ones input (1, C, H, W); R = sum of the
outputs; the score of a weight is |w ⊙ dR/dw|, summed over Conv2d/Linear weights.
Reference: foresight ``measures/synflow.py`` (``@measure('synflow', bn=False)``,
``linearize``, ``net.double()``). Independent of the images and labels:
only the input shape matters (its spec withholds both; tested).
"""

from zclib.proxies.registry import proxy


@proxy(
    "synflow",
    needs={"synflow"},
    bn=False,
    float64=True,
    uses_data=False,
    uses_labels=False,
    reference="foresight compute_synflow_per_weight",
)
def synflow(p):
    """Per-layer |w ⊙ dR/dw| on the linearised copy."""
    return p["synflow"]
