"""Many training runs, resumable: the sweep, its parts, the merged table.

    from zclib.train import Setting, sweep, merge, load_table
    df = sweep(archs, [Setting.parse("r8c4e20")], seeds=[0], out="t.parquet")
    df = sweep(archs, [Setting.parse("econas-r8c4e40")], pack=16, out="t.parquet")
    merge("t.parquet")           # fold t.parquet.parts/ into t.parquet
    df = sweep(archs, settings, out="t.parquet", backend="dask", workers=4)

Each finished run is one chunk of :mod:`zclib.chunks` (``<out>.parts/<key>.parquet``,
``key`` = :func:`zclib.train.run_key`); a damaged chunk is warned about and trained
again. With ``pack=K`` the runs of a setting go K at a time through
:func:`zclib.train.train_packed`; each run is still its own part, under the same key
as a one-at-a-time run (the recipe is the same, the results equal to rounding;
``pack`` records K).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from zclib import chunks, cluster, space
from zclib.fileio import read_parquet, write_parquet_atomic
from zclib.paths import RESULTS_DIR
from zclib.provenance import provenance
from zclib.scoring import check_device
from zclib.train.loop import train_arch
from zclib.train.packed import train_packed
from zclib.train.setting import Setting, run_key
from zclib.train.tensors import split_tensors

TABLE = RESULTS_DIR / "train" / "econas_cifar10.parquet"  # the shipped sweep
SWEEP_IDENT = {"kind": "train-sweep"}  # run.json of a sweep (run keys hold the rest)


def parts_dir(out: str | Path) -> Path:
    """``<out>.parts/``: where a sweep into ``out`` writes its runs."""
    return chunks.parts_dir(out)


def load_table(out: str | Path = TABLE, include_parts: bool = True) -> pd.DataFrame:
    """Every finished run of a sweep: the merged table plus unmerged parts."""
    out = Path(out)
    frames = [read_parquet(out)] if out.exists() else []
    if include_parts:
        frames += list(chunks.read_parts(parts_dir(out)).values())
    if not frames:
        return pd.DataFrame(columns=["key", "arch_str", "setting", "seed"])
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates("key", keep="first").reset_index(drop=True)


def sweep(
    archs: Sequence[str],
    settings: Sequence[Setting],
    seeds: Sequence[int] = (0,),
    out: str | Path | None = TABLE,
    device: str = "cpu",
    threads: int | None = None,
    eval_epochs: Iterable[int] = (),
    progress: bool = True,
    read_from: Sequence[str | Path] = (),
    max_runs: int | None = None,
    backend: str = "pool",
    workers: int = 1,
    scheduler: str | None = None,
    pack: int = 1,
    deadline: float | None = None,
) -> pd.DataFrame:
    """Train every (arch, setting, seed) not already in ``out`` (or ``read_from``).

    Runs go architecture by architecture (all settings of an arch, then the next;
    with ``pack`` K, K architectures at a time), so an interrupted sweep leaves
    complete rows for a prefix of the sample.

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
        backend: ``"pool"``: train here, one run after the other; ``"dask"``: one
            task per run on a Dask cluster (:mod:`zclib.cluster`; the client loads
            the training and test tensors once and scatters them, so workers need
            no data files; each task runs ``threads`` torch threads, 1 if None;
            each row records ``worker``, ``worker_host``, ``worker_cpu`` and the
            worker's ``loadavg_1min``). Runs finish out of grid order there.
        workers: with ``backend="dask"`` and no ``scheduler``, the LocalCluster's
            worker processes (one thread each).
        scheduler: with ``backend="dask"``, a running cluster (``tcp://HOST:PORT``).
        pack: train this many architectures at once (:func:`train_packed`; the
            settings must have ``shared_order``); 1: one at a time.
        deadline: ``time.monotonic()`` after which no new group is started
            (None: none); what is left is trained by the next call.

    Returns:
        One row per requested (arch, setting, seed), in grid order, with
        ``cached`` True for runs that were not trained now.
    """
    check_device(device)  # before any data is loaded
    cluster.check_backend(backend, workers, scheduler)
    if backend == "pool" and workers > 1:
        raise ValueError("training with --workers > 1 needs --backend dask")
    if backend == "dask":
        cluster.require()
        if pack != 1:
            raise ValueError("--pack > 1 trains here: not with --backend dask")
    elif threads:
        torch.set_num_threads(int(threads))
    archs = [space.format_arch(space.as_cell(a)) for a in archs]
    grid = [(a, s, int(sd)) for a in archs for sd in seeds for s in settings]
    have = (
        pd.concat(
            [load_table(t) for t in [*read_from, *([out] if out else [])]],
            ignore_index=True,
        )
        if (read_from or out)
        else pd.DataFrame()
    )
    done = (
        {}
        if not len(have)
        else {k: r for k, r in zip(have["key"], have.to_dict("records"), strict=True)}
    )
    todo = [g for g in grid if run_key(*g) not in done]
    if max_runs is not None:
        todo = todo[:max_runs]
    groups = _groups(todo, settings, int(pack))
    bar = tqdm(
        total=len(todo),
        disable=not progress,
        desc="train",
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    meta = provenance(torch_version=torch.__version__)
    folder = (
        chunks.open_parts(parts_dir(out), SWEEP_IDENT)
        if out is not None and todo
        else None
    )
    rows = {}

    def save(row: dict, info: dict | None = None) -> None:
        row.update(
            zclib_version=meta["zclib_version"],
            git_commit=meta["git_commit"],
            git_dirty=meta["git_dirty"],
            torch_version=meta["torch_version"],
            date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            loadavg_1min=os.getloadavg()[0] if info is None else info["loadavg_1min"],
        )
        if info is not None:
            row.update(
                worker=info["worker"], worker_host=info["host"], worker_cpu=info["cpu"]
            )
        rows[row["key"]] = row
        if folder is not None:
            chunks.write_part(folder, row["key"], pd.DataFrame([row]))
        bar.update(1)

    try:
        if backend == "dask" and todo:
            # every setting's tensors, loaded here once (CPU) and scattered
            data = {
                s.name: {sp: split_tensors(s, sp) for sp in ("train", "test")}
                for s in {s for _a, s, _sd in todo}
            }
            evals = tuple(eval_epochs)  # once: it may be an iterator
            tasks = [
                (run_key(a, s, sd), (a, s, sd, device, evals)) for a, s, sd in todo
            ]
            with cluster.connect(workers, scheduler) as client:
                cluster.run(
                    client,
                    _train_task,
                    data,
                    tasks,
                    lambda _key, row, info: save(row, info),
                    threads=threads or 1,
                )
        else:
            for s, sd, group in groups:
                if deadline is not None and time.monotonic() > deadline:
                    break
                bar.set_postfix_str(f"{s.name} {group[0][:30]}")
                kw = dict(seed=sd, device=device, eval_epochs=eval_epochs)
                if len(group) == 1 and pack == 1:
                    new = [train_arch(group[0], s, **kw)]
                else:
                    new = train_packed(group, s, **kw)
                for row in new:
                    save(row)
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


def _train_task(data: dict, arch, setting, seed, device, eval_epochs) -> dict:
    """On a Dask worker: one run on the tensors the client scattered."""
    return train_arch(
        arch,
        setting,
        seed=seed,
        device=device,
        eval_epochs=eval_epochs,
        data=data[setting.name],
    )


def _groups(todo: list, settings: Sequence[Setting], pack: int) -> list[tuple]:
    """(setting, seed, [archs]) in the order runs are trained: runs of one
    (setting, seed) K at a time, the i-th group of every setting before the
    (i+1)-th of any."""
    if pack < 1:
        raise ValueError(f"pack must be >= 1, got {pack}")
    by: dict[tuple, list[str]] = {}
    for a, s, sd in todo:
        by.setdefault((settings.index(s), sd), []).append(a)
    out = []
    for (si, sd), archs in by.items():
        for i in range(0, len(archs), pack):
            out.append((i // pack, si, sd, settings[si], archs[i : i + pack]))
    out.sort(key=lambda g: g[:3])
    return [(g[3], g[2], g[4]) for g in out]


def merge(out: str | Path = TABLE) -> Path:
    """Fold ``<out>.parts/*.parquet`` into ``<out>`` (atomic), then remove the parts."""
    out = Path(out)
    df = load_table(out)
    df = df.sort_values(["setting", "seed", "arch_str"], kind="stable")
    write_parquet_atomic(df.reset_index(drop=True), out)
    chunks.remove_parts(parts_dir(out))
    return out
