r"""Score many architectures with many proxies: shared passes, workers, resumable cache.

    python -m zclib score --dataset cifar10 --proxies all --n 1000 --seed 0 \
        --out results/scores/c10.parquet
    python -m zclib score --dataset cifar100 --archs archs.txt --device cuda \
        --workers 8 --out s.csv

Every architecture is scored on the same seeded minibatch(es) (``zclib.data.get_batch``
with the run's seed; batch 0 for all proxies, batches 1.. for zico) and a network
whose weights are drawn from a seed derived from (run seed, cell) only, so a score
does not depend on which other archs are in the run, on the order, on the chunking
or on the number of workers.

Resumable: results go to ``<out>.parts/part-NNNNN.parquet``, one file per chunk,
each written to a temporary name and renamed atomically; a killed run loses at most
the chunks in flight, and the same command resumes. When all chunks exist they are
merged into ``<out>`` (CSV or Parquet) plus ``<out>.meta.json`` (provenance, wall
time, NaN counts). A different configuration pointed at the same ``--out`` is refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from zclib import proxies as zproxies
from zclib import space
from zclib.fileio import (
    atomic_path,
    read_parquet,
    write_parquet_atomic,
    write_text_atomic,
)
from zclib.names import canonical_dataset
from zclib.network import build
from zclib.provenance import provenance


class Scorer:
    """Scores single architectures with a fixed configuration (one per process).

    Args:
        dataset: dataset name or alias.
        proxies: names or ``"all"`` (see :func:`zclib.proxies.resolve`).
        seed: data and weight-init seed.
        batch_size: images per minibatch.
        device: ``"cpu"`` or ``"cuda"``.
        variant: network variant (``"official"`` or ``"foresight"``).
        mode: ``"fused"`` (shared passes) or ``"naive"`` (one fresh copy per proxy).
        zico_batches: minibatches zico uses (>= 2).
        norm: normalisation constants (see ``zclib.data.NORMS``).
        augment: draw the batches through the reference's training transforms
            (see ``zclib.data.get_batch``).
    """

    def __init__(self, dataset="cifar10", proxies="all", seed=0, batch_size=64,
                 device="cpu", variant="official", mode="fused", zico_batches=2,
                 norm="foresight", augment=False):
        from zclib import data

        self.dataset = canonical_dataset(dataset)
        self.proxies = zproxies.resolve(proxies)
        self.seed, self.batch_size = int(seed), int(batch_size)
        self.device, self.variant, self.mode = device, variant, mode
        if device.startswith("cuda"):
            # full fp32 on GPUs: TF32 convolutions (PyTorch's cuDNN default) move
            # grad_norm/snip/zico by ~1-3% and grasp far more (see verify.py)
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        if zico_batches < 2:
            raise ValueError("zico needs at least 2 batches (--zico-batches >= 2)")
        n_batches = max(zproxies.get(p).n_batches for p in self.proxies)
        n_batches = max(n_batches, zico_batches if "zico" in self.proxies else 1)
        self.batches, metas = [], []
        for b in range(n_batches):
            batch = data.get_batch(self.dataset, batch_size, seed, index=b, norm=norm,
                                   augment=augment)
            self.batches.append((batch.x.to(device), batch.y.to(device)))
            metas.append(batch.meta)
        self.data_meta = metas[0]
        self.norm, self.augment = norm, bool(augment)

    def config(self) -> dict:
        """Everything that determines the scores (used to name and guard the cache)."""
        m = self.data_meta
        return {
            "dataset": self.dataset, "proxies": self.proxies, "seed": self.seed,
            "batch_size": self.batch_size, "variant": self.variant, "mode": self.mode,
            "n_batches": len(self.batches), "norm": self.norm, "augment": self.augment,
            "data_source": str(m.get("source", "")), "data_format": m.get("format", ""),
            "stand_in": bool(m.get("stand_in", False)),
            "tf32": False,
        }

    def score(self, arch: str | Sequence[int]) -> dict:
        """One row: arch_str, index, one column per proxy, seconds."""
        cell = space.as_cell(arch)
        arch_str = space.format_arch(cell)
        t0 = time.perf_counter()
        net = build(cell, self.dataset, variant=self.variant, seed=self.seed)
        net = net.to(self.device)
        scores = zproxies.compute(net, self.proxies, self.batches, mode=self.mode,
                                  context={"arch": arch_str, "dataset": self.dataset},
                                  copy_net=False)  # the network is ours alone
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        return {"arch_str": arch_str, "index": space.benchmark_index(arch_str),
                **scores, "seconds": time.perf_counter() - t0, "device": self.device}


# -- many architectures ---------------------------------------------------------------

_WORKER: Scorer | None = None


def worker_threads(workers: int, device: str) -> int:
    """Torch threads per worker process: the cores shared out on CPU, 1 on a GPU."""
    return max(1, (os.cpu_count() or 1) // workers) if device == "cpu" else 1


def _init_worker(kwargs: dict, threads: int) -> None:
    global _WORKER
    torch.set_num_threads(threads)
    _WORKER = Scorer(**kwargs)


def _score_chunk(task: tuple[int, list[str]]) -> tuple[int, list[dict]]:
    k, archs = task
    return k, [_WORKER.score(a) for a in archs]


def score_archs(
    archs: Sequence[str | Sequence[int]],
    dataset: str = "cifar10",
    proxies="all",
    *,
    seed: int = 0,
    batch_size: int = 64,
    device: str = "cpu",
    variant: str = "official",
    mode: str = "fused",
    zico_batches: int = 2,
    norm: str = "foresight",
    augment: bool = False,
    out: str | Path | None = None,
    chunk_size: int = 25,
    workers: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Score architectures; resumable when ``out`` is given.

    Args:
        archs: arch strings or cells.
        dataset, proxies, seed, batch_size, device, variant, mode, zico_batches, norm,
            augment: see :class:`Scorer`.
        out: final table (``.csv`` or ``.parquet``); chunks go to ``<out>.parts/``.
            None: keep everything in memory (no resume).
        chunk_size: architectures per chunk file.
        workers: processes (each with its own copy of the batch and network).
        progress: tqdm bar with ETA on stderr.

    Returns:
        One row per architecture, in the order given, with metadata columns.
    """
    archs = [space.format_arch(space.as_cell(a)) for a in archs]
    kwargs = dict(dataset=dataset, proxies=proxies, seed=seed, batch_size=batch_size,
                  device=device, variant=variant, mode=mode, zico_batches=zico_batches,
                  norm=norm, augment=augment)
    probe = Scorer(**kwargs)  # validates everything up front, gives the config
    cfg = probe.config()
    chunks = [archs[i:i + chunk_size] for i in range(0, len(archs), chunk_size)]
    parts_dir = None
    done: dict[int, pd.DataFrame] = {}
    if out is not None:
        out = Path(out)
        parts_dir = out.with_name(out.name + ".parts")
        _guard(parts_dir, cfg, archs, chunk_size)
        for k in range(len(chunks)):
            f = parts_dir / f"part-{k:05d}.parquet"
            if f.exists():
                done[k] = read_parquet(f)
    todo = [(k, c) for k, c in enumerate(chunks) if k not in done]
    t_start = time.time()
    bar = _bar(len(archs), sum(len(d) for d in done.values()), progress, cfg["dataset"])

    def save(k: int, rows: list[dict]) -> None:
        df = pd.DataFrame(rows)
        done[k] = df
        if parts_dir is not None:
            write_parquet_atomic(df, parts_dir / f"part-{k:05d}.parquet")
        bar.update(len(rows))

    try:
        if workers <= 1 or len(todo) <= 1:
            global _WORKER
            _WORKER = probe
            for task in todo:
                save(*_score_chunk(task))
        else:
            threads = worker_threads(workers, device)
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, _init_worker, (kwargs, threads)) as pool:
                for k, rows in pool.imap_unordered(_score_chunk, todo):
                    save(k, rows)
    finally:
        bar.close()
    wall = time.time() - t_start
    df = (
        pd.concat([done[k] for k in range(len(chunks))], ignore_index=True)
        if chunks
        else pd.DataFrame()
    )
    meta = provenance(**cfg, device=device, workers=workers, n_archs=len(archs),
                      wall_seconds_this_run=round(wall, 3),
                      nan_counts=nan_count(df, probe.proxies),
                      torch_version=torch.__version__,
                      device_name=_device_name(device))
    for c in ("seed", "batch_size", "dataset", "variant", "mode", "norm", "augment"):
        df[c] = cfg[c]
    df["data_source"] = cfg["data_source"]
    df["zclib_version"] = meta["zclib_version"]
    df["git_commit"] = meta["git_commit"]
    df.attrs["meta"] = meta
    if out is not None:
        _write_table(df, out)
        write_text_atomic(json.dumps(meta, indent=2, default=str),
                          out.with_name(out.name + ".meta.json"))
    nan_total = sum(meta["nan_counts"].values()) if len(df) else 0
    if progress and nan_total:
        print(f"NaN scores: {meta['nan_counts']}", file=sys.stderr)
    return df


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    import platform

    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


