"""The EcoNAS-at-scale job (issue 17): the reference recipe on a seeded sample.

    python -m zclib train-job --hours 6 --workers 2 --threads 1  # resumes; CPU
    python -m zclib train-job --merge                          # fold parts, tables
    python -m zclib train-job --pilot                          # s/cell estimate
    PYTHONPATH=. python3 -m zclib.train --device cuda --pack 128 --block 128 \
        --hours 0.1 --bundle "$OUT"                  # on a device (make gpu-econas)
    python -m zclib train-job --unpack FOLDER        # here: add what it brought back

Cells: ``space.sample(n, seed)``. Settings (:data:`PLAN`): the reference recipe
``econas-r8c4e40`` (the paper's EcoNAS point) on the first ``n`` cells and the
other three shapes on prefixes of the same cells; the test accuracy is recorded at
every epoch of :data:`EVAL_EPOCHS` (the paper reads epoch 20 of 40; each extra test
pass costs ~0.2% of a 40-epoch run). Work goes block by block (:data:`BLOCK`
cells): every setting whose prefix reaches into a block is trained on it before
the next block starts, so a stopped job leaves complete prefixes. Each run is one
part of the training sweep's cache (:func:`zclib.train.sweep`,
``<out>.parts/<key>.parquet``): a killed job loses only the groups in flight and
the same command trains only what is missing; ``--hours`` stops starting new
groups after that much wall time (one session's chunk; commit the parts or the
merged table, then run it again).

Tables (:func:`write_tables`): ``<out>`` = one row per run with every setting field
and provenance column (zclib version, commit, dirty flag, torch version, date,
load average; see :func:`zclib.train.sweep`), and ``<out stem>_acc.csv``: index,
arch, setting, ``acc_e<E>`` per recorded epoch, CPU seconds and FLOPs, the
compact table the notebook reads; ``<out stem>_acc.json`` its provenance.

On a device machine only ``$OUT`` comes back: ``bundle_dir`` keeps there one
archive, ``<out stem>.tar.gz`` (:func:`archive_name`: the parts folder's
``run.json`` and runs), rewritten every 30 s and at the end
(:class:`zclib.carry.Bundler`); here :func:`unpack` adds its runs to the parts
folder (a run already here is kept) and :func:`write_tables` merges. A run's key
does not name its device: the rows' ``device`` column does.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from zclib import carry, chunks, space
from zclib.fileio import write_text_atomic
from zclib.paths import RESULTS_DIR
from zclib.provenance import portable_path, provenance
from zclib.train.loop import train_arch
from zclib.train.packed import train_packed
from zclib.train.runs import load_table, merge, parts_dir, sweep
from zclib.train.setting import Setting, run_key
from zclib.train.tensors import split_tensors

OUT = RESULTS_DIR / "train" / "econas_ref_cifar10.parquet"
# setting -> cells (a prefix of the sample): the aims
PLAN = {
    "econas-r8c4e40": 1000,
    "econas-r8c8e40": 100,
    "econas-r16c4e40": 100,
    "econas-r16c8e40": 24,
}
EVAL_EPOCHS = (1, 2, 3, 5, 10, 15, 20, 25, 30, 35, 40)
BLOCK = 24  # cells per block (the smallest prefix)


def blocks(plan: dict[str, int], block: int = BLOCK) -> list[tuple[int, int, list]]:
    """(first cell, last cell + 1, settings) per block, in training order."""
    n = max(plan.values())
    out = []
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        names = [s for s, k in plan.items() if k > lo]
        out.append((lo, hi, names))
    return out


def run_job(
    plan: dict[str, int] | None = None,
    seed: int = 0,
    out: str | Path = OUT,
    pack: int = 1,
    threads: int | None = 1,
    hours: float | None = None,
    eval_epochs=EVAL_EPOCHS,
    device: str = "cpu",
    block: int = BLOCK,
    progress: bool = True,
    workers: int = 1,
    bundle_dir: str | Path | None = None,
    budget_cpu_hours: float | None = None,
    **overrides,
) -> pd.DataFrame:
    """Train what the plan still lacks, block by block; returns this call's rows.

    Args:
        plan: setting name -> number of cells (a prefix of the sample); the
            default :data:`PLAN`.
        seed: the sample's and the runs' seed.
        out: the table (parts in ``<out>.parts/``).
        pack: cells trained at once (:func:`zclib.train.train_packed`).
        threads: torch threads.
        hours: stop starting new groups after this wall time (None: run to the
            end).
        eval_epochs: epochs with a test pass (the last is always there).
        device: ``"cpu"`` or ``"cuda"``.
        block: cells per block.
        progress: tqdm bars.
        workers: runs trained at once, one process each (> 1: a local Dask
            cluster, the ``[dask]`` extra; needs ``pack`` 1). On the 2-core CPU
            one cell per core is the fastest way (docs/econas_plan.md).
        bundle_dir: keep :func:`archive_name` there, rewritten as runs finish
            (a device run's ``$OUT``); None: none.
        budget_cpu_hours: start no block whose runs would bring the plan's CPU
            time (the rows' ``cpu_seconds``, training + one test pass, summed over
            every run of the plan's settings in ``out``) over this, by the mean
            cost of the runs of each setting so far (:func:`over_budget`; a
            setting without runs yet is not estimated); None: no limit.
        **overrides: Setting fields applied to every setting (tiny test runs:
            ``fraction=0.01``, ``N=1``).

    Returns:
        The rows of every run requested so far in this call (``cached`` marks
        those trained before).
    """
    plan = dict(PLAN if plan is None else plan)
    deadline = None if hours is None else time.monotonic() + 3600 * hours
    archs = space.sample(max(plan.values()), seed)
    frames = []
    folder = parts_dir(out)
    bundler = (
        None
        if bundle_dir is None
        else carry.Bundler(
            Path(out).parent,
            {archive_name(out): lambda: carry.parts_files(folder, f"*{chunks.SUFFIX}")},
            bundle_dir,
        ).start()
    )
    try:
        for lo, hi, names in blocks(plan, block):
            if deadline is not None and time.monotonic() > deadline:
                break
            if budget_cpu_hours is not None:
                why = over_budget(
                    out, plan, archs[lo:hi], lo, seed, budget_cpu_hours, overrides
                )
                if why:
                    print(why, file=sys.stderr, flush=True)
                    break
            for name in names:
                s = Setting.parse(name, **overrides)
                frames.append(
                    sweep(
                        archs[lo : min(hi, plan[name])],
                        [s],
                        seeds=[seed],
                        out=out,
                        device=device,
                        threads=threads,
                        eval_epochs=[e for e in eval_epochs if e <= s.last_epoch],
                        progress=progress,
                        pack=pack,
                        deadline=deadline,
                        backend="dask" if workers > 1 else "pool",
                        workers=workers,
                    )
                )
    finally:
        if bundler is not None:
            bundler.stop()
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def over_budget(
    out, plan: dict[str, int], cells, lo: int, seed: int, hours: float, overrides=None
) -> str:
    """Why training the block of ``cells`` (sample positions ``lo``...) would bring
    the plan's CPU time over ``hours`` ("" if it fits): CPU seconds spent so far
    plus, per setting, the block's runs still missing x the mean ``cpu_seconds``
    of that setting's runs so far."""
    runs = load_table(out)
    settings = {n: Setting.parse(n, **(overrides or {})) for n in plan}
    have = set(runs["key"])
    spent = need = 0.0
    for name, s in settings.items():
        done = runs.loc[runs["setting"] == s.name, "cpu_seconds"] if len(runs) else []
        spent += float(sum(done))
        todo = [
            a
            for i, a in enumerate(cells)
            if lo + i < plan[name] and run_key(a, s, seed) not in have
        ]
        if len(done) and todo:
            need += len(todo) * float(sum(done)) / len(done)
    if spent + need <= 3600 * hours:
        return ""
    return (
        f"CPU budget: {spent / 3600:.2f} of {hours:g} CPU-hours spent; the block of "
        f"cells {lo}-{lo + len(cells) - 1} needs ~{need / 3600:.2f} more: stopped "
        "(a larger --budget-cpu-hours goes on)"
    )


def archive_name(out: str | Path = OUT) -> str:
    """The device run's archive of ``out``'s parts: ``<out stem>.tar.gz``."""
    return Path(out).stem + ".tar.gz"


def _member(out: str | Path) -> re.Pattern:
    """What an archive of ``out``'s parts may hold (names relative to its folder)."""
    name = re.escape(parts_dir(out).name)
    return re.compile(rf"{name}/(run\.json|[0-9a-f]{{16}}\.parquet)")


def prepare(dest: str | Path) -> Path:
    """Copy the CIFAR-10 images the job trains on to ``dest/cifar10/`` for a device
    run (``ZCLIB_DATA=dest`` there). Only the JPEG archive travels (19.4 MB in
    ``../shared/data``): the official pickles or a decoded folder are over the
    64 MiB a device call may carry (ValueError)."""
    import shutil

    from zclib.data.sources import find_source

    src = find_source("cifar10")
    if src.format != "image-tar":
        raise ValueError(
            f"CIFAR-10 found as {src.format} at {src.path}: a device run carries "
            "only cifar10-images.tar.gz (the official pickles are over the 64 MiB "
            "a call may carry); point $ZCLIB_DATA at the folder that holds the tar"
        )
    target = Path(dest) / "cifar10" / "cifar10-images.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src.path, target)
    return target


def unpack(archives: Sequence[str | Path], out: str | Path = OUT) -> dict[str, dict]:
    """Add the runs of device-run archives (:func:`archive_name`) to ``out``'s
    parts folder: a readable run here is kept, a damaged one replaced
    (:func:`zclib.carry.unpack`); then :func:`write_tables` merges them."""
    return carry.unpack(archives, Path(out).parent, _member(out))


PILOT = {"r8c4": (1, 8), "r8c8": (1, 8), "r16c4": (1, 8), "r16c8": (1, 4)}


def pilot(
    shapes: dict[str, tuple[int, ...]] | None = None,
    images: int = 4096,
    seed: int = 0,
    epochs: int = 40,
    n_evals: int = len(EVAL_EPOCHS),
    **overrides,
) -> list[dict]:
    """CPU seconds per cell of the reference recipe, extrapolated from one epoch on
    ``images`` training images (2 steps of batch 2048) and one test pass: training
    x (all images / ``images``) x ``epochs`` + ``n_evals`` test passes. One row
    per (shape, K): K = 1 one at a time, K > 1 packed. What docs/econas_plan.md
    quotes; a loaded machine inflates it (the load average is recorded)."""
    shapes = PILOT if shapes is None else shapes
    rows = []
    for shape, packs in shapes.items():
        s = Setting.parse(f"econas-{shape}e1", **overrides)
        total = len(split_tensors(s, "train")[0])
        s = Setting.parse(
            f"econas-{shape}e1", fraction=min(1.0, images / total), **overrides
        )
        for K in packs:
            archs = space.sample(K, seed)
            if K == 1:
                runs = [train_arch(archs[0], s, seed=seed)]
            else:
                runs = train_packed(archs, s, seed=seed)
            fit = sum(r["train_cpu_seconds"] for r in runs) / K
            ev = sum(r["cpu_seconds"] - r["train_cpu_seconds"] for r in runs) / K
            n = runs[0]["n_train"]
            rows.append(
                {
                    "shape": shape,
                    "K": K,
                    "n_train": n,
                    "fit_cpu_s_per_cell": fit,
                    "eval_cpu_s_per_cell": ev,
                    "est_cpu_s_per_cell": fit * total / n * epochs + ev * n_evals,
                    "loadavg_1min": os.getloadavg()[0],
                }
            )
    return rows


def compact(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: index, arch_str, setting, seed, acc_e<E> for every recorded
    epoch, final test and train loss, cpu_seconds, train_flops, pack."""
    rows = []
    for r in runs.to_dict("records"):
        row = {k: r[k] for k in ("index", "arch_str", "setting", "seed")}
        for e, acc in sorted(json.loads(r["curve"]).items(), key=lambda t: int(t[0])):
            row[f"acc_e{int(e)}"] = acc
        row.update(
            {
                k: r.get(k)
                for k in (
                    "test_loss",
                    "train_loss",
                    "cpu_seconds",
                    "train_flops",
                    "pack",
                    "git_commit",
                )
            }
        )
        rows.append(row)
    df = pd.DataFrame(rows)
    return df.sort_values(["setting", "seed", "index"], kind="stable").reset_index(
        drop=True
    )


def write_tables(out: str | Path = OUT) -> tuple[Path, Path]:
    """Merge the parts into ``out`` and write the compact CSV and its provenance."""
    out = Path(out)
    merge(out)
    runs = load_table(out)
    acc = compact(runs)
    csv = out.with_name(out.stem + "_acc.csv")
    write_text_atomic(acc.to_csv(index=False, float_format="%.6g"), csv)
    meta = provenance(
        source=portable_path(out),
        runs=len(runs),
        by_setting=runs["setting"].value_counts().sort_index().to_dict(),
        commits=sorted(set(runs["git_commit"].astype(str))),
        any_dirty=bool(runs["git_dirty"].astype(bool).any()),
    )
    meta.pop("git_dirty")  # the merge's own state says nothing about the runs
    side = csv.with_suffix(".json")
    write_text_atomic(json.dumps(meta, indent=1, sort_keys=True) + "\n", side)
    return csv, side
