"""Many architectures: chunks, worker processes, the resumable parts, the table.

from zclib.scoring import score_archs
df = score_archs(archs, "cifar10", "all", seed=0, out="s.parquet", workers=2)
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from zclib import chunks, space
from zclib.fileio import atomic_path, write_text_atomic
from zclib.provenance import provenance
from zclib.scoring.scorer import Scorer, device_name

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
    return k, _WORKER.score_many(archs)


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
    out: str | Path | None = None,
    chunk_size: int = 25,
    workers: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Score architectures; resumable when ``out`` is given.

    Args:
        archs: arch strings or cells.
        dataset, proxies, seed, batch_size, device, variant, mode, zico_batches, norm,
            augment, stand_in, pack: see :class:`Scorer` (``pack`` is not part of
            the run's identity: a resumed run may pack differently; each row
            records its pack).
        out: final table (``.csv`` or ``.parquet``); chunks go to ``<out>.parts/``.
            None: keep everything in memory (no resume).
        chunk_size: architectures per chunk file.
        workers: processes (each with its own copy of the batch and network).
        progress: tqdm bar with ETA on stderr.

    Returns:
        One row per architecture, in the order given, with metadata columns.
    """
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
    )
    probe = Scorer(**kwargs)  # validates everything up front, gives the config
    cfg = probe.config()
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
    todo = [(k, c) for k, c in enumerate(arch_chunks) if k not in done]
    t_start = time.time()
    bar = _bar(len(archs), sum(len(d) for d in done.values()), progress, cfg["dataset"])

    def save(k: int, rows: list[dict]) -> None:
        df = pd.DataFrame(rows)
        done[k] = df
        if parts_dir is not None:
            chunks.write_part(parts_dir, part_key(k), df)
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
        pd.concat([done[k] for k in range(len(arch_chunks))], ignore_index=True)
        if arch_chunks
        else pd.DataFrame()
    )
    meta = provenance(
        **cfg,
        device=device,
        workers=workers,
        pack=probe.pack,
        per_cell_proxies=probe.per_cell_proxies,
        n_archs=len(archs),
        wall_seconds_this_run=round(wall, 3),
        nan_counts=nan_count(df, probe.proxies),
        torch_version=torch.__version__,
        device_name=device_name(device),
    )
    for c in ("seed", "batch_size", "dataset", "variant", "mode", "norm", "augment"):
        df[c] = cfg[c]
    df["data_source"] = cfg["data_source"]
    df["stand_in_name"] = cfg["stand_in_name"]  # the path may not name it
    df["zclib_version"] = meta["zclib_version"]
    df["git_commit"] = meta["git_commit"]
    df.attrs["meta"] = meta
    if out is not None:
        _write_table(df, out)
        write_text_atomic(
            json.dumps(meta, indent=2, default=str),
            out.with_name(out.name + ".meta.json"),
        )
    nan_total = sum(meta["nan_counts"].values()) if len(df) else 0
    if progress and nan_total:
        print(f"NaN scores: {meta['nan_counts']}", file=sys.stderr)
    return df


# Identity keys that older run.json files lack, with the value those runs implied
# (a callable: from the old record): runs started before "augment" was recorded drew
# un-augmented batches; runs started before stand-ins were named used the only
# stand-in there was then (imagenet16-120/, "mixed-classes") or official data.
LEGACY_IDENTITY = {
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


def _bar(total: int, initial: int, enabled: bool, desc: str):
    return tqdm(
        total=total,
        initial=initial,
        disable=not enabled,
        desc=f"score {desc}",
        unit="arch",
        file=sys.stderr,
        dynamic_ncols=True,
    )


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
