"""l2_norm (NAS-Bench-Suite-Zero, Krishnakumar et al. 2022): sum of weight norms.

    python -m zclib score --proxies l2_norm --n 10 --out /tmp/s.csv

Per Conv2d/Linear layer, the Frobenius norm ``||W||_2`` of its weight at
initialisation; the layers are summed. Reference: NASLib
``naslib/predictors/pruners/measures/l2_norm.py`` (``get_layer_metric_array`` with
``l.weight.norm()``, summed over layers by NASLib's ``sum_arr``). Uses neither the
images nor the labels (its spec withholds both; tested): it depends on the
architecture and the initial weights only.
"""

from zclib.proxies.registry import proxy


@proxy(
    "l2_norm",
    uses_data=False,
    uses_labels=False,
    requires={"layers"},
    reference="NASLib measures/l2_norm.py get_l2_norm_array",
)
def l2_norm(p):
    """Per-layer ||W||_2 of the Conv2d/Linear weights."""
    return [m.weight.detach().norm() for m in p.layers]
