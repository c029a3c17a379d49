"""One training run: the seeded subset, SGD with cosine annealing, the test pass.

from zclib.train import Setting, train_arch
row = train_arch(arch, Setting.parse("econas-r8c4e40"), seed=0)  # {'test_acc': ...}

:func:`fit` is the one epoch loop, shared with the packed runs
(:mod:`zclib.train.packed`): it draws the batches, calls a step function that
returns one loss per cell, steps the schedule once per epoch and evaluates.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from zclib import network, space
from zclib.network import count_flops, count_params
from zclib.scoring import check_device
from zclib.train.setting import TRAIN_VERSION, Setting, run_key
from zclib.train.tensors import make_batch, split_tensors

ORDER_TAG = 2048  # mixed into a shared batch order's seed (not any arch's seed)


def build_net(
    arch: str,
    setting: Setting,
    seed: int,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    channels_last: bool = True,
) -> torch.nn.Module:
    """The network of a run of ``setting`` (seeded weights of
    :func:`zclib.network.build`) on ``device``.

    A network trained alone is kept channels-last (NHWC): the same arithmetic in
    another summation order, so float32 results differ from NCHW by rounding, as
    they do between machines; it is 1.3-1.7x faster on CPU at the four EcoNAS
    shapes (measured 2026-12-02: ``make bench-train``, ``results/bench/
    train_cpu.json``). The packed network's parts stay NCHW
    (``channels_last=False``): its grouped convolutions measured slower in NHWC.
    """
    net = network.build(
        arch,
        setting.dataset,
        C=setting.C,
        N=setting.N,
        variant=setting.variant,
        seed=seed,
    ).to(device, dtype)
    return net.to(memory_format=torch.channels_last) if channels_last else net


def subset(n: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training subset: the same for every architecture of a seed."""
    if fraction >= 1:
        return np.arange(n)
    k = max(1, round(n * fraction))
    return np.sort(np.random.default_rng([seed, 7]).choice(n, k, replace=False))


def batch_generator(setting: Setting, seed: int, arch) -> torch.Generator:
    """The generator of the batch order and the augmentation: seeded by the run seed
    alone with ``setting.shared_order`` (every cell sees the same batches, so cells
    can be packed), by (seed, cell) otherwise (the earlier recipe)."""
    if setting.shared_order:
        s = int(np.random.SeedSequence([int(seed), ORDER_TAG]).generate_state(1)[0])
    else:
        s = space.arch_seed(seed, space.as_cell(arch))
    return torch.Generator().manual_seed(s)


@torch.no_grad()
def evaluate(
    net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
) -> tuple[float, float]:
    """(top-1 accuracy in %, mean cross-entropy) with BN in eval mode."""
    was = net.training
    net.eval()
    correct, loss = 0, 0.0
    dtype = next(net.parameters()).dtype
    for i in range(0, len(x), batch):
        out = net(x[i : i + batch].to(dtype))
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


