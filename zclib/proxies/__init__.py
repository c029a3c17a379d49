"""Zero-cost proxies: one small module each, registered with a spec.

    from zclib import proxies
    proxies.names()                       # all registered proxy names
    proxies.get("synflow").direction      # +1: higher is better
    scores = proxies.compute(net, ["snip", "grasp"], batches)   # {name: float}

Each proxy function receives a view (:meth:`~zclib.proxies.passes.Pass.view`) of a
:class:`~zclib.proxies.passes.Pass`, the lazily computed quantities of one network
on one batch (logits, weight gradients, ...), prepared as its spec says (BN removed,
float64, labels or image content withheld), and returns either per-layer values
(``output="per_layer"``, summed by the one reducer :func:`reduce`) or a scalar. A
fused pass computes every quantity once for all proxies with the same preparation;
a ``naive`` pass per proxy recomputes from a fresh copy of the network, as the
reference code does. Both give the same numbers (tested). On the foresight network
the six proxies of Abdelfattah et al. equal the reference code's own values up to
float32 rounding (:mod:`zclib.oracle`, ``tests/test_oracle.py``).
:func:`compute_packed` scores K networks in one packed pass
(:mod:`zclib.proxies.packed`): the same numbers up to the rounding of grouped
convolutions (tested).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from zclib.proxies import (
    cost_proxies,
    epe_nas,
    fisher,
    grad_norm,
    grasp,
    jacob_cov,
    l2_norm,
    meco,
    naswot,
    plain,
    snip,
    swap,
    synflow,
    zen,
    zico,
)
from zclib.proxies.packed import compute_packed
from zclib.proxies.passes import Pass, preparation, prepare
from zclib.proxies.registry import ProxySpec, proxy, register

# Explicit list (no registration by import side effect): the order is the table order.
REGISTRY: dict[str, ProxySpec] = register(
    [
        grad_norm.grad_norm,
        snip.snip,
        grasp.grasp,
        fisher.fisher,
        synflow.synflow,
        jacob_cov.jacob_cov,
        naswot.naswot,
        zico.zico,
        cost_proxies.params,
        cost_proxies.flops,
        # NAS-Bench-Suite-Zero's remaining four (issue 15)
        l2_norm.l2_norm,
        plain.plain,
        epe_nas.epe_nas,
        zen.zen,
        # recent proxies with published NB201 correlations (issue 15)
        meco.meco,
        swap.swap,
    ]
)
ABDELFATTAH = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov")
# vote is not a per-network proxy: it combines proxies across architectures
# (zclib.stats.VOTE_MEMBERS, vote_agreement, vote_score).

__all__ = [
    "ProxySpec",
    "Pass",
    "proxy",
    "register",
    "REGISTRY",
    "ABDELFATTAH",
    "names",
    "get",
    "resolve",
    "compute",
    "compute_packed",
    "reduce",
]


def names() -> list[str]:
    """All registered proxy names, in table order."""
    return list(REGISTRY)


def get(name: str) -> ProxySpec:
    """The spec of one proxy; ValueError naming the known ones if absent."""
    if name not in REGISTRY:
        raise ValueError(f"unknown proxy {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def resolve(spec: str | Iterable[str]) -> list[str]:
    """``"all"`` (every proxy with ``in_all``), ``"abdelfattah"``, ``"a,b,c"`` or a
    list → validated proxy names."""
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "all":
            return [n for n in names() if REGISTRY[n].in_all]
        if key == "abdelfattah":
            return list(ABDELFATTAH)
        spec = [s for s in spec.split(",") if s.strip()]
    out = [get(s.strip()).name for s in spec]
    if not out:
        raise ValueError("no proxies requested")
    return out


def reduce(spec: ProxySpec, value) -> float:
    """The one reducer: per-layer values are summed in float64; non-finite → NaN."""
    if spec.output == "per_layer":
        # sum on the device, one host sync per proxy (not one per layer)
        parts = [
            v.double().sum()
            if torch.is_tensor(v)
            else torch.tensor(float(v), dtype=torch.float64)
            for v in value
        ]
        total = (
            float(torch.stack([p.to(parts[0].device) for p in parts]).sum())
            if parts
            else 0.0
        )
    else:
        total = float(value)
    return total if math.isfinite(total) else math.nan


def compute(
    net: torch.nn.Module,
    names_: Sequence[str],
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    *,
    mode: str = "fused",
    context: dict | None = None,
    copy_net: bool = True,
) -> dict[str, float]:
    """Score one network with several proxies.

    Args:
        net: the network (never modified: passes work on a copy).
        names_: proxy names (see :func:`resolve`).
        batches: ``[(x, y), ...]`` on the network's device; batch 0 serves every
            proxy, further batches only those with ``n_batches > 1`` (zico).
        mode: ``"fused"`` shares one pass between the proxies with the same
            preparation (:func:`~zclib.proxies.passes.preparation`); ``"naive"``
            gives each proxy a fresh copy of the network and its own pass (the
            reference way).
        context: extra facts for proxies that need them (``arch``, ``dataset``).
        copy_net: False lets a fused pass use ``net`` itself (its BN running stats
            change; for the first preparation needed, it may lose its BN or become
            float64); for callers that built the network for this call only.

    Returns:
        ``{name: score}``; a proxy that fails numerically gives NaN (never raises for
        NaN/inf; genuine errors such as a shape mismatch do raise).

    Raises:
        ValueError: fewer batches than a proxy's ``n_batches``, or an unknown mode.
    """
    specs = checked_specs(names_, batches)
    if mode not in ("fused", "naive"):
        raise ValueError(f"mode must be 'fused' or 'naive', got {mode!r}")
    if mode == "naive":
        return {
            s.name: _safe(s, _pass(copy.deepcopy(net), batches, [s], context))
            for s in specs
        }
    groups: dict[tuple, list[ProxySpec]] = {}
    for s in specs:
        groups.setdefault(preparation(s), []).append(s)
    # every copy is taken before any pass runs or any preparation changes ``net``
    nets = [
        net if k == 0 and not copy_net else copy.deepcopy(net)
        for k in range(len(groups))
    ]
    passes = {
        prep: _pass(n, batches, group, context)
        for n, (prep, group) in zip(nets, groups.items(), strict=True)
    }
    return {s.name: _safe(s, passes[preparation(s)]) for s in specs}


def checked_specs(names_: Sequence[str], batches: Sequence) -> list[ProxySpec]:
    """The specs of ``names_``; ValueError if there are fewer batches than one needs."""
    specs = [get(n) for n in names_]
    for s in specs:
        if len(batches) < s.n_batches:
            raise ValueError(
                f"proxy {s.name!r} needs {s.n_batches} batches, got {len(batches)}"
            )
    return specs


def _pass(net, batches, specs: Sequence[ProxySpec], context) -> Pass:
    """A pass for specs of one preparation, on ``net`` (which it modifies)."""
    net, batches = prepare(net, batches, preparation(specs[0]))
    return Pass(
        net, batches, needs=set().union(*(s.needs for s in specs)), context=context
    )


def _safe(spec: ProxySpec, p: Pass) -> float:
    try:
        return reduce(spec, spec.fn(p.view(spec)))
    except (ArithmeticError, np.linalg.LinAlgError):  # FloatingPointError included
        return math.nan