def _guard(parts_dir: Path, cfg: dict, archs: list[str], chunk_size: int) -> None:
    """Create the parts folder, or check it belongs to this exact run."""
    # the data folder may move (another machine): its format and stand-in flag stay
    ident = {**{k: v for k, v in cfg.items() if k != "data_source"},
             "chunk_size": chunk_size,
             "archs_sha1": hashlib.sha1("\n".join(archs).encode()).hexdigest()}
    f = parts_dir / "run.json"
    if f.exists():
        # runs started before "augment" was recorded drew un-augmented batches
        old = {"augment": False, **json.loads(f.read_text())}
        if old != ident:
            diff = {k: (old.get(k), ident.get(k))
                    for k in ident if old.get(k) != ident.get(k)}
            raise ValueError(
                f"{parts_dir} holds chunks of a different run ({diff}); delete it or "
                "choose another --out"
            )
        return
    parts_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(ident, indent=2), f)


def _write_table(df: pd.DataFrame, out: Path) -> None:
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got {out.name!r}")
    with atomic_path(out) as tmp:
        if out.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)


def _bar(total: int, initial: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc=f"score {desc}",
                unit="arch", file=sys.stderr, dynamic_ncols=True)


def read_archs(path: str | Path) -> list[str]:
    """Arch strings from a file, one per line (blank lines and # comments skipped)."""
    lines = Path(path).read_text().splitlines()
    archs = [ln.strip() for ln in lines
             if ln.strip() and not ln.lstrip().startswith("#")]
    for i, a in enumerate(archs):
        try:
            space.validate(a)
        except ValueError as exc:
            raise ValueError(f"{path}: arch {i + 1}: {exc}") from None
    return archs


