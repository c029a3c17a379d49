"""Many architectures: chunks, worker processes, the resumable parts, the table.

from zclib.scoring import score_archs
df = score_archs(archs, "cifar10", "all", seed=0, out="s.parquet", workers=2)
df = score_archs(archs, "cifar10", "all", out="s.parquet", workers=2, backend="dask")
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from zclib import chunks, cluster, space, tasktime
from zclib.fileio import atomic_path, write_text_atomic
from zclib.progress import bar
from zclib.provenance import portable_path, provenance
from zclib.scoring.scorer import Scorer, default_pack, device_name

_WORKER: Scorer | None = None


class Unfinished(RuntimeError):
    """:func:`score_archs` reached its deadline: the chunks scored so far are on
    disk, the same call resumes.

    Attributes:
        done: chunks on disk.
        total: chunks of the run.
        scored: architectures scored by this call.
        wall: seconds this call scored for.
    """

    def __init__(self, done: int, total: int, scored: int, wall: float):
        super().__init__(
            f"deadline reached: {done} of {total} chunks done ({scored} archs scored "
            f"in {wall:.0f} s); the same call resumes"
        )
        self.done, self.total, self.scored, self.wall = done, total, scored, wall


def worker_threads(workers: int, device: str) -> int:
    """Torch threads per worker process: the cores shared out on CPU, 1 on a GPU."""
    return max(1, (os.cpu_count() or 1) // workers) if device == "cpu" else 1


def _init_worker(kwargs: dict, threads: int) -> None:
    global _WORKER
    torch.set_num_threads(threads)
    _WORKER = Scorer(**kwargs)


def _score_group(group: list[tuple[int, list[str]]]) -> tuple[list, dict]:
    """Score several chunks with this process's scorer (see :func:`score_chunks`);
    returns the chunks' rows and the task's :func:`zclib.tasktime.timed` stamps."""
    return tasktime.timed(score_chunks, _WORKER, group)


def score_chunks(
    scorer: Scorer, group: list[tuple[int, list[str]]]
) -> list[tuple[int, list[dict]]]:
    """Score several chunks in one :meth:`Scorer.score_many` call (so a pack may
    span chunks) and cut the rows back into chunks.

    Args:
        scorer: the run's scorer (on a Dask worker: the one the client scattered).
        group: ``(chunk index, archs)`` pairs.

    Returns:
        ``(chunk index, rows)`` pairs, in the order given.
    """
    rows = scorer.score_many([a for _k, archs in group for a in archs])
    out, i = [], 0
    for k, archs in group:
        out.append((k, rows[i : i + len(archs)]))
        i += len(archs)
    return out


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
    stand_in: str | None = None,
    pack: int | None = None,
    batch_file: str | Path | None = None,
    batch_seed: int | None = None,
    out: str | Path | None = None,
    chunk_size: int = 25,
    workers: int = 1,
    progress: bool | str = True,
    deadline: float | None = None,
    first: int | None = None,
    backend: str = "pool",
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Score architectures; resumable when ``out`` is given.

    Args:
        archs: arch strings or cells.
        dataset, proxies, seed, batch_size, device, variant, mode, zico_batches, norm,
            augment, stand_in, pack, batch_file, batch_seed: see :class:`Scorer`
            (``pack`` is not part of the run's identity: a resumed run may pack
            differently; each row records its pack; a pack larger than
            ``chunk_size`` packs across chunks; with several workers on a GPU the
            automatic pack shares the memory out between them).
        out: final table (``.csv`` or ``.parquet``); chunks go to ``<out>.parts/``.
            None: keep everything in memory (no resume).
        chunk_size: architectures per chunk file.
        workers: processes (each with its own copy of the batch and network);
            with ``backend="dask"`` and no ``scheduler``, the LocalCluster's
            worker processes (one thread each).
        progress: True: a bar with ETA on stderr (:func:`zclib.progress.bar`;
            lines where tqdm is missing); ``"lines"``: a line every 30 s; False.
        deadline: a ``time.monotonic()`` value after which no more chunks are
            started: the call then raises :class:`Unfinished` (chunks in flight
            are finished and saved first). Needs ``out``.
        first: score only the chunks holding the first ``first`` architectures
            (a prefix of the run, e.g. the notebooks' sample of a full-space run;
            the run's identity stays that of all ``archs``); when chunks are left,
            the call raises :class:`Unfinished` after them. Needs ``out``.
        backend: ``"pool"`` (this process, or ``workers`` spawned processes with
            the cores shared out) or ``"dask"`` (:mod:`zclib.cluster`: one task per
            group of chunks, the scorer and its batches scattered to the workers,
            each torch single-threaded; each row records ``worker``,
            ``worker_host`` and ``worker_cpu``). Not part of the run's identity: a
            run may resume on the other backend.
        scheduler: with ``backend="dask"``, the address of a running cluster
            (``tcp://HOST:PORT``); None: a LocalCluster of ``workers`` processes.

    Returns:
        One row per architecture, in the order given, with metadata columns;
        ``attrs["meta"]``: the provenance (also in ``<out>.meta.json``; a call
        that finds every chunk done and the table written leaves both files as
        they are and returns the provenance on disk);
        ``attrs["n_scored"]``: cells this call scored;
        ``attrs["timeline"]``: where this call's time went (not written to disk):
        ``start`` (``time.time()`` at the call), ``backend``, ``tasks`` (per task
        scored by this call, in the order saved: its chunks, ``n_archs``, the
        worker's :func:`zclib.tasktime.timed` stamps, ``saved``; with Dask also
        the client's ``submitted`` and ``received``) and, with Dask,
        ``connected`` (the time the cluster was up) and ``scatter_s`` (seconds
        to put the scorer on every worker).

    Raises:
        Unfinished: the deadline passed, or ``first`` stopped the call, before
            every chunk was scored.
    """
    t_call = time.time()  # the timeline's origin: start-up counts from here
    if (deadline is not None or first is not None) and out is None:
        raise ValueError("deadline and first need out= (the chunks must be kept)")
    cluster.check_backend(backend, workers, scheduler)
    if backend == "dask":
        cluster.require()  # before any data is drawn
    archs = [space.format_arch(space.as_cell(a)) for a in archs]
    kwargs = dict(
        dataset=dataset,
        proxies=proxies,
        seed=seed,
        batch_size=batch_size,
        device=device,
        variant=variant,
        mode=mode,
        zico_batches=zico_batches,
        norm=norm,
        augment=augment,
        stand_in=stand_in,
        pack=pack,
        batch_file=batch_file,
        batch_seed=batch_seed,
    )
    probe = Scorer(**kwargs)  # validates everything up front, gives the config
    cfg = probe.config()
    if pack is None and workers > 1 and device.startswith("cuda"):
        probe.pack = default_pack(probe, share=0.5 / workers)  # memory shared out
    kwargs["pack"] = probe.pack  # chosen once (on a GPU it is measured)
    if probe.per_cell_proxies and progress:
        print(
            f"packed {probe.pack} networks per pass; these proxies cannot be packed "
            f"and run per cell: {', '.join(probe.per_cell_proxies)}",
            file=sys.stderr,
        )
    arch_chunks = [archs[i : i + chunk_size] for i in range(0, len(archs), chunk_size)]
    parts_dir = None
    done: dict[int, pd.DataFrame] = {}
    if out is not None:
        out = Path(out)
        parts_dir = chunks.open_parts(
            chunks.parts_dir(out),
            run_identity(cfg, archs, chunk_size),
            legacy=LEGACY_IDENTITY,
        )
        for k, chunk in enumerate(arch_chunks):
            path = chunks.part_path(parts_dir, part_key(k))
            df = chunks.read_part(path)  # None: missing or damaged (warned)
            if df is not None and list(df.get("arch_str", [])) != chunk:
                warnings.warn(
                    f"damaged chunk {path} (holds other archs); it is recomputed",
                    chunks.DamagedChunkWarning,
                    stacklevel=2,
                )
                df = None
            if df is not None:
                done[k] = df
    n_first = len(arch_chunks) if first is None else -(-max(0, first) // chunk_size)
    todo = [(k, c) for k, c in enumerate(arch_chunks) if k not in done and k < n_first]
    per_group = max(1, probe.pack // chunk_size)  # chunks per score_many call
    groups = [todo[i : i + per_group] for i in range(0, len(todo), per_group)]
    t_start = time.time()
    scored = 0
    progress_bar = bar(
        len(archs),
        initial=sum(len(d) for d in done.values()),
        desc=f"score {cfg['dataset']}",
        unit="arch",
        enabled=bool(progress),
        style="lines" if progress == "lines" else "bar",
    )

    timeline = {"start": t_call, "backend": backend, "tasks": []}

    def save(results: list[tuple[int, list[dict]]], stamps: dict) -> None:
        nonlocal scored
        keys = [part_key(k) for k, _rows in results]
        n_task = sum(len(rows) for _k, rows in results)
        timeline["tasks"].append({"chunks": keys, "n_archs": n_task, **stamps})
        for k, rows in results:
            df = pd.DataFrame(rows)
            done[k] = df
            if parts_dir is not None:
                chunks.write_part(parts_dir, part_key(k), df)
            progress_bar.update(len(rows))
            scored += len(rows)
        timeline["tasks"][-1]["saved"] = time.time()

    def in_time() -> bool:
        return deadline is None or time.monotonic() < deadline

    run_record = {"backend": backend, "workers": workers}
    try:
        if backend == "dask" and groups:
            run_record |= _run_dask(
                probe, groups, save, in_time, workers, scheduler, timeline
            )
        elif workers <= 1 or len(groups) <= 1:
            global _WORKER
            _WORKER = probe
            for group in groups:
                if not in_time():
                    break
                save(*_score_group(group))
        else:
            threads = worker_threads(workers, device)
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, _init_worker, (kwargs, threads)) as pool:
                _run_pool(pool, groups, 2 * workers, save, in_time)
    finally:
        progress_bar.close()
    if len(done) < len(arch_chunks):
        raise Unfinished(len(done), len(arch_chunks), scored, time.time() - t_start)
    wall = time.time() - t_start
    df = (
        pd.concat([done[k] for k in range(len(arch_chunks))], ignore_index=True)
        if arch_chunks
        else pd.DataFrame()
    )
    meta_path = None if out is None else out.with_name(out.name + ".meta.json")
    # Nothing new: the table and provenance on disk stand as the run that made them
    # wrote them (rewriting would stamp today's commit on old scores).
    kept = scored == 0 and meta_path is not None and out.exists() and meta_path.exists()
    if kept:
        meta = json.loads(meta_path.read_text())
    else:
        meta = provenance(
            **cfg,
            device=device,
            **run_record,
            pack=probe.pack,
            per_cell_proxies=probe.per_cell_proxies,
            n_archs=len(archs),
            n_scored_this_run=scored,
            wall_seconds_this_run=round(wall, 3),
            nan_counts=nan_count(df, probe.proxies),
            torch_version=torch.__version__,
            device_name=device_name(device),
            **probe.batch_record,
            **({"chunk_workers": chunk_workers(done)} if backend == "dask" else {}),
        )
    df = with_meta_columns(df, cfg, meta)
    df.attrs |= {"timeline": timeline, "n_scored": scored}
    if out is not None and not kept:
        _write_table(df, out)
        write_text_atomic(json.dumps(meta, indent=2, default=str), meta_path)
    # counted from the rows, not read from the metadata: a merged table's
    # metadata keeps its counts per job
    nans = nan_count(df, probe.proxies) if len(df) else {}
    if progress and sum(nans.values()):
        print(f"NaN scores: {nans}", file=sys.stderr)
    return df


def _run_pool(pool, groups, window: int, save, in_time) -> None:
    """Score ``groups`` on the pool, at most ``window`` in flight, none started
    once ``in_time()`` is False (those in flight are still saved)."""
    pending: deque = deque()
    queue = iter(groups)

    def submit() -> None:
        group = next(queue, None)
        if group is not None and in_time():
            pending.append(pool.apply_async(_score_group, (group,)))

    for _ in range(window):
        submit()
    while pending:
        save(*pending.popleft().get())
        submit()


def _run_dask(probe, groups, save, in_time, workers, scheduler, timeline) -> dict:
    """Score ``groups`` on a Dask cluster (:mod:`zclib.cluster`); the rows of each
    chunk get the worker's address, host and CPU; ``timeline`` gets the cluster's
    and the client's stamps. Returns the cluster's record."""

    def save_group(_key: str, results: list, info: dict) -> None:
        for _k, rows in results:
            for row in rows:
                row.update(
                    worker=info["worker"],
                    worker_host=info["host"],
                    worker_cpu=info["cpu"],
                )
        save(results, info)  # the worker, its stamps (zclib.cluster._call)

    tasks = [(part_key(group[0][0]), (group,)) for group in groups]
    stamps: dict = {}
    try:
        with cluster.connect(workers, scheduler) as client:
            timeline["connected"] = time.time()
            record = cluster.describe(client)
            cluster.run(
                client,
                score_chunks,
                probe,
                tasks,
                save_group,
                in_time=in_time,
                record=stamps,
            )
    finally:  # the client's stamps, in the order saved (as timeline's tasks)
        timeline["scatter_s"] = stamps.get("scatter_s")
        # strict=False: a save that raised has its timeline entry, not the client's
        client_tasks = stamps.get("tasks", [])
        for mine, client_side in zip(timeline["tasks"], client_tasks, strict=False):
            mine.update(submitted=client_side["submitted"])
            mine.update(received=client_side["received"])
    return {**record, "scheduler": "LocalCluster" if not scheduler else scheduler}


def chunk_workers(done: dict[int, pd.DataFrame]) -> dict[str, dict]:
    """Per chunk, the worker that scored it (from the Dask backend's columns; a
    chunk resumed from a ``"pool"`` run has none and is left out)."""
    out = {}
    for k, df in sorted(done.items()):
        if "worker_host" in df and len(df):
            row = df.iloc[0]
            out[part_key(k)] = {
                c: str(row[c]) for c in ("worker", "worker_host", "worker_cpu")
            }
    return out


def with_meta_columns(df: pd.DataFrame, cfg: dict, meta: dict) -> pd.DataFrame:
    """Score rows with the metadata columns every score table carries.

    Args:
        df: rows of :meth:`Scorer.score_many` (changed in place).
        cfg: :meth:`Scorer.config` of the run.
        meta: its :func:`zclib.provenance.provenance` record.

    Returns:
        ``df`` with seed, batch_size, dataset, variant, mode, norm, augment,
        data_source, stand_in_name, zclib_version and git_commit columns and
        ``attrs["meta"] = meta``.
    """
    for c in ("seed", "batch_size", "dataset", "variant", "mode", "norm", "augment"):
        df[c] = cfg[c]
    # relative to the project or data root: a table records no machine's path
    df["data_source"] = portable_path(cfg["data_source"]) if cfg["data_source"] else ""
    df["stand_in_name"] = cfg["stand_in_name"]  # the path may not name it
    df["zclib_version"] = meta["zclib_version"]
    df["git_commit"] = meta["git_commit"]
    df.attrs["meta"] = meta
    return df


# Identity keys that older run.json files lack, with the value those runs implied
# (a callable: from the old record): runs started before "augment" was recorded drew
# un-augmented batches; runs started before stand-ins were named used the only
# stand-in there was then (imagenet16-120/, "mixed-classes") or official data;
# runs started before "batch_seed" existed drew their batches with their seed.
LEGACY_IDENTITY = {
    "batch_seed": lambda old: old.get("seed"),
    "augment": False,
    "stand_in_name": lambda old: "mixed-classes" if old.get("stand_in") else "",
}


def part_key(k: int) -> str:
    """Chunk ``k``'s key in the parts folder: ``part-00000``, ``part-00001``, ..."""
    return f"part-{k:05d}"


def run_identity(cfg: dict, archs: list[str], chunk_size: int) -> dict:
    """What ``run.json`` records: the config, the chunking and the arch list's hash.

    The data folder may move (another machine): its format and stand-in flag stay.
    """
    return {
        **{k: v for k, v in cfg.items() if k != "data_source"},
        "chunk_size": chunk_size,
        "archs_sha1": hashlib.sha1("\n".join(archs).encode()).hexdigest(),
    }


def _write_table(df: pd.DataFrame, out: Path) -> None:
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got {out.name!r}")
    with atomic_path(out) as tmp:
        if out.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)


def read_archs(path: str | Path) -> list[str]:
    """Arch strings from a file, one per line (blank lines and # comments skipped)."""
    lines = Path(path).read_text().splitlines()
    archs = [
        ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")
    ]
    for i, a in enumerate(archs):
        try:
            space.validate(a)
        except ValueError as exc:
            raise ValueError(f"{path}: arch {i + 1}: {exc}") from None
    return archs


def nan_count(df: pd.DataFrame, names: Sequence[str]) -> dict[str, int]:
    """NaN count per proxy column."""
    return {n: int(df[n].isna().sum()) for n in names if n in df}
