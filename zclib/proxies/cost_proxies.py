"""params and flops: the naive baselines a zero-cost proxy must beat (ZiCo, Table 1).

    python -m zclib score --proxies params,flops --n 10 --out /tmp/s.csv

``params`` counts every trainable parameter of the scored network; ``flops`` counts
multiply-accumulates of one image in the benchmark's convention
(:func:`zclib.network.count_flops`). For the official network both equal the
benchmark's own figures. Neither uses data.
"""

from zclib.network import NB201Network, cost, count_flops, count_params
from zclib.paths import NUM_CLASSES
from zclib.proxies.registry import proxy


def _official_cost(net, resolution: int) -> dict | None:
    """Cached cost of a standard official network (saves a forward per arch)."""
    if not (isinstance(net, NB201Network) and net.variant == "official" and net.bn):
        return None
    ds = {v: k for k, v in NUM_CLASSES.items()}.get(net.num_classes)
    if ds is None:
        return None
    return cost(net.cell, ds, C=net.C, N=net.N, resolution=resolution)


@proxy("params", output="scalar", uses_data=False, uses_labels=False,
       reference="NATS-Bench get_cost_info params")
def params(p):
    """Parameters, in millions."""
    c = _official_cost(p.net, p.batches[0][0].shape[-1])
    return c["params_M"] if c else count_params(p.net) / 1e6


@proxy("flops", output="scalar", uses_data=False, uses_labels=False,
       reference="NATS-Bench get_cost_info flops")
def flops(p):
    """FLOPs (MACs) of one input image at the batch's resolution, in millions."""
    c = _official_cost(p.net, p.batches[0][0].shape[-1])
    return c["flops_M"] if c else count_flops(p.net, p.batches[0][0].shape[-1]) / 1e6
