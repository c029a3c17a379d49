r"""Reduced-training (EcoNAS-style) proxies: train NB201 cell networks for real.

    python -m zclib train --setting r8c4e20 --arch \
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    python -m zclib train --n 20 --seed 0 --setting r8c4e20 --setting r16c8e15 \
        --threads 1 --out results/train/econas_cifar10.parquet

    from zclib import train
    s = train.Setting.parse("r8c4e20")      # resolution 8, C=4, 20 epochs
    row = train.train_arch(arch, s, seed=0)  # {'test_acc': ..., 'seconds': ...}
    df = train.sweep(archs, [s], seeds=[0], out="results/train/econas_cifar10.parquet")

A *setting* reduces NAS-Bench-201's training recipe along EcoNAS's axes: input
resolution (the 32x32 CIFAR images are area-downsampled once, by average pooling
over s x s blocks, s = 32 / resolution, before normalisation), channels ``C`` of the
first stage (stages have C, 2C, 4C), epochs, and the fraction of the 50,000 training
images (a seeded subset, the same for every architecture). What stays NB201's:
SGD momentum 0.9 with Nesterov, lr 0.1 annealed by cosine to 0 (stepped once per
epoch, T_max = epochs, as the EcoNAS reference script does), weight decay 5e-4 on
every parameter, batch 256, random crop (zero padding 4 pixels at 32x32, scaled with
the resolution: 1 at 8x8, 2 at 16x16) and horizontal flip, cross-entropy without
label smoothing, N = 5 cells per stage. Accuracy is top-1 on the 10,000 test images
at the same reduced resolution (BN in eval mode).

Cost, per run: ``seconds`` of wall time (training + final test pass) and
``train_flops`` = forward FLOPs of one image at the setting's resolution (the
benchmark's convention: multiply-accumulates of convs and linears,
:func:`zclib.network.count_flops`) x 3 (forward + backward ~ 3 forwards) x images
seen (training samples x epochs). The test pass is not in ``train_flops``.

Determinism: the weights are drawn from a seed derived from (seed, cell) only
(:func:`zclib.space.arch_seed`), the batch order and the augmentation from a
``torch.Generator`` seeded by (seed, cell); on CPU with a fixed thread count two runs
give bit-identical weights.

Resumable: each finished run is written to ``<out>.parts/<key>.parquet`` (temporary
name, then an atomic rename), where ``key`` hashes the dataset, the architecture,
the seed and *every* field of the setting; a killed sweep loses only the runs in
flight and the same command trains only what is missing. :func:`merge` folds the
parts into ``<out>`` (the shipped table), which is itself read as a cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from zclib import network, space
from zclib.fileio import read_parquet, write_parquet_atomic
from zclib.names import canonical_dataset
from zclib.network import count_flops, count_params
from zclib.paths import RESULTS_DIR
from zclib.provenance import provenance

TRAIN_VERSION = 1  # bump when the training code changes results; part of every key
TABLE = RESULTS_DIR / "train" / "econas_cifar10.parquet"  # the shipped sweep
BASE_PAD = 4  # random-crop zero padding at 32x32 (NB201), scaled with resolution
_NAME = re.compile(r"^r(\d+)c(\d+)e(\d+)(?:f([0-9.]+))?(?:b(\d+))?$")


@dataclasses.dataclass(frozen=True)
class Setting:
    """One reduced training recipe (see the module docstring for what is fixed)."""

    resolution: int = 32  # input side, pixels (32, 16, 8)
    C: int = 16  # channels of the first stage (NB201: 16)
    epochs: int = 12  # passes over the (subset of the) training images
    fraction: float = 1.0  # share of the 50,000 training images used
    batch_size: int = 256  # images per SGD step
    N: int = 5  # cells per stage (NB201: 5)
    lr: float = 0.1  # initial learning rate, cosine-annealed to 0 over `epochs`
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = True
    augment: bool = True  # random crop (padding BASE_PAD * resolution / 32) + flip
    dataset: str = "cifar10"

    def __post_init__(self):
        if self.resolution < 1 or 32 % self.resolution:
            raise ValueError(f"resolution must divide 32, got {self.resolution}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        if self.C < 1 or self.epochs < 1 or self.batch_size < 1 or self.N < 1:
            raise ValueError(f"C, epochs, batch_size and N must be >= 1: {self}")
        if canonical_dataset(self.dataset) != "cifar10":
            raise ValueError("reduced training is implemented for cifar10 only")

    @classmethod
    def parse(cls, name: str, **overrides) -> Setting:
        """``r8c4e20`` (+ optional ``f0.1`` fraction, ``b128`` batch) -> Setting."""
        m = _NAME.match(name.strip())
        if not m:
            raise ValueError(f"bad setting {name!r}; expected e.g. r8c4e20, "
                             "r16c8e15f0.5 or r8c4e1f0.02b128")
        r, c, e, f, b = m.groups()
        kw = dict(resolution=int(r), C=int(c), epochs=int(e))
        if f is not None:
            kw["fraction"] = float(f)
        if b is not None:
            kw["batch_size"] = int(b)
        return cls(**{**kw, **overrides})

    @property
    def name(self) -> str:
        """Short name; round-trips through :meth:`parse` for the encoded fields."""
        s = f"r{self.resolution}c{self.C}e{self.epochs}"
        if self.fraction != 1.0:
            s += f"f{self.fraction:g}"
        if self.batch_size != 256:
            s += f"b{self.batch_size}"
        return s

    @property
    def pad(self) -> int:
        return max(1, BASE_PAD * self.resolution // 32)

    def config(self) -> dict:
        """Every field (+ the code version): what a cached result must match."""
        return {**dataclasses.asdict(self), "train_version": TRAIN_VERSION}


def run_key(arch: str, setting: Setting, seed: int) -> str:
    """Cache key of one run: a hash of the arch, the seed and every setting field."""
    blob = json.dumps({"arch": space.validate(arch), "seed": int(seed),
                       **setting.config()}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


# -- data ------------------------------------------------------------------------------

_DATA: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def load_tensors(split: str, resolution: int, device="cpu"
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 ``split`` as normalised float32 N x 3 x r x r and int64 labels.

    Downsampling: average pooling over (32/r) x (32/r) blocks of the [0, 1] images
    (= area interpolation), then NB201's mean/std. Kept in memory per process.
    """
    key = (split, resolution, str(device))
    if key not in _DATA:
        from zclib import data

        images, labels = data.load_split("cifar10", split)  # uint8 N x 32 x 32 x 3
        mean, std = (torch.tensor(v).view(1, 3, 1, 1)
                     for v in data.normalization("cifar10", "nb201"))
        side = images.shape[1]
        x = torch.empty(len(images), 3, resolution, resolution)
        for i in range(0, len(images), 4096):  # in chunks: no 600 MB float copy
            c = torch.from_numpy(np.array(images[i:i + 4096])).permute(0, 3, 1, 2)
            c = c.float().div_(255)
            if resolution != side:
                c = F.avg_pool2d(c, side // resolution)
            x[i:i + 4096] = (c - mean) / std
        _DATA[key] = (x.to(device), torch.from_numpy(np.array(labels)).to(device))
    return _DATA[key]


def augment(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a batch B x 3 x r x r.

    Zero padding is applied to the normalised images, i.e. pads with the mean colour
    (torchvision pads the raw image with black; a negligible difference).
    """
    b, _, r, _ = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    off = torch.randint(0, 2 * pad + 1, (2, b), generator=gen).to(x.device)
    ar = torch.arange(r, device=x.device)
    rows = (off[0][:, None] + ar)[:, None, :, None]  # B x 1 x r x 1
    cols = (off[1][:, None] + ar)[:, None, None, :]  # B x 1 x 1 x r
    flip = torch.rand(b, generator=gen).to(x.device) < 0.5
    cols = torch.where(flip[:, None, None, None], cols.flip(-1), cols)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(3, device=x.device)[None, :, None, None]
    return xp[bi, ci, rows, cols]


# -- one run ---------------------------------------------------------------------------

def subset(n: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training subset: the same for every architecture of a seed."""
    if fraction >= 1:
        return np.arange(n)
    k = max(1, round(n * fraction))
    return np.sort(np.random.default_rng([seed, 7]).choice(n, k, replace=False))


@torch.no_grad()
def evaluate(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch: int = 1000) -> tuple[float, float]:
    """(top-1 accuracy in %, mean cross-entropy) with BN in eval mode."""
    was = net.training
    net.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch):
        out = net(x[i:i + batch])
        loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    net.train(was)
    return 100.0 * correct / len(x), loss / len(x)


def make_optimizer(net: torch.nn.Module, setting: Setting):
    """(SGD, per-epoch cosine schedule to 0 over ``setting.epochs``)."""
    opt = torch.optim.SGD(net.parameters(), lr=setting.lr, momentum=setting.momentum,
                          weight_decay=setting.weight_decay, nesterov=setting.nesterov)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=setting.epochs,
                                                       eta_min=0.0)
    return opt, sched


