"""K cells trained at once in one packed network, each exactly as if alone.

    python -m zclib train --n 64 --setting econas-r8c4e40 --pack 16 --threads 1

    from zclib.train import Setting, train_packed
    rows = train_packed(archs, Setting.parse("econas-r8c4e40"), seed=0)  # K rows

The K networks are built exactly as :func:`zclib.train.train_arch` builds them
(:func:`zclib.network.build` with the run seed: the same initial weights) and packed
into one :class:`zclib.packing.PackedNetwork`: every tensor holds the K networks side
by side along the channels, so each cell keeps its own weights and its own
BatchNorm statistics (per channel: batch statistics in training, running statistics
in eval mode, both per cell). Every cell is fed the same batches (the recipe's
``shared_order``: the batch order and augmentation depend on the seed alone), and
one step minimises the *sum* of the K cells' mean cross-entropies, whose gradient
with respect to cell k's weights is the gradient of cell k's own loss.

One SGD optimizer over the packed parameters is exact: momentum, Nesterov and
weight decay (PyTorch's SGD, no gradient clipping in the recipe) act element by
element, so cell k's slice of a packed parameter follows cell k's own update; the
learning rate and its cosine schedule are the same for every cell. What differs from
K separate runs is floating-point rounding only (grouped convolutions sum in another
order): tested equal to 1e-10 relative in float64, to a measured tolerance in
float32 (tests/test_train.py).

Cost: each row's seconds are the packed run's divided by K (the cells trained
together); ``pack`` records K.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F

from zclib import space
from zclib.network import count_flops, count_params
from zclib.packing import PackedNetwork
from zclib.scoring import check_device
from zclib.train.loop import batch_generator, build_net, fit, make_optimizer, run_row
from zclib.train.setting import Setting
from zclib.train.tensors import split_tensors


@torch.no_grad()
def evaluate_packed(
    net: PackedNetwork, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
) -> list[tuple[float, float]]:
    """Per cell (top-1 accuracy in %, mean cross-entropy), BN in eval mode."""
    was = net.training
    net.eval()
    K = net.K
    correct = torch.zeros(K, dtype=torch.long)
    loss = torch.zeros(K, dtype=torch.float64)
    dtype = net.classifier.weight.dtype
    for i in range(0, len(x), batch):
        xb, yb = x[i : i + batch].to(dtype), y[i : i + batch]
        out = net(net.replicate(xb))  # B x K x classes
        yk = yb[:, None].expand(-1, K)
        ce = F.cross_entropy(out.transpose(1, 2), yk, reduction="none")  # B x K
        loss += ce.sum(0).double().cpu()
        correct += (out.argmax(2) == yk).sum(0).cpu()
    net.train(was)
    return [
        (100.0 * c / len(x), v / len(x))
        for c, v in zip(correct.tolist(), loss.tolist(), strict=True)
    ]


def packed_step(net: PackedNetwork, opt: torch.optim.Optimizer, x, y) -> list[float]:
    """One SGD step of every cell on the batch; returns the K losses before it."""
    logits = net(net.replicate(x))  # B x K x classes
    K = logits.shape[1]
    per_cell = F.cross_entropy(
        logits.transpose(1, 2), y[:, None].expand(-1, K), reduction="none"
    ).mean(0)  # K: each cell's mean cross-entropy
    opt.zero_grad(set_to_none=True)
    per_cell.sum().backward()
    opt.step()
    return per_cell.detach().tolist()


def train_packed(
    archs: Sequence[str],
    setting: Setting,
    seed: int = 0,
    device: str = "cpu",
    eval_epochs: Iterable[int] = (),
    progress: bool = False,
    dtype: torch.dtype = torch.float32,
    return_steps: bool = False,
    pack_fn=PackedNetwork,
) -> list[dict]:
    """Train K architectures at once; one row per architecture, as
    :func:`zclib.train.train_arch` would return it (to rounding).

    Args:
        archs: the K arch strings or cells (K >= 1; repeats allowed).
        setting: the recipe; it must draw one batch order for every cell
            (``shared_order``, the reference recipe does).
        seed: weight init, subset, batch order and augmentation seed.
        device: ``"cpu"`` or ``"cuda"``.
        eval_epochs: epochs (1-based) with a test pass besides the last.
        progress: a tqdm bar over epochs on stderr.
        dtype: the networks' dtype.
        return_steps: add each cell's per-step losses under ``"step_losses"``.
        pack_fn: networks -> the packed network (tests pass a deliberately wrong
            packing here).

    Returns:
        K rows (see :func:`zclib.train.train_arch`); seconds are the packed
        run's / K, ``pack`` = K.
    """
    check_device(device)
    if not setting.shared_order:
        raise ValueError(
            f"{setting.name} draws a batch order per cell (shared_order=False): "
            "its cells cannot be packed; use an econas- setting or --pack 1"
        )
    archs = [space.format_arch(space.as_cell(a)) for a in archs]
    t0 = time.perf_counter()
    xte, yte = split_tensors(setting, "test", device)
    nets = [
        build_net(a, setting, seed, device, dtype, channels_last=False) for a in archs
    ]
    flops = [count_flops(n, setting.resolution) for n in nets]
    params = [count_params(n) for n in nets]
    net = pack_fn(nets)
    del nets
    opt, sched = make_optimizer(net, setting)
    gen = batch_generator(setting, seed, archs[0])
    t_load = time.perf_counter() - t0
    net.train()
    K = len(archs)
    fitted = fit(
        lambda x, y: packed_step(net, opt, x, y),
        lambda: evaluate_packed(net, xte, yte, setting.eval_batch),
        sched,
        setting,
        seed,
        gen,
        device,
        eval_epochs,
        progress,
        f"{setting.name} pack {K}",
        dtype,
    )
    rows = []
    for k, a in enumerate(archs):
        row = run_row(
            a,
            setting,
            seed,
            fitted,
            k,
            flops[k],
            params[k],
            device,
            K,
            t_load,
            memory_format="contiguous",
        )
        if return_steps:
            row["step_losses"] = fitted["step_losses"][k]
        rows.append(row)
    return rows
