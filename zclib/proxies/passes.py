"""Lazily computed quantities of one network on one batch, shared between proxies.

    p = Pass(net, [(x, y), (x2, y2)], needs={"weight_grad", "hess_grad"})
    p["weight_grad"]   # [dL/dW per Conv2d/Linear layer], batch 0, CE loss, train mode

Everything that comes from batch 0 is computed in ONE forward pass (and the backward
passes it needs), the first time any of it is asked for; :attr:`needs` says which
hooks and gradients that pass must produce. The network is put in train mode (BN
uses batch statistics) as in every reference implementation.

What a proxy gets follows its spec (:class:`~zclib.proxies.registry.ProxySpec`):
:func:`prepare` gives the pass its network and batches (BN removed by
:func:`zclib.network.without_bn` iff ``bn=False``, float64 iff ``float64=True``;
proxies with the same :func:`preparation` can share one pass), and
:meth:`Pass.view` is what the proxy function receives: labels withheld (``None``)
iff ``uses_labels=False``, image content withheld (a zero tensor of the same shape)
iff ``uses_data=False``, and only the quantities that do not depend on what was
withheld (:data:`QUANTITIES`).

Quantities (key: shape, who reads it):
* ``weight_grad``: list of dL/dW (CE loss, batch 0) — grad_norm, snip, grasp, zico.
* ``hess_grad``: list of H·g with g = dL/dW held constant (GraSP's Hessian-gradient
  product) — grasp.
* ``act_grad``: list of (a, dL/da) for each layer's output a — fisher.
* ``input_jac``: d(sum of logits)/dx, (N, C, H, W) — jacob_cov.
* ``relu_kernel``: (N, N) float64 NASWOT kernel summed over ReLUs — naswot.
* ``relu_patterns``: int, the number of distinct sample-wise activation patterns
  (each ReLU output unit's on/off vector over the N samples, all ReLUs together;
  :class:`PatternSet`) — swap.
* ``batch_weight_grads``: [weight_grad of batch b for b in batches] — zico.
* ``synflow``: list of |w ⊙ dR/dw| on a linearised copy of the pass's network, with
  an all-ones input of batch 0's shape and dtype — synflow (whose spec makes that
  network BN-free and float64).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import autograd, nn

from zclib.network import without_bn
from zclib.proxies.registry import ProxySpec

MAIN = {
    "weight_grad",
    "hess_grad",
    "act_grad",
    "input_jac",
    "relu_kernel",
    "relu_patterns",
    "logits",
}
# quantity -> (depends on the image content, depends on the labels); tested
QUANTITIES = {
    "logits": (True, False),
    "weight_grad": (True, True),  # CE loss
    "hess_grad": (True, True),
    "act_grad": (True, True),
    "input_jac": (True, False),  # d(sum of logits)/dx
    "relu_kernel": (True, False),
    "relu_patterns": (True, False),
    "batch_weight_grads": (True, True),
    "synflow": (False, False),  # only batch 0's shape
}


def prunable_layers(net: nn.Module) -> list[nn.Module]:
    """The layers whose weights the proxies score: every Conv2d and Linear (a
    :class:`~zclib.packing.PackedNetwork` lists its packed ones in ``layers``)."""
    packed = getattr(net, "layers", None)
    if isinstance(packed, list):
        return list(packed)
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def preparation(spec: ProxySpec) -> tuple[bool, bool]:
    """The spec fields that shape a pass's network: ``(bn, float64)``. Proxies with
    the same preparation can share one :class:`Pass`."""
    return spec.bn, spec.float64


def prepare(
    net: nn.Module, batches: Sequence, prep: tuple[bool, bool]
) -> tuple[nn.Module, list]:
    """The network and batches of a pass with preparation ``prep = (bn, float64)``.

    Args:
        net: modified in place (BN removed, cast): pass a copy you own.
        batches: ``[(x, y), ...]``; cast to float64 along with the network.
        prep: ``(bn, float64)`` from :func:`preparation`.

    Returns:
        ``(net, batches)`` for :class:`Pass`.
    """
    bn, float64 = prep
    if not bn:
        net = without_bn(net)
    batches = list(batches)
    if float64:
        net = net.double()
        batches = [(x.double(), y) for x, y in batches]
    return net, batches


class Pass:
    """One network, its batches, and the quantities computed from them (see module doc).

    Args:
        net: a network this pass may modify (callers pass a copy).
        batches: ``[(x, y), ...]`` already on the network's device.
        needs: the keys the proxies will ask for (a fused pass asks for many).
        context: free-form facts (e.g. ``arch``, ``dataset``).
    """

    def __init__(self, net: nn.Module, batches: Sequence, needs=(), context=None):
        if not batches:
            raise ValueError("a pass needs at least one (x, y) batch")
        self.net = net.train()
        self.batches = list(batches)
        self.needs = set(needs)
        self.context = dict(context or {})
        self.layers = prunable_layers(net)
        self._cache: dict[str, object] = {}

    def view(self, spec: ProxySpec) -> View:
        """What the proxy ``spec`` receives of this pass (see :class:`View`)."""
        return View(self, spec)

    def __getitem__(self, key: str):
        if key not in self._cache:
            if key in MAIN:
                self.needs.add(key)  # normally already there: specs declare needs
                self._main_pass()
            elif key == "batch_weight_grads":
                self._cache[key] = self._batch_weight_grads()
            elif key == "synflow":
                self._cache[key] = self._synflow()
            else:
                raise KeyError(f"unknown pass quantity {key!r}")
        return self._cache[key]

    # -- batch 0: one forward, the backward passes the needs ask for ------------------
    def _main_pass(self) -> None:
        need = self.needs & MAIN
        x, y = self.batches[0]
        x = self._input(x.detach()).requires_grad_("input_jac" in need)
        hooks, acts = [], [None] * len(self.layers)
        if "act_grad" in need:
            for k, m in enumerate(self.layers):
                hooks.append(m.register_forward_hook(_store(acts, k)))
        kernel = None
        if "relu_kernel" in need:
            kernel, relu_hooks = self._relu_kernel_hooks(x.shape[0], x.device)
            hooks += relu_hooks
        patterns = None
        if "relu_patterns" in need:
            patterns, pattern_hooks = self._relu_pattern_hooks()
            hooks += pattern_hooks
        try:
            logits = self.net(x)
        finally:
            for h in hooks:
                h.remove()
        self._cache["logits"] = logits.detach()
        if kernel is not None:
            self._cache["relu_kernel"] = kernel.cpu().numpy()
        if patterns is not None:
            self._cache["relu_patterns"] = patterns.count()

        grad_keys = {"weight_grad", "hess_grad", "act_grad"} & need
        if "input_jac" in need:
            # foresight: y.backward(ones_like(y)); x.grad
            (jac,) = autograd.grad(
                logits,
                x,
                torch.ones_like(logits),
                retain_graph=bool(grad_keys),
                allow_unused=True,  # a packed network skips ``none``: x may be unused
            )
            self._cache["input_jac"] = (
                torch.zeros_like(x) if jac is None else jac.detach()
            )
        if not grad_keys:
            return
        loss = self._loss(logits, y)
        weights = [m.weight for m in self.layers]
        wrt = weights + ([a for a in acts] if "act_grad" in need else [])
        grads = autograd.grad(
            loss, wrt, create_graph="hess_grad" in need, allow_unused=True
        )
        # grads also holds the activation gradients after the weights: zip stops
        # at the weights
        gw = [
            g if g is not None else torch.zeros_like(w)
            for g, w in zip(grads, weights, strict=False)
        ]
        self._cache["weight_grad"] = [g.detach() for g in gw]
        if "act_grad" in need:
            ga = grads[len(weights) :]
            self._cache["act_grad"] = [
                (a.detach(), (g if g is not None else torch.zeros_like(a)).detach())
                for a, g in zip(acts, ga, strict=True)
            ]
        if "hess_grad" in need:
            # GraSP: z = g_const · g(w); dz/dw = H g
            z = sum((g.detach() * g).sum() for g in gw if g.requires_grad)
            hg = (
                autograd.grad(z, weights, allow_unused=True)
                if torch.is_tensor(z)
                else [None] * len(weights)
            )
            self._cache["hess_grad"] = [
                (h if h is not None else torch.zeros_like(w)).detach()
                for h, w in zip(hg, weights, strict=True)
            ]

    # -- what a packed pass changes (zclib.proxies.packed.PackedPass) ---------------
    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """The network's input for images ``x`` (a copy: the input Jacobian is
        taken with respect to it)."""
        return x.clone()

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, y)

    def _relu_kernel_hooks(self, n: int, device) -> tuple[torch.Tensor, list]:
        """The (n, n) NASWOT kernel to fill and the ReLU hooks that fill it."""
        kernel = torch.zeros(n, n, dtype=torch.float64, device=device)
        hook = _naswot_hook(kernel)
        hooks = [
            m.register_forward_hook(hook)
            for m in self.net.modules()
            if isinstance(m, nn.ReLU)
        ]
        return kernel, hooks

    def _relu_pattern_hooks(self) -> tuple[PatternSet, list]:
        """The pattern set to fill and the ReLU hooks that fill it."""
        patterns = PatternSet()

        def hook(_m, _inp, out):
            patterns.add(out.detach().flatten(1) > 0)

        hooks = [
            m.register_forward_hook(hook)
            for m in self.net.modules()
            if isinstance(m, nn.ReLU)
        ]
        return patterns, hooks

    # -- further batches (zico) -----------------------------------------------------
    def _batch_weight_grads(self) -> list[list[torch.Tensor]]:
        if "weight_grad" not in self._cache:
            self.needs.add("weight_grad")
            self._main_pass()
        out = [self._cache["weight_grad"]]
        weights = [m.weight for m in self.layers]
        for x, y in self.batches[1:]:
            loss = self._loss(self.net(self._input(x)), y)
            grads = autograd.grad(loss, weights, allow_unused=True)
            out.append(
                [
                    (g if g is not None else torch.zeros_like(w)).detach()
                    for g, w in zip(grads, weights, strict=True)
                ]
            )
        return out

    # -- synflow: a linearised copy of the pass's network, all-ones input ------------
    def _synflow(self) -> list[torch.Tensor]:
        net = copy.deepcopy(self.net)  # |w| in place: other proxies may share self.net
        with torch.no_grad():
            for t in list(net.parameters()) + list(net.buffers()):
                if t.is_floating_point():
                    t.abs_()
        x0 = self.batches[0][0]
        ones = torch.ones((1, *x0.shape[1:]), dtype=x0.dtype, device=x0.device)
        ones = self._input(ones)
        layers = prunable_layers(net)
        weights = [m.weight for m in layers]
        grads = autograd.grad(net(ones).sum(), weights, allow_unused=True)
        return [
            (w * g).abs().detach() if g is not None else torch.zeros_like(w)
            for w, g in zip(weights, grads, strict=True)
        ]


class View:
    """One proxy's view of a :class:`Pass`: what its spec says it may see.

    Attributes:
        net, layers, context: the pass's (shared: read them, do not modify them).
        batches: the pass's batches (batch 0 only if ``spec.n_batches == 1``), with
            labels ``None`` if ``not spec.uses_labels`` and images replaced by a zero
            tensor of the same shape, dtype and device if ``not spec.uses_data``.
        spec: the proxy's spec.

    ``view[key]`` is ``pass[key]``, refused (KeyError) for a quantity that depends on
    what the spec withholds.
    """

    def __init__(self, p: Pass, spec: ProxySpec):
        self._pass, self.spec = p, spec
        self.net, self.layers, self.context = p.net, p.layers, p.context
        batches = p.batches if spec.n_batches > 1 else p.batches[:1]
        self.batches = [
            (x if spec.uses_data else _shape_only(x), y if spec.uses_labels else None)
            for x, y in batches
        ]

    def __getitem__(self, key: str):
        on_data, on_labels = QUANTITIES.get(key, (False, False))
        for depends, used, what in (
            (on_data, self.spec.uses_data, "image content"),
            (on_labels, self.spec.uses_labels, "labels"),
        ):
            if depends and not used:
                raise KeyError(
                    f"proxy {self.spec.name!r} reads {key!r}, which depends on the "
                    f"{what}, but its spec says it does not use them"
                )
        return self._pass[key]


class PatternSet:
    """The distinct sample-wise activation patterns seen so far.

    A ReLU output (N, D) gives D patterns: column d is unit d's on/off vector over
    the N samples. Each column is stored as ``ceil(N / 62)`` int64 words of 62 bits
    (exact: no hashing), deduplicated per ReLU and again over all of them, so
    memory follows the distinct patterns, not N x (all units). Rows of words are
    told apart by :func:`_row_ids` (1-D sorts only): ``torch.unique(dim=0)``, which
    gives the same count, took 8x longer on CPU (1.45 vs 0.17 s for 90 ReLU outputs
    of NB201 sizes, batch 64), most of swap's cost.
    """

    BITS = 62  # bits per int64 word (below the sign bit)

    def __init__(self):
        self._parts: list[torch.Tensor] = []

    def add(self, on: torch.Tensor) -> None:
        """Add the patterns of one ReLU output, ``on``: (N, D) bool."""
        n = on.shape[0]
        cols = on.T.to(torch.int64)  # (D, N)
        words = []
        for start in range(0, n, self.BITS):
            chunk = cols[:, start : start + self.BITS]
            weights = torch.ones(chunk.shape[1], dtype=torch.int64, device=on.device)
            weights = weights << torch.arange(chunk.shape[1], device=on.device)
            words.append((chunk * weights).sum(1))  # int matmul: not on CUDA
        words = torch.stack(words, 1)
        ids, n_distinct = _row_ids(words)
        # one row per distinct pattern (which of equal rows is kept does not matter)
        keep = torch.empty(n_distinct, dtype=torch.int64, device=on.device)
        keep.scatter_(0, ids, torch.arange(len(ids), device=on.device))
        self._parts.append(words[keep])

    def count(self) -> int:
        """The number of distinct patterns over every ReLU added."""
        if not self._parts:
            return 0
        return _row_ids(torch.cat(self._parts))[1]


def _row_ids(words: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Ids of the rows of ``words`` (R, W) int64, equal exactly where the rows are
    equal, in ``[0, n)``, and the number n of distinct rows.

    Word by word: a 1-D ``unique`` ranks the column, and the pair (ids so far, rank)
    is ranked again as one int64 key (both are below R, so the key below R^2 fits
    for any R under 3e9).
    """
    if words.shape[0] == 0:
        return words.new_zeros(0), 0
    ids = None
    for col in words.unbind(1):
        _, rank = torch.unique(col, return_inverse=True)
        if ids is not None:
            _, rank = torch.unique(
                ids * (int(rank.max()) + 1) + rank, return_inverse=True
            )
        ids = rank
    return ids, int(ids.max()) + 1


