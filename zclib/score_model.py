"""Score your own network: every proxy whose needs a ``torch.nn.Module`` meets.

    import zclib
    scores = zclib.score(model, (x, y))                      # every scorable proxy
    scores = zclib.score(model, (x, y), proxies=["snip", "swap"])
    zclib.score_model.requirements(model, (x, y))            # {proxy: why not, or None}

What a proxy needs of the model follows from its spec: the pass quantities it reads
(:data:`NEED_FACTS`) and its ``requires`` field. The facts are checked on the model
and batch (:func:`facts`, on a copy: the caller's model is never modified):

* ``layers``: at least one Conv2d or Linear (the weights the per-layer proxies sum);
* ``logits``: ``model(x)`` returns (N, n_classes) scores;
* ``classifier``: ``logits``, with integer labels y in [0, n_classes) (CE loss);
* ``relu``: at least one ``nn.ReLU`` module (a functional ``F.relu`` cannot be
  hooked, so naswot and swap cannot see it);
* ``global_pool``: an ``nn.AdaptiveAvgPool2d`` (zen's pre-pool feature map);
* ``feature_maps``: image batches (N, C, H, W) and a global pool (meco feeds one
  64 x 64 sample, which a network with a fixed flatten size cannot take);
* ``rgb_images``: (N, 3, H, H) batches (flops counts one such image);
* zico needs two batches.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from zclib import proxies as _proxies
from zclib.proxies.passes import prunable_layers

# the model facts each pass quantity needs
NEED_FACTS = {
    "weight_grad": {"layers", "classifier"},
    "hess_grad": {"layers", "classifier"},
    "act_grad": {"layers", "classifier"},
    "batch_weight_grads": {"layers", "classifier"},
    "input_jac": {"logits"},
    "logits": {"logits"},
    "relu_kernel": {"relu"},
    "relu_patterns": {"relu"},
    "synflow": {"layers"},
}
FACT_TEXT = {
    "layers": "a Conv2d or Linear layer",
    "logits": "a classification head (model(x) of shape (N, n_classes))",
    "classifier": "a classification head and integer labels in [0, n_classes)",
    "relu": "an nn.ReLU module",
    "global_pool": "an nn.AdaptiveAvgPool2d (the feature map before it)",
    "feature_maps": "image batches (N, C, H, W) and an nn.AdaptiveAvgPool2d",
    "rgb_images": "image batches of shape (N, 3, H, H)",
}


def _batches(batch) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One ``(x, y)`` or a list of them → a list."""
    if isinstance(batch, tuple) and len(batch) == 2 and torch.is_tensor(batch[0]):
        return [batch]
    return list(batch)


def facts(model: nn.Module, batch) -> set[str]:
    """The facts of :data:`FACT_TEXT` that ``model`` and ``batch`` meet.

    Args:
        model: any module (a copy runs one forward in train mode, without grad).
        batch: ``(x, y)`` or ``[(x, y), ...]``; batch 0 is probed.

    Returns:
        The set of fact names met.
    """
    x, y = _batches(batch)[0]
    out = set()
    if prunable_layers(model):
        out.add("layers")
    mods = list(model.modules())
    if any(isinstance(m, nn.ReLU) for m in mods):
        out.add("relu")
    pool = any(isinstance(m, nn.AdaptiveAvgPool2d) for m in mods)
    if pool:
        out.add("global_pool")
    if x.dim() == 4 and pool:
        out.add("feature_maps")
    if x.dim() == 4 and x.shape[1] == 3 and x.shape[2] == x.shape[3]:
        out.add("rgb_images")
    with torch.no_grad():
        logits = copy.deepcopy(model).train()(x)
    if torch.is_tensor(logits) and logits.dim() == 2 and len(logits) == len(x):
        out.add("logits")
        n = logits.shape[1]
        labels_ok = (
            y is not None
            and y.dim() == 1
            and not y.is_floating_point()
            and len(y) == len(x)
            and bool(((y >= 0) & (y < n)).all())
        )
        if labels_ok:
            out.add("classifier")
    return out


def requirements(
    model: nn.Module, batch, names: Sequence[str] | None = None
) -> dict[str, str | None]:
    """Why each proxy cannot score ``model`` on ``batch`` (None: it can).

    Args:
        model: any module.
        batch: ``(x, y)`` or ``[(x, y), ...]``.
        names: proxies to check (default: every registered one).

    Returns:
        ``{name: None or "needs ..."}``.
    """
    met = facts(model, batch)
    n_batches = len(_batches(batch))
    out: dict[str, str | None] = {}
    for name in names if names is not None else _proxies.names():
        spec = _proxies.get(name)
        need = set(spec.requires).union(*(NEED_FACTS.get(q, ()) for q in spec.needs))
        if "classifier" in need:
            need.add("logits")
        missing = [FACT_TEXT[f] for f in sorted(need - met)]
        if n_batches < spec.n_batches:
            missing.append(f"{spec.n_batches} batches (got {n_batches})")
        out[name] = "needs " + "; ".join(missing) if missing else None
    return out


def score(
    model: nn.Module,
    batch,
    proxies: str | Sequence[str] | None = None,
    *,
    mode: str = "fused",
) -> dict[str, float]:
    """Scores of any ``torch.nn.Module`` by every proxy it can be scored with.

    Args:
        model: the network (never modified: the passes work on copies).
        batch: ``(x, y)`` (images or features, integer labels) or a list of such
            batches (zico needs two); moved to the model's device.
        proxies: names, ``"all"`` or ``"a,b"`` (:func:`zclib.proxies.resolve`);
            default None: every registered proxy whose needs the model meets.
        mode: ``"fused"`` or ``"naive"`` (:func:`zclib.proxies.compute`).

    Returns:
        ``{proxy: score}`` (NaN for a numerical failure), in registry order.

    Raises:
        ValueError: a requested proxy the model cannot be scored with, naming what
            it needs (see :func:`requirements`).
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    batches = [(x.to(device), y.to(device)) for x, y in _batches(batch)]
    names = _proxies.names() if proxies is None else _proxies.resolve(proxies)
    why = requirements(model, batches, names)
    if proxies is None:
        names = [n for n in names if why[n] is None]
    else:
        bad = {n: r for n, r in why.items() if r is not None}
        if bad:
            lines = "; ".join(f"{n} {r}" for n, r in bad.items())
            raise ValueError(f"cannot score this model with: {lines}")
    return _proxies.compute(model, names, batches, mode=mode)
