"""One training run: the seeded subset, SGD with cosine annealing, the test pass.

from zclib.train import Setting, train_arch
row = train_arch(arch, Setting.parse("r8c4e20"), seed=0)  # {'test_acc': ..., ...}
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from zclib import network, space
from zclib.network import count_flops, count_params
from zclib.scoring import check_device
from zclib.train.setting import TRAIN_VERSION, Setting, run_key
from zclib.train.tensors import augment, load_tensors


def subset(n: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training subset: the same for every architecture of a seed."""
    if fraction >= 1:
        return np.arange(n)
    k = max(1, round(n * fraction))
    return np.sort(np.random.default_rng([seed, 7]).choice(n, k, replace=False))


@torch.no_grad()
def evaluate(
    net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
) -> tuple[float, float]:
    """(top-1 accuracy in %, mean cross-entropy) with BN in eval mode."""
    was = net.training
    net.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch):
        out = net(x[i : i + batch])
        loss += F.cross_entropy(out, y[i : i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i : i + batch]).sum().item()
    net.train(was)
    return 100.0 * correct / len(x), loss / len(x)


def make_optimizer(net: torch.nn.Module, setting: Setting):
    """(SGD, per-epoch cosine schedule to 0 over ``setting.epochs``)."""
    opt = torch.optim.SGD(
        net.parameters(),
        lr=setting.lr,
        momentum=setting.momentum,
        weight_decay=setting.weight_decay,
        nesterov=setting.nesterov,
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=setting.epochs, eta_min=0.0
    )
    return opt, sched


def train_step(
    net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> float:
    """One SGD step on a batch; returns the batch's loss before the step."""
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def train_arch(
    arch: str,
    setting: Setting,
    seed: int = 0,
    device: str = "cpu",
    eval_epochs: Iterable[int] = (),
    progress: bool = False,
    return_net: bool = False,
    data: tuple[torch.Tensor, ...] | None = None,
) -> dict:
    """Train one architecture with one setting; evaluate on the test images.

    Args:
        arch: arch string or cell.
        setting: the reduced recipe.
        seed: weight init, subset, batch order and augmentation seed.
        device: ``"cpu"`` or ``"cuda"``.
        eval_epochs: epochs (1-based) after which the test accuracy is also taken
            (the curve); the last epoch is always evaluated.
        progress: a tqdm bar over epochs on stderr.
        return_net: add the trained network under ``"net"``.
        data: ``(x_train, y_train, x_test, y_test)`` at the setting's resolution,
            as :func:`load_tensors` gives them (e.g. sent by a Dask client: the
            worker then needs no data files); None: :func:`load_tensors`.

    Returns:
        A row: arch_str, index, setting fields, test_acc (%), test_loss,
        train_loss (mean over the last epoch), curve (JSON ``{epoch: acc}``),
        seconds, train_seconds, flops_fwd, train_flops, params, n_train.
    """
    check_device(device)
    arch = space.format_arch(space.as_cell(arch))
    t0 = time.perf_counter()
    if data is None:  # (x, y) + (x, y): tuples
        r = setting.resolution
        data = load_tensors("train", r, device) + load_tensors("test", r, device)
    xtr, ytr, xte, yte = (t.to(device) for t in data)
    idx = torch.from_numpy(subset(len(xtr), setting.fraction, seed)).to(device)
    net = network.build(arch, setting.dataset, C=setting.C, N=setting.N, seed=seed).to(
        device
    )
    flops = count_flops(net, setting.resolution)
    opt, sched = make_optimizer(net, setting)
    gen = torch.Generator().manual_seed(space.arch_seed(seed, space.as_cell(arch)))
    want = {int(e) for e in eval_epochs} | {setting.epochs}
    curve: dict[int, float] = {}
    t_load = time.perf_counter() - t0  # data (cached per process) + network build
    t_fit, t_eval = 0.0, 0.0  # seconds in SGD steps; in the last test pass
    c_fit, c_eval = 0.0, 0.0  # the same in CPU time of this process (all threads)
    n, bs = len(idx), setting.batch_size
    bar = tqdm(
        range(1, setting.epochs + 1),
        disable=not progress,
        leave=False,
        desc=f"{setting.name} {arch[:24]}",
        unit="ep",
        file=sys.stderr,
    )
    net.train()
    for epoch in bar:
        t1, c1 = time.perf_counter(), time.process_time()
        perm = idx[torch.randperm(n, generator=gen).to(device)]
        total, seen = 0.0, 0
        for i in range(0, n, bs):
            b = perm[i : i + bs]
            xb, yb = xtr[b], ytr[b]
            if setting.augment:
                xb = augment(xb, setting.pad, gen)
            total += train_step(net, opt, xb, yb) * len(b)
            seen += len(b)
        sched.step()
        t_fit += time.perf_counter() - t1
        c_fit += time.process_time() - c1
        train_loss = total / seen
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"{arch} {setting.name}: loss is {train_loss}")
        if epoch in want:
            t2, c2 = time.perf_counter(), time.process_time()
            acc, test_loss = evaluate(net, xte, yte)
            t_eval, c_eval = time.perf_counter() - t2, time.process_time() - c2
            curve[epoch] = acc
            bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{acc:.1f}")
    row = {
        "arch_str": arch,
        "index": space.benchmark_index(arch),
        "setting": setting.name,
        **{k: v for k, v in dataclasses.asdict(setting).items()},
        "seed": int(seed),
        "test_acc": curve[setting.epochs],
        "test_loss": test_loss,
        "train_loss": train_loss,
        "curve": json.dumps(curve),
        # cost of the proxy: training + one test pass (extra curve evaluations and
        # the per-process data loading excluded; load_seconds says what that was)
        "seconds": t_fit + t_eval,
        "train_seconds": t_fit,
        "eval_seconds": t_eval,
        "load_seconds": t_load,
        # CPU time: on a shared machine the wall time grows with the load, the CPU
        # time of a 1-thread run does not (much); cpu_seconds is the cost to quote
        "cpu_seconds": c_fit + c_eval,
        "train_cpu_seconds": c_fit,
        "flops_fwd": flops,
        "train_flops": 3.0 * flops * n * setting.epochs,
        "params": count_params(net),
        "n_train": int(n),
        "device": device,
        "threads": torch.get_num_threads(),
        "train_version": TRAIN_VERSION,
        "key": run_key(arch, setting, seed),
    }
    if return_net:
        row["net"] = net
    return row