def fit(
    step: Callable[[torch.Tensor, torch.Tensor], list[float]],
    evaluate_all: Callable[[], list[tuple[float, float]]],
    sched,
    setting: Setting,
    seed: int,
    gen: torch.Generator,
    device: str,
    eval_epochs: Iterable[int] = (),
    progress: bool = False,
    desc: str = "",
    dtype: torch.dtype = torch.float32,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> dict:
    """The epoch loop of K cells trained on the same batches (K = 1: one run).

    Args:
        step: (x, y) -> the K cells' losses on the batch, before their SGD step.
        evaluate_all: () -> K (test accuracy %, test loss) pairs.
        sched: the learning-rate schedule, stepped after every epoch.
        setting, seed: the recipe and the run seed (the subset).
        gen: the batch order and augmentation generator (:func:`batch_generator`).
        device: where the data lives.
        eval_epochs: epochs (1-based) with a test pass besides the last trained
            (``setting.last_epoch``).
        progress: a tqdm bar over epochs on stderr.
        desc: the bar's label.
        dtype: the batches' dtype (the networks').
        data: the training (x, y) as :func:`split_tensors` gives them (e.g. sent
            by a Dask client); None: :func:`split_tensors`.

    Returns:
        curve, loss_curve, step_losses (K each: {epoch: test acc}, {epoch: mean
        training loss}, the loss of every step), test_loss and train_loss (K each),
        t_fit, c_fit, t_eval, c_eval (wall and CPU seconds of the SGD epochs and of
        the last test pass), n (training images).
    """
    xtr, ytr = (
        split_tensors(setting, "train", device)
        if data is None
        else (t.to(device) for t in data)
    )
    idx = torch.from_numpy(subset(len(xtr), setting.fraction, seed)).to(device)
    last = setting.last_epoch
    want = {int(e) for e in eval_epochs if int(e) <= last} | {last}
    K = None
    t_fit = c_fit = t_eval = c_eval = 0.0
    n, bs = len(idx), setting.batch_size
    bar = tqdm(
        range(1, last + 1),
        disable=not progress,
        leave=False,
        desc=desc,
        unit="ep",
        file=sys.stderr,
    )
    for epoch in bar:
        t1, c1 = time.perf_counter(), time.process_time()
        perm = idx[torch.randperm(n, generator=gen).to(device)]
        total, seen = None, 0
        for i in range(0, n, bs):
            b = perm[i : i + bs]
            xb, yb = make_batch(setting, xtr, ytr, b, gen)
            losses = step(xb.to(dtype), yb)
            if K is None:
                K = len(losses)
                curve, loss_curve = [{} for _ in range(K)], [{} for _ in range(K)]
                step_losses = [[] for _ in range(K)]
            if total is None:
                total = [0.0] * K
            for k, v in enumerate(losses):
                total[k] += v * len(b)
                step_losses[k].append(v)
            seen += len(b)
        sched.step()
        t_fit += time.perf_counter() - t1
        c_fit += time.process_time() - c1
        train_loss = [t / seen for t in total]
        bad = [v for v in train_loss if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{desc} {setting.name}: loss is {bad[0]}")
        for k in range(K):
            loss_curve[k][epoch] = train_loss[k]
        if epoch in want:
            t2, c2 = time.perf_counter(), time.process_time()
            res = evaluate_all()
            t_eval, c_eval = time.perf_counter() - t2, time.process_time() - c2
            for k, (acc, _) in enumerate(res):
                curve[k][epoch] = acc
            test_loss = [tl for _, tl in res]
            bar.set_postfix(loss=f"{train_loss[0]:.3f}", acc=f"{res[0][0]:.1f}")
    return dict(
        curve=curve,
        loss_curve=loss_curve,
        step_losses=step_losses,
        test_loss=test_loss,
        train_loss=train_loss,
        t_fit=t_fit,
        c_fit=c_fit,
        t_eval=t_eval,
        c_eval=c_eval,
        n=n,
    )


def run_row(
    arch: str,
    setting: Setting,
    seed: int,
    fitted: dict,
    k: int,
    flops: float,
    params: int,
    device: str,
    share: int = 1,
    t_load: float = 0.0,
    *,
    memory_format: str,
) -> dict:
    """The table row of cell ``k`` of a :func:`fit` result; seconds are the
    run's divided by ``share`` (the cells trained together); ``memory_format``
    the layout the caller built the network in (:func:`build_net`), given by
    every caller so that no default can misreport it."""
    n, e = fitted["n"], setting.last_epoch
    curve = fitted["curve"][k]
    return {
        "arch_str": arch,
        "index": space.benchmark_index(arch),
        "setting": setting.name,
        **{k2: v for k2, v in dataclasses.asdict(setting).items()},
        "seed": int(seed),
        "test_acc": curve[e],
        "test_loss": fitted["test_loss"][k],
        "train_loss": fitted["train_loss"][k],
        "curve": json.dumps(curve),
        "loss_curve": json.dumps(fitted["loss_curve"][k]),
        # cost of the proxy: training + one test pass (extra curve evaluations and
        # the per-process data loading excluded; load_seconds says what that was)
        "seconds": (fitted["t_fit"] + fitted["t_eval"]) / share,
        "train_seconds": fitted["t_fit"] / share,
        "eval_seconds": fitted["t_eval"] / share,
        "load_seconds": t_load / share,
        # CPU time: on a shared machine the wall time grows with the load, the CPU
        # time of a 1-thread run does not (much); cpu_seconds is the cost to quote
        "cpu_seconds": (fitted["c_fit"] + fitted["c_eval"]) / share,
        "train_cpu_seconds": fitted["c_fit"] / share,
        "flops_fwd": flops,
        "train_flops": 3.0 * flops * n * e,
        "params": params,
        "n_train": int(n),
        "epochs_trained": int(e),
        "pack": int(share),
        "memory_format": memory_format,
        "device": device,
        "threads": torch.get_num_threads(),
        "train_version": TRAIN_VERSION,
        "key": run_key(arch, setting, seed),
    }


def train_arch(
    arch: str,
    setting: Setting,
    seed: int = 0,
    device: str = "cpu",
    eval_epochs: Iterable[int] = (),
    progress: bool = False,
    return_net: bool = False,
    dtype: torch.dtype = torch.float32,
    return_steps: bool = False,
    data: dict | None = None,
    channels_last: bool = True,
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
        dtype: the network's dtype (float64 for exactness checks).
        return_steps: add every step's loss under ``"step_losses"``.
        data: ``{"train": (x, y), "test": (x, y)}`` as :func:`split_tensors`
            gives them (e.g. sent by a Dask client: the worker then needs no data
            files); None: :func:`split_tensors`.
        channels_last: the network's layout (:func:`build_net`); False: NCHW, the
            packed network's layout (the float32 packing test compares the two).

    Returns:
        A row: arch_str, index, setting fields, test_acc (%), test_loss,
        train_loss (mean over the last epoch), curve (JSON ``{epoch: acc}``),
        loss_curve (JSON ``{epoch: mean training loss}``), seconds,
        train_seconds, flops_fwd, train_flops, params, n_train, pack (1).
    """
    check_device(device)
    arch = space.format_arch(space.as_cell(arch))
    t0 = time.perf_counter()
    if data is None:
        xte, yte = split_tensors(setting, "test", device)
    else:
        xte, yte = (t.to(device) for t in data["test"])
    net = build_net(arch, setting, seed, device, dtype, channels_last)
    flops = count_flops(net, setting.resolution)
    opt, sched = make_optimizer(net, setting)
    gen = batch_generator(setting, seed, arch)
    t_load = time.perf_counter() - t0  # data (cached per process) + network build
    net.train()
    fitted = fit(
        lambda x, y: [train_step(net, opt, x, y)],
        lambda: [evaluate(net, xte, yte, setting.eval_batch)],
        sched,
        setting,
        seed,
        gen,
        device,
        eval_epochs,
        progress,
        f"{setting.name} {arch[:24]}",
        dtype,
        None if data is None else data["train"],
    )
    row = run_row(
        arch,
        setting,
        seed,
        fitted,
        0,
        flops,
        count_params(net),
        device,
        1,
        t_load,
        memory_format="channels_last" if channels_last else "contiguous",
    )
    if return_steps:
        row["step_losses"] = fitted["step_losses"][0]
    if return_net:
        row["net"] = net
    return row
