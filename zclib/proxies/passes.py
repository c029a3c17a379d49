"""Lazily computed quantities of one network on one batch, shared between proxies.

    p = Pass(net, [(x, y), (x2, y2)], needs={"weight_grad", "hess_grad"})
    p["weight_grad"]   # [dL/dW per Conv2d/Linear layer], batch 0, CE loss, train mode

Everything that comes from batch 0 is computed in ONE forward pass (and the backward
passes it needs), the first time any of it is asked for; :attr:`needs` says which
hooks and gradients that pass must produce. The network is put in train mode (BN
uses batch statistics) as in every reference implementation.

Quantities (key: shape, who reads it):
* ``weight_grad``: list of dL/dW (CE loss, batch 0) — grad_norm, snip, grasp, zico.
* ``hess_grad``: list of H·g with g = dL/dW held constant (GraSP's Hessian-gradient
  product) — grasp.
* ``act_grad``: list of (a, dL/da) for each layer's output a — fisher.
* ``input_jac``: d(sum of logits)/dx, (N, C, H, W) — jacob_cov.
* ``relu_kernel``: (N, N) float64 NASWOT kernel summed over ReLUs — naswot.
* ``batch_weight_grads``: [weight_grad of batch b for b in batches] — zico.
* ``synflow``: list of |w ⊙ dR/dw| on the linearised float64 copy — synflow.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import autograd, nn

MAIN = {"weight_grad", "hess_grad", "act_grad", "input_jac", "relu_kernel", "logits"}


def prunable_layers(net: nn.Module) -> list[nn.Module]:
    """The layers whose weights the proxies score: every Conv2d and Linear."""
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


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
        x = x.detach().clone().requires_grad_("input_jac" in need)
        hooks, acts = [], [None] * len(self.layers)
        if "act_grad" in need:
            for k, m in enumerate(self.layers):
                hooks.append(m.register_forward_hook(_store(acts, k)))
        kernel = None
        if "relu_kernel" in need:
            kernel = torch.zeros(
                x.shape[0], x.shape[0], dtype=torch.float64, device=x.device
            )
            hook = _naswot_hook(kernel)
            for m in self.net.modules():
                if isinstance(m, nn.ReLU):
                    hooks.append(m.register_forward_hook(hook))
        try:
            logits = self.net(x)
        finally:
            for h in hooks:
                h.remove()
        self._cache["logits"] = logits.detach()
        if kernel is not None:
            self._cache["relu_kernel"] = kernel.cpu().numpy()

        grad_keys = {"weight_grad", "hess_grad", "act_grad"} & need
        if "input_jac" in need:
            # foresight: y.backward(ones_like(y)); x.grad
            (jac,) = autograd.grad(
                logits, x, torch.ones_like(logits), retain_graph=bool(grad_keys)
            )
            self._cache["input_jac"] = jac.detach()
        if not grad_keys:
            return
        loss = F.cross_entropy(logits, y)
        weights = [m.weight for m in self.layers]
        wrt = weights + ([a for a in acts] if "act_grad" in need else [])
        grads = autograd.grad(
            loss, wrt, create_graph="hess_grad" in need, allow_unused=True
        )
        # grads also holds the activation gradients after the weights: zip stops
        # at the weights
        gw = [g if g is not None else torch.zeros_like(w)
              for g, w in zip(grads, weights, strict=False)]
        self._cache["weight_grad"] = [g.detach() for g in gw]
        if "act_grad" in need:
            ga = grads[len(weights):]
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

    # -- further batches (zico) -----------------------------------------------------
    def _batch_weight_grads(self) -> list[list[torch.Tensor]]:
        if "weight_grad" not in self._cache:
            self.needs.add("weight_grad")
            self._main_pass()
        out = [self._cache["weight_grad"]]
        weights = [m.weight for m in self.layers]
        for x, y in self.batches[1:]:
            loss = F.cross_entropy(self.net(x), y)
            grads = autograd.grad(loss, weights, allow_unused=True)
            out.append([
                (g if g is not None else torch.zeros_like(w)).detach()
                for g, w in zip(grads, weights, strict=True)
            ])
        return out

    # -- synflow: its own linearised float64 copy without BN, all-ones input --------
    def _synflow(self) -> list[torch.Tensor]:
        net = strip_bn(copy.deepcopy(self.net)).double().train()
        with torch.no_grad():
            for t in list(net.parameters()) + list(net.buffers()):
                if t.is_floating_point():
                    t.abs_()
        x0 = self.batches[0][0]
        ones = torch.ones((1, *x0.shape[1:]), dtype=torch.float64, device=x0.device)
        layers = prunable_layers(net)
        weights = [m.weight for m in layers]
        grads = autograd.grad(net(ones).sum(), weights, allow_unused=True)
        return [
            (w * g).abs().detach() if g is not None else torch.zeros_like(w)
            for w, g in zip(weights, grads, strict=True)
        ]


def strip_bn(net: nn.Module) -> nn.Module:
    """Replace BatchNorm by identity, in place (the ``bn=False`` network of synflow).

    A foresight-variant NB201 network keeps the BN of its residual blocks, as the
    reference's ``use_bn=False`` copy does.
    """
    from zclib.network import NB201Network, ResidualBlock

    keep_blocks = isinstance(net, NB201Network) and net.variant == "foresight"

    def walk(module: nn.Module) -> None:
        for name, child in module.named_children():
            if keep_blocks and isinstance(child, ResidualBlock):
                continue
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, name, nn.Identity())
            else:
                walk(child)

    walk(net)
    return net


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
            c = torch.gt(o, 0, out=torch.empty(o.shape, dtype=torch.float32,
                                               device=o.device))  # 1.0 / 0.0
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
