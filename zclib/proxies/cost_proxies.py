"""params and flops: the naive baselines a zero-cost proxy must beat (ZiCo, Table 1).

    python -m zclib score --proxies params,flops --n 10 --out /tmp/s.csv

``params`` counts every trainable parameter of the scored network; ``flops`` counts
multiply-accumulates of one image in the benchmark's convention
(:func:`zclib.network.count_flops`). For the official network both equal the
benchmark's own figures. Neither uses data.
"""

from zclib.network import count_flops, count_params
from zclib.proxies.registry import proxy


@proxy(
    "params",
    output="scalar",
    uses_data=False,
    uses_labels=False,
    reference="NATS-Bench get_cost_info params",
)
def params(p):
    """Parameters, in millions."""
    return count_params(p.net) / 1e6


@proxy(
    "flops",
    output="scalar",
    uses_data=False,
    uses_labels=False,
    requires={"rgb_images"},
    reference="NATS-Bench get_cost_info flops",
)
def flops(p):
    """FLOPs (MACs) of one input image at the batch's resolution, in millions (one
    batch-1 forward of the scored network, ~9 ms on CPU: cheaper than building a
    fresh network for :func:`zclib.network.cost`)."""
    return count_flops(p.net, p.batches[0][0].shape[-1]) / 1e6
