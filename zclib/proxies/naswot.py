"""naswot (Mellor et al. 2021, "NAS without training"): log|K| of ReLU codes.

    python -m zclib score --proxies naswot --n 10 --out /tmp/s.csv

For every ReLU module, each sample's activation pattern c (1 where the ReLU is on)
adds ``c c^T + (1-c)(1-c)^T`` to K (N x N; entry = number of units where two samples
agree); score = log|det K| (``np.linalg.slogdet``, sign ignored as the reference
does). Reference: BayesWatch/nas-without-training ``score_networks.py`` (forward
hooks on every ReLU module of the official NB201 network, train mode). The kernel
is accumulated in float64 (the reference sums float32 products into a float64
array; integers here, so identical). Labels are not used.
"""

import numpy as np

from zclib.proxies.registry import proxy


@proxy(
    "naswot",
    needs={"relu_kernel"},
    output="scalar",
    uses_labels=False,
    reference="BayesWatch/nas-without-training hooklogdet",
)
def naswot(p):
    """slogdet of the summed ReLU-code kernel of batch 0."""
    _sign, logdet = np.linalg.slogdet(p["relu_kernel"])
    return float(logdet)
