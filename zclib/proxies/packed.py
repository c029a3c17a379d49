"""Score K networks in one pass: the pass quantities of a packed network, split into
one :class:`~zclib.proxies.passes.Pass` per network.

    from zclib.proxies.packed import compute_packed
    rows = compute_packed(nets, ["snip", "naswot"], batches)   # [{name: score}] * K

A :class:`PackedPass` is a :class:`~zclib.proxies.passes.Pass` on a
:class:`~zclib.packing.PackedNetwork`: the same code computes its quantities; only
the input (K copies of the images), the loss (the sum of the networks' losses) and
the NASWOT hooks (one kernel per network) differ. :meth:`PackedPass.split` then
cuts every quantity into the per-network pieces and returns, per network, an
ordinary :class:`Pass` on that network whose cache already holds them, so the proxy
functions run unchanged on their usual views. A quantity a proxy asks for that the
packed pass did not compute is computed by that per-network pass, lazily, as in the
per-cell engine; a proxy whose spec has ``packable=False`` (it computes from the
network itself rather than from pass quantities) always runs in a per-cell pass of
its own (:func:`per_cell_proxies` names them; the scorer says so).

Equality with the per-cell engine (tested, ``tests/test_packed.py``): the packed
network's float64 scores equal the per-cell ones to 1e-12 relative (zico: 1e-9, see
the test), in float32 within the per-proxy bounds :data:`FLOAT32_RTOL`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch

from zclib.packing import PackedNetwork, PackedReLU
from zclib.proxies.passes import Pass, PatternSet, preparation, prepare
from zclib.proxies.registry import ProxySpec

# How far packed float32 scores may lie from per-cell float32 scores, relative, per
# proxy (others, e.g. synflow in float64, naswot's integer kernel, params, flops: the
# float64 bound 1e-12). Grouped convolutions sum in another order than the per-cell
# ones (on CPU another oneDNN algorithm), and the proxies amplify that rounding
# differently. Measured on the benchmark network (16 cells, packed 8, 16 real
# CIFAR-10 images), largest relative difference: grad_norm 5.2e-4, snip 5.0e-4,
# grasp 1.7e-2 (a signed sum), fisher 1.6e-3, jacob_cov
# 7.2e-6 (4.1e-5 at batch 64 in `make bench`), naswot 6.5e-8 (a ReLU code flips),
# zico 1.7e-2 (it divides by the spread of two batches' gradients); bounds ~2-3x
# above. These are the per-cell engine's own float32 errors: against float64 on 8
# of those cells, per-cell float32 is off by grasp 1.7e-2, zico 1.4e-2, fisher
# 1.3e-3, grad_norm 5.3e-4; packed float32 by 1.7e-3, 1.1e-2, 5.4e-4, 4.4e-4
# (tests/test_packed.py checks on 36 small cells that packed float32 errs no more
# than 5x the per-cell float32 error).
FLOAT32_RTOL = {
    "grad_norm": 2e-3,
    "snip": 2e-3,
    "grasp": 5e-2,
    "fisher": 5e-3,
    "jacob_cov": 1e-4,
    "naswot": 1e-6,
    "zico": 5e-2,
    "plain": 5e-2,  # a signed sum: relative to a small total
    "epe_nas": 5e-3,
    "swap": 1e-3,  # an activation within rounding of 0 flips one unit's pattern
}


class PackedPass(Pass):
    """A :class:`Pass` on a :class:`~zclib.packing.PackedNetwork` (see module doc).

    Args:
        net: the packed network (this pass may modify it).
        batches, needs: as for :class:`Pass`.
        contexts: one context dict per packed network.
    """

    def __init__(self, net: PackedNetwork, batches, needs=(), contexts=None):
        contexts = list(contexts or [{} for _ in range(net.K)])
        super().__init__(net, batches, needs, context={"contexts": contexts})
        self.contexts = contexts

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.replicate(x)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net.loss(logits, y)

    def _relu_kernel_hooks(self, n: int, device) -> tuple[torch.Tensor, list]:
        K = self.net.K
        kernel = torch.zeros(K, n, n, dtype=torch.float64, device=device)
        hooks = [
            m.register_forward_hook(_packed_naswot_hook(kernel))
            for m in self.net.modules()
            if isinstance(m, PackedReLU)
        ]
        return kernel, hooks

    def _relu_pattern_hooks(self) -> tuple[_PackedPatterns, list]:
        """One pattern set per network; a PackedReLU adds network k's channels to
        set k iff network k applies a ReLU to that tensor (``uses[k] > 0``)."""
        patterns = _PackedPatterns(self.net.K)

        def hook(m: PackedReLU, _inp, out):
            on = out.detach().view(out.shape[0], self.net.K, -1) > 0
            for k, used in enumerate(m.uses):
                if used:
                    patterns.sets[k].add(on[:, k])

        hooks = [
            m.register_forward_hook(hook)
            for m in self.net.modules()
            if isinstance(m, PackedReLU)
        ]
        return patterns, hooks

    def split(self, nets: Sequence[torch.nn.Module]) -> list[Pass]:
        """One :class:`Pass` per network (``nets``: the prepared networks the packed
        one was built from, in order) holding its share of every computed quantity."""
        K, net = self.net.K, self.net
        for key in sorted(self.needs):
            self[key]  # compute now: the per-network passes only read the cache
        out = [
            Pass(n, self.batches, needs=self.needs, context=ctx)
            for n, ctx in zip(nets, self.contexts, strict=True)
        ]
        c = self._cache
        for key, value in c.items():
            if key == "logits":
                parts = list(value.unbind(1))
            elif key == "input_jac":
                parts = list(value.chunk(K, 1))
            elif key in ("relu_kernel", "relu_patterns"):
                parts = list(value)
            elif key in ("weight_grad", "hess_grad", "synflow"):
                parts = net.unpack(value, "weight")
            elif key == "act_grad":
                acts = net.unpack([a for a, _ in value], "output")
                grads = net.unpack([g for _, g in value], "output")
                parts = [
                    list(zip(a, g, strict=True))
                    for a, g in zip(acts, grads, strict=True)
                ]
            elif key == "batch_weight_grads":
                per_batch = [net.unpack(b, "weight") for b in value]
                parts = [[b[k] for b in per_batch] for k in range(K)]
            else:
                raise KeyError(f"PackedPass.split: no rule for quantity {key!r}")
            for p, part in zip(out, parts, strict=True):
                p._cache[key] = part
        return out


class _PackedPatterns:
    """K :class:`~zclib.proxies.passes.PatternSet` (one per packed network)."""

    def __init__(self, K: int):
        self.sets = [PatternSet() for _ in range(K)]

    def count(self) -> list[int]:
        return [s.count() for s in self.sets]


def _packed_naswot_hook(kernel: torch.Tensor):
    """kernel[k] += uses[k] * (c_k c_k^T + (1-c_k)(1-c_k)^T) for network k's binary
    ReLU codes c_k, where ``uses[k]`` (the module's) is how many ReLUs network k
    applies to this tensor: the per-cell hook adds one term per ReLU (same integers,
    exact in float32 and float64)."""

    def hook(m: PackedReLU, _inp, out):
        with torch.no_grad():
            B, K = out.shape[0], kernel.shape[0]
            c = torch.gt(out.detach(), 0).to(torch.float32).view(B, K, -1)
            c = c.transpose(0, 1)  # (K, B, D)
            g = torch.bmm(c, c.transpose(1, 2)).double()
            s = c.sum(2, dtype=torch.float64)  # (K, B)
            term = 2 * g + c.shape[2] - s[:, :, None] - s[:, None, :]
            uses = torch.tensor(m.uses, dtype=torch.float64, device=kernel.device)
            kernel.add_(term * uses[:, None, None])

    return hook


def per_cell_proxies(specs: Sequence[ProxySpec]) -> list[str]:
    """The proxies among ``specs`` that a packed pass cannot serve."""
    return [s.name for s in specs if not s.packable]


def compute_packed(
    nets: Sequence[torch.nn.Module],
    names_: Sequence[str],
    batches: Sequence,
    contexts: Sequence[dict] | None = None,
) -> list[dict[str, float]]:
    """Scores of K networks with one packed pass per preparation.

    Args:
        nets: K networks (same dataset, variant, width, depth); modified in place
            (BN removed, cast) for the first preparation: pass networks you own.
        names_: proxy names (see :func:`zclib.proxies.resolve`).
        batches: ``[(x, y), ...]`` on the networks' device.
        contexts: one dict per network (``arch``, ``dataset``).

    Returns:
        One ``{name: score}`` per network, in order (NaN for a numerical failure,
        as :func:`zclib.proxies.compute`).

    Raises:
        ValueError: fewer batches than a proxy needs; networks that differ in
            classes, width, depth or variant.
    """
    from zclib.proxies import _safe, checked_specs, compute  # noqa: PLC0415 (cycle)

    specs = checked_specs(names_, batches)
    contexts = list(contexts or [{} for _ in nets])
    rows: list[dict[str, float]] = [{} for _ in nets]
    # per-cell proxies first (on copies: compute copies), before any preparation
    # changes the networks
    own = per_cell_proxies(specs)
    if own:
        for row, n, ctx in zip(rows, nets, contexts, strict=True):
            row.update(compute(n, own, batches, context=ctx))
    groups: dict[tuple, list[ProxySpec]] = {}
    for s in specs:
        if s.packable:
            groups.setdefault(preparation(s), []).append(s)
    # every copy is taken before any preparation changes ``nets``
    members = [[copy.deepcopy(n) for n in nets] for _ in range(len(groups) - 1)]
    members += [list(nets)] if groups else []
    for own_nets, (prep, group) in zip(members, groups.items(), strict=True):
        prepared, pb = [], batches
        for n in own_nets:
            pn, pb = prepare(n, batches, prep)
            prepared.append(pn)
        needs = set().union(*(s.needs for s in group))
        pp = PackedPass(PackedNetwork(prepared), pb, needs, contexts)
        for row, p in zip(rows, pp.split(prepared), strict=True):
            for s in group:
                row[s.name] = _safe(s, p)
    return [{s.name: row[s.name] for s in specs} for row in rows]


__all__ = ["PackedPass", "compute_packed", "per_cell_proxies", "FLOAT32_RTOL"]