def train_step(net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor) -> float:
    """One SGD step on a batch; returns the batch's loss before the step."""
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def train_arch(arch: str, setting: Setting, seed: int = 0, device: str = "cpu",
               eval_epochs: Iterable[int] = (), progress: bool = False,
               return_net: bool = False) -> dict:
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

    Returns:
        A row: arch_str, index, setting fields, test_acc (%), test_loss,
        train_loss (mean over the last epoch), curve (JSON ``{epoch: acc}``),
        seconds, train_seconds, flops_fwd, train_flops, params, n_train.
    """
    from tqdm.auto import tqdm

    arch = space.format_arch(space.as_cell(arch))
    t0 = time.perf_counter()
    xtr, ytr = load_tensors("train", setting.resolution, device)
    xte, yte = load_tensors("test", setting.resolution, device)
    idx = torch.from_numpy(subset(len(xtr), setting.fraction, seed)).to(device)
    net = network.build(arch, setting.dataset, C=setting.C, N=setting.N,
                        seed=seed).to(device)
    flops = count_flops(net, setting.resolution)
    opt, sched = make_optimizer(net, setting)
    gen = torch.Generator().manual_seed(space.arch_seed(seed, space.as_cell(arch)))
    want = {int(e) for e in eval_epochs} | {setting.epochs}
    curve: dict[int, float] = {}
    t_load = time.perf_counter() - t0  # data (cached per process) + network build
    t_fit, t_eval = 0.0, 0.0  # seconds in SGD steps; in the last test pass
    c_fit, c_eval = 0.0, 0.0  # the same in CPU time of this process (all threads)
    n, bs = len(idx), setting.batch_size
    bar = tqdm(range(1, setting.epochs + 1), disable=not progress, leave=False,
               desc=f"{setting.name} {arch[:24]}", unit="ep", file=sys.stderr)
    net.train()
    for epoch in bar:
        t1, c1 = time.perf_counter(), time.process_time()
        perm = idx[torch.randperm(n, generator=gen).to(device)]
        total, seen = 0.0, 0
        for i in range(0, n, bs):
            b = perm[i:i + bs]
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
        "arch_str": arch, "index": space.benchmark_index(arch), "setting": setting.name,
        **{k: v for k, v in dataclasses.asdict(setting).items()},
        "seed": int(seed), "test_acc": curve[setting.epochs], "test_loss": test_loss,
        "train_loss": train_loss, "curve": json.dumps(curve),
        # cost of the proxy: training + one test pass (extra curve evaluations and
        # the per-process data loading excluded; load_seconds says what that was)
        "seconds": t_fit + t_eval, "train_seconds": t_fit, "eval_seconds": t_eval,
        "load_seconds": t_load,
        # CPU time: on a shared machine the wall time grows with the load, the CPU
        # time of a 1-thread run does not (much); cpu_seconds is the cost to quote
        "cpu_seconds": c_fit + c_eval, "train_cpu_seconds": c_fit,
        "flops_fwd": flops, "train_flops": 3.0 * flops * n * setting.epochs,
        "params": count_params(net), "n_train": int(n), "device": device,
        "threads": torch.get_num_threads(), "train_version": TRAIN_VERSION,
        "key": run_key(arch, setting, seed),
    }
    if return_net:
        row["net"] = net
    return row


# -- many runs: resumable -------------------------------------------------------------

def parts_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".parts")


def load_table(out: str | Path = TABLE, include_parts: bool = True) -> pd.DataFrame:
    """Every finished run of a sweep: the merged table plus unmerged parts."""
    out = Path(out)
    frames = [read_parquet(out)] if out.exists() else []
    pd_ = parts_dir(out)
    if include_parts and pd_.is_dir():
        frames += [read_parquet(f) for f in sorted(pd_.glob("*.parquet"))]
    if not frames:
        return pd.DataFrame(columns=["key", "arch_str", "setting", "seed"])
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates("key", keep="first").reset_index(drop=True)


def sweep(archs: Sequence[str], settings: Sequence[Setting],
          seeds: Sequence[int] = (0,), out: str | Path | None = TABLE,
          device: str = "cpu", threads: int | None = None,
          eval_epochs: Iterable[int] = (), progress: bool = True,
          read_from: Sequence[str | Path] = (),
          max_runs: int | None = None) -> pd.DataFrame:
    """Train every (arch, setting, seed) not already in ``out`` (or ``read_from``).

    Runs go architecture by architecture (all settings of an arch, then the next),
    so an interrupted sweep leaves complete rows for a prefix of the sample.

    Args:
        archs, settings, seeds: the grid.
        out: the table to resume into (runs land in ``<out>.parts/``); None keeps
            results in memory only.
        device: ``"cpu"`` or ``"cuda"``.
        threads: ``torch.set_num_threads`` for the sweep (None: leave as is).
        eval_epochs: extra epochs at which the test accuracy is recorded.
        progress: a tqdm bar over runs.
        read_from: further tables whose finished runs count as done (e.g. the
            shipped table when ``out`` is a scratch folder).
        max_runs: stop after training this many new runs (None: all).

    Returns:
        One row per requested (arch, setting, seed), in grid order, with
        ``cached`` True for runs that were not trained now.
    """
    from tqdm.auto import tqdm

    if threads:
        torch.set_num_threads(int(threads))
    archs = [space.format_arch(space.as_cell(a)) for a in archs]
    grid = [(a, s, int(sd)) for a in archs for sd in seeds for s in settings]
    have = pd.concat([load_table(t) for t in [*read_from, *([out] if out else [])]],
                     ignore_index=True) if (read_from or out) else pd.DataFrame()
    done = {} if not len(have) else {k: r for k, r in zip(
        have["key"], have.to_dict("records"), strict=True)}
    todo = [g for g in grid if run_key(*g) not in done]
    if max_runs is not None:
        todo = todo[:max_runs]
    bar = tqdm(total=len(todo), disable=not progress, desc="train", unit="run",
               file=sys.stderr, dynamic_ncols=True)
    meta = provenance(torch_version=torch.__version__)
    rows = {}
    try:
        for a, s, sd in todo:
            bar.set_postfix_str(f"{s.name} {a[:30]}")
            row = train_arch(a, s, seed=sd, device=device, eval_epochs=eval_epochs)
            row.update(zclib_version=meta["zclib_version"],
                       git_commit=meta["git_commit"], git_dirty=meta["git_dirty"],
                       torch_version=meta["torch_version"],
                       date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       loadavg_1min=os.getloadavg()[0])
            rows[row["key"]] = row
            if out is not None:
                part = parts_dir(out) / f"{row['key']}.parquet"
                write_parquet_atomic(pd.DataFrame([row]), part)
            bar.update(1)
    finally:
        bar.close()
    result = []
    for g in grid:
        k = run_key(*g)
        if k in rows:
            result.append({**rows[k], "cached": False})
        elif k in done:
            result.append({**done[k], "cached": True})
    return pd.DataFrame(result)


def merge(out: str | Path = TABLE) -> Path:
    """Fold ``<out>.parts/*.parquet`` into ``<out>`` (atomic), then remove the parts."""
    out = Path(out)
    df = load_table(out)
    df = df.sort_values(["setting", "seed", "arch_str"], kind="stable")
    write_parquet_atomic(df.reset_index(drop=True), out)
    pd_ = parts_dir(out)
    if pd_.is_dir():
        for f in pd_.glob("*.parquet"):
            f.unlink()
        try:
            pd_.rmdir()
        except OSError:
            pass
    return out


# -- cost comparison -------------------------------------------------------------------

def budgets(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, evaluated epoch): the accuracy and cost of stopping there.

    Stopping an E-epoch run after e epochs (the learning rate not yet annealed, as the
    EcoNAS reference read epoch 20 of its 40-epoch runs) costs e/E of its training
    time and FLOPs plus one test pass. ``proxy`` names it ``<setting>@<e>``.
    """
    rows = []
    for r in runs.to_dict("records"):
        for e, acc in json.loads(r["curve"]).items():
            f = int(e) / r["epochs"]
            cpu = r.get("train_cpu_seconds", np.nan)
            rows.append({
                "arch_str": r["arch_str"], "index": r["index"], "setting": r["setting"],
                "epochs": r["epochs"], "budget": int(e), "proxy": f"{r['setting']}@{e}",
                "acc": acc, "train_flops": r["train_flops"] * f,
                "seconds": r["train_seconds"] * f + r["eval_seconds"],
                "cpu_seconds": cpu * f + (r.get("cpu_seconds", np.nan) - cpu),
            })
    return pd.DataFrame(rows)


def time_zero_cost(archs: Sequence[str], proxies: dict[str, Sequence[str]],
                   dataset: str = "cifar10", batch_size: int = 64, seed: int = 0,
                   threads: int = 1, warmup: int = 1) -> pd.DataFrame:
    """Seconds (wall and CPU) to score each arch with each proxy set, one by one.

    Same conventions as the reduced-training runs: ``threads`` torch threads, CPU
    time of this process, network build included (as in :class:`zclib.scoring.Scorer`).

    Args:
        archs: architectures to time (the first ``warmup`` are run once untimed).
        proxies: name -> proxy names scored together in one fused pass, e.g.
            ``{"synflow": ["synflow"], "vote": ["synflow", "jacob_cov", "snip"]}``.
        dataset, batch_size, seed: scorer settings.
        threads: ``torch.set_num_threads`` while timing (restored after).
        warmup: untimed architectures first (allocator, data load).

    Returns:
        Rows arch_str, proxy, seconds, cpu_seconds, flops_fwd (one image, 32x32,
        C=16), batch_size.
    """
    from zclib.network import cost
    from zclib.scoring import Scorer

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        scorers = {name: Scorer(dataset, list(ps), seed=seed, batch_size=batch_size)
                   for name, ps in proxies.items()}
        for a in list(archs)[:warmup]:
            for sc in scorers.values():
                sc.score(a)
        rows = []
        for a in archs:
            for name, sc in scorers.items():
                t, c = time.perf_counter(), time.process_time()
                sc.score(a)
                rows.append({"arch_str": a, "proxy": name,
                             "seconds": time.perf_counter() - t,
                             "cpu_seconds": time.process_time() - c,
                             "flops_fwd": cost(a, dataset)["flops_M"] * 1e6,
                             "batch_size": batch_size})
    finally:
        torch.set_num_threads(old)
    return pd.DataFrame(rows)


# -- CLI -------------------------------------------------------------------------------

def _cmd_train(args: argparse.Namespace) -> int:
    if (args.n is None) == (args.arch is None):
        raise ValueError("give exactly one of --n N or --arch ARCH")
    archs = space.sample(args.n, args.seed) if args.n else [args.arch]
    settings = [Setting.parse(s) for s in args.setting]
    evals = [int(e) for e in args.eval_epochs.split(",") if e.strip()]
    out = None if args.out == "-" else args.out
    df = sweep(archs, settings, seeds=[args.seed], out=out, device=args.device,
               threads=args.threads, eval_epochs=evals, max_runs=args.max_runs)
    if out and args.merge:
        merge(out)
    cols = ["setting", "arch_str", "test_acc", "seconds", "train_flops", "cached"]
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(df[cols].to_string(index=False) if len(df) else "nothing to do")
    return 0


def add_cli(sub) -> None:
    """Register ``train`` with the ``python -m zclib`` parser."""
    t = sub.add_parser("train", help="reduced training (EcoNAS-style proxies)")
    t.add_argument("--arch", default=None, help="one arch string")
    t.add_argument("--n", type=int, default=None,
                   help="the first N archs of space.sample(N, --seed)")
    t.add_argument("--setting", action="append", required=True,
                   help="e.g. r8c4e20 (repeatable); f<fraction>, b<batch> optional")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu")
    t.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    t.add_argument("--eval-epochs", default="", help="e.g. 5,10,15: extra test evals")
    t.add_argument("--max-runs", type=int, default=None)
    t.add_argument("--out", default=str(TABLE), help="table to resume into; - = none")
    t.add_argument("--merge", action="store_true", help="fold parts into --out")
    t.set_defaults(func=_cmd_train)