def _shape_only(x: torch.Tensor) -> torch.Tensor:
    """A zero tensor with x's shape, dtype and device (no memory: stride 0)."""
    return x.new_zeros(()).expand(x.shape)


def _store(acts: list, k: int):
    def hook(_m, _inp, out):
        acts[k] = out

    return hook


def _naswot_hook(kernel: torch.Tensor):
    """K += c c^T + (1-c)(1-c)^T for the binary ReLU codes c of each sample.

    Uses (1-c)(1-c)^T = d - s_i - s_j + c c^T (s = row sums) to need one matmul.
    The codes of ``out > 0`` equal those of the input, as the NASWOT code reads them.
    ReLUs fed the same tensor (the ops leaving one cell node) have the same codes:
    their term is computed once and added once per ReLU, as the reference counts it.
    """
    seen: dict[int, tuple[torch.Tensor, int, torch.Tensor]] = {}

    def hook(_m, inp, out):
        x = inp[0]
        hit = seen.get(id(x))
        if hit is not None and hit[0] is x and hit[1] == x._version:
            kernel.add_(hit[2])
            return
        with torch.no_grad():
            o = out.detach().flatten(1)
            c = torch.gt(
                o, 0, out=torch.empty(o.shape, dtype=torch.float32, device=o.device)
            )  # 1.0 / 0.0
            g = (c @ c.T).double()
            s = c.sum(1, dtype=torch.float64)
            term = 2 * g + c.shape[1] - s[:, None] - s[None, :]
        kernel.add_(term)
        # keep x referenced so that its id cannot be reused within this forward
        seen[id(x)] = (x, x._version, term)

    return hook


def numpy_f64(t: torch.Tensor) -> np.ndarray:
    """A tensor as a float64 numpy array on the CPU."""
    return t.detach().to("cpu", torch.float64).numpy()
