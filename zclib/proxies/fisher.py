"""fisher (Theis et al. 2018; Turner et al. 2020, as in Abdelfattah et al. 2021).

    python -m zclib score --proxies fisher --n 10 --out /tmp/s.csv

For each Conv2d/Linear output activation a (N, C, H, W) with gradient dL/da, the
per-channel Fisher saliency is ``f_c = 0.5 * mean_n (sum_hw a ⊙ dL/da)^2``.
Reference: foresight ``measures/fisher.py`` (an identity ``dummy`` after each layer
whose backward hook reads act and grad; CE loss with mean reduction, so dL/da
carries the 1/N factor, kept here). The reference then *broadcasts* each channel's
value to every weight of that output channel (``reshape_elements`` to
``weight.shape[1:]``) before the sum, so a layer contributes
``fan_in * sum_c f_c`` with ``fan_in = C_in * k_h * k_w`` (``in_features`` for a
Linear). ``fisher`` reproduces that. (The plain per-channel sum without the broadcast,
``fisher_channel``, was registered while the first, TF32 full-space tables that had
it in fisher's place were shipped; it ranks architectures differently and went with
those tables, see CHANGELOG.)
"""

from zclib.proxies.registry import proxy


def _channel_saliency(p) -> list:
    out = []
    for a, g in p["act_grad"]:
        gnk = (a * g).sum(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * g
        out.append(gnk.pow(2).mean(0).mul(0.5))  # (C,)
    return out


@proxy("fisher", needs={"act_grad"}, reference="foresight compute_fisher_per_weight")
def fisher(p):
    """Per-layer fan_in * per-channel saliency, as the reference sums it."""
    return [
        f * m.weight[0].numel()
        for f, m in zip(_channel_saliency(p), p.layers, strict=True)
    ]