# -- CLI ------------------------------------------------------------------------------

def _cmd_score(args: argparse.Namespace) -> int:
    if (args.n is None) == (args.archs is None):
        raise ValueError("give exactly one of --n N or --archs FILE")
    if args.archs:
        archs = read_archs(args.archs)
    else:
        archs = space.sample(args.n, seed=args.seed)  # the notebooks' N_ARCHS sample
    if not str(args.out).endswith((".csv", ".parquet")):
        raise ValueError(f"--out must end in .csv or .parquet, got {args.out!r}")
    df = score_archs(archs, args.dataset, args.proxies, seed=args.seed,
                     batch_size=args.batch_size, device=args.device,
                     variant=args.variant, mode=args.mode,
                     zico_batches=args.zico_batches, norm=args.norm,
                     augment=args.augment, out=args.out,
                     chunk_size=args.chunk_size, workers=args.workers,
                     progress=not args.quiet)
    meta = df.attrs["meta"]
    print(f"wrote {args.out}: {len(df)} archs, NaN counts {meta['nan_counts']}",
          file=sys.stderr)
    return 0


def add_cli(sub) -> None:
    """Register ``score`` (and ``speed``) with the ``python -m zclib`` parser."""
    s = sub.add_parser("score", help="score many architectures with zero-cost proxies")
    s.add_argument("--dataset", default="cifar10")
    s.add_argument("--proxies", default="all", help="all | abdelfattah | a,b,c")
    s.add_argument("--n", type=int, default=None,
                   help="the first N archs of space.sample(N, --seed) "
                   "(the cells of a notebook's N_ARCHS=N, SEED=seed)")
    s.add_argument("--archs", default=None, help="file of arch strings, one per line")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--variant", default="official", help="official | foresight")
    s.add_argument("--mode", default="fused", help="fused | naive")
    s.add_argument("--zico-batches", type=int, default=2)
    s.add_argument("--norm", default="foresight",
                   help="normalisation constants: foresight | foresight_exact | nb201")
    s.add_argument("--augment", action="store_true",
                   help="draw the batch through the reference's training transforms "
                        "(random crop + flip)")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--chunk-size", type=int, default=25)
    s.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_score)
    try:
        from zclib import speed

        speed.add_cli(sub)
    except ImportError:
        pass


def nan_count(df: pd.DataFrame, names: Sequence[str]) -> dict[str, int]:
    """NaN count per proxy column."""
    return {n: int(df[n].isna().sum()) for n in names if n in df}
