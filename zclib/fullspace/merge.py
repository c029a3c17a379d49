"""One table per dataset from the jobs' chunks: every proxy, each variant a column.

    python -m zclib.fullspace merge            # results/scores/fp32/nb201_<ds>.parquet

:func:`merge` reads a dataset's chunks (CPU and device chunks alike: they share a
run identity, checked against ``run.json`` with the same configuration the scorer
builds from the pre-drawn batches), needs every chunk of the ``all`` job, and adds
the columns of every other finished job (:func:`zclib.names.variant_column`:
``fisher_foresight``, the suite's proxies); a job with missing
chunks is left out and named. It writes ``nb201_<dataset>.parquet`` (rows in the
sample order, the metadata columns of every score table) and its ``.meta.json``:
provenance, each job's run identity, its rows per device and pack, NaN counts, and
the device-run records found in its parts folder (torch version, device name, archs/s).

The ``all`` job's :func:`~zclib.scoring.score_archs` call writes a table of the
same name when its own last chunk is done (the CPU job does): merge again after it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from zclib import chunks, data, scoring
from zclib.fileio import write_parquet_atomic, write_text_atomic
from zclib.fullspace import jobs as fjobs
from zclib.fullspace.bundle import RECORD_GLOB
from zclib.provenance import provenance


class Incomplete(ValueError):
    """The ``all`` job of a dataset lacks chunks: nothing is merged."""


def job_rows(
    job: fjobs.Job,
    archs: list[str],
    root: str | Path = fjobs.ROOT,
    batch_dir: str | Path = fjobs.BATCH_DIR,
    chunk_size: int = fjobs.CHUNK_SIZE,
) -> tuple[pd.DataFrame | None, dict]:
    """A job's rows from its parts folder, and what it says about them.

    Returns:
        (rows in ``archs`` order, or None when chunks are missing; info with
        ``missing`` (chunk indices), ``identity``, ``config`` and ``records``).

    Raises:
        ValueError: the parts folder belongs to another run.
    """
    scorer = scoring.Scorer(**fjobs.score_kwargs(job, batch_dir), device="cpu", pack=1)
    cfg = scorer.config()
    ident = scoring.run_identity(cfg, archs, chunk_size)
    folder = chunks.parts_dir(job.out(root))
    info = {"identity": ident, "config": cfg, "batches": scorer.batch_record}
    arch_chunks = [archs[i : i + chunk_size] for i in range(0, len(archs), chunk_size)]
    if not (folder / chunks.GUARD).exists():
        return None, {**info, "missing": list(range(len(arch_chunks))), "records": []}
    chunks.open_parts(folder, ident, legacy=scoring.LEGACY_IDENTITY)  # or ValueError
    frames, missing = _read_chunks(folder, arch_chunks)
    records = [json.loads(f.read_text()) for f in sorted(folder.glob(RECORD_GLOB))]
    info.update(missing=missing, records=records)
    if missing:
        return None, info
    return pd.concat(frames, ignore_index=True), info


def _read_chunks(folder: Path, arch_chunks: list[list[str]]) -> tuple[list, list]:
    """(frames of the chunks present and holding their archs, indices of the rest)."""
    frames, missing = [], []
    for k, chunk in enumerate(arch_chunks):
        df = chunks.read_part(chunks.part_path(folder, scoring.part_key(k)))
        if df is None or list(df["arch_str"]) != chunk:
            missing.append(k)
        else:
            frames.append(df)
    return frames, missing


def read_prefix(
    job: fjobs.Job,
    n: int | None,
    root: str | Path = fjobs.ROOT,
    chunk_size: int = fjobs.CHUNK_SIZE,
) -> pd.DataFrame:
    """The rows of a job's first ``n`` cells (None: all) from its parts folder, while
    the rest of the space may still be missing (the notebooks' sample of an
    unfinished run).

    Reads only the chunk files and ``run.json`` (no batches, no images), and checks
    that the folder is this job's run over the whole sample: its proxies, dataset,
    variant and the hash of the full arch list.

    Raises:
        Incomplete: chunks of the first ``n`` cells are missing (it says which and
            how to make them).
        ValueError: the folder holds another run.
    """
    space_archs = fjobs.archs()
    archs = space_archs[:n]
    n = len(archs)
    folder = chunks.parts_dir(job.out(root))
    want = scoring.run_identity({}, space_archs, chunk_size)["archs_sha1"]
    guard = folder / chunks.GUARD
    run = json.loads(guard.read_text()) if guard.exists() else {}
    if run:
        got = {k: run.get(k) for k in ("dataset", "proxies", "variant", "archs_sha1")}
        expected = dict(
            dataset=job.dataset,
            proxies=list(job.proxies),
            variant=job.variant,
            archs_sha1=want,
        )
        if got != expected or run.get("chunk_size") != chunk_size:
            raise ValueError(f"{folder} holds another run: {got} != {expected}")
    n_chunks = -(-len(archs) // chunk_size)
    frames, missing = _read_chunks(
        folder,
        [space_archs[k * chunk_size : (k + 1) * chunk_size] for k in range(n_chunks)],
    )
    if missing:
        raise Incomplete(
            f"{job.dataset} {job.name}: {len(missing)} of the {n_chunks} chunks of the "
            f"first {n} cells are missing in {folder} (first: chunk {missing[0]}); "
            f"make them with `python -m zclib.fullspace run --device cpu --only "
            f"{job.name} --first {n}` (make cpu-fullspace does it first)"
        )
    return pd.concat(frames, ignore_index=True).iloc[:n].reset_index(drop=True)


def stand_in_name(job: fjobs.Job, root: str | Path = fjobs.ROOT) -> str:
    """Which ImageNet16-120 stand-in a job's chunks were scored on, as its
    ``run.json`` records (``""``: real images; :data:`zclib.data.UNRECORDED` when
    the run does not say: runs from before the field existed)."""
    guard = chunks.parts_dir(job.out(root)) / chunks.GUARD
    run = json.loads(guard.read_text()) if guard.exists() else {}
    return run.get("stand_in_name", data.UNRECORDED)


def merge(
    dataset: str,
    root: str | Path = fjobs.ROOT,
    batch_dir: str | Path = fjobs.BATCH_DIR,
    n_archs: int | None = fjobs.N_ARCHS,
    chunk_size: int = fjobs.CHUNK_SIZE,
) -> Path:
    """Write ``root/nb201_<dataset>.parquet`` (+ meta) from the jobs' chunks.

    Args:
        dataset: dataset name or alias.
        root: the tables' folder.
        batch_dir: the pre-drawn batches (they give the run configuration).
        n_archs: the first ``n_archs`` cells of the sample (None: all).
        chunk_size: archs per chunk of the runs.

    Returns:
        The table written.

    Raises:
        Incomplete: the ``all`` job lacks chunks (the message says how many).
    """
    main, *extras = fjobs.plan([dataset])
    archs = fjobs.archs(n_archs)
    df, info = job_rows(main, archs, root, batch_dir, chunk_size)
    if df is None:
        raise Incomplete(
            f"{main.dataset}: {len(info['missing'])} of "
            f"{-(-len(archs) // chunk_size)} chunks of {main.out(root).name} are "
            "missing (first: chunk "
            f"{info['missing'][0]}); finish them (make gpu-fullspace on a device, "
            "or the CPU command of results/scores/fp32/README.md), then merge"
        )
    jobs_meta = {main.name: _job_meta(main, df, info)}
    left_out = {}
    for job in extras:
        rows, xinfo = job_rows(job, archs, root, batch_dir, chunk_size)
        if rows is None:
            left_out[job.name] = len(xinfo["missing"])
            warnings.warn(
                f"{job.dataset}: {job.name} left out ({len(xinfo['missing'])} chunks "
                "missing)",
                stacklevel=2,
            )
            continue
        for column, proxy in zip(job.columns, job.proxies, strict=True):
            df.insert(df.columns.get_loc("seconds"), column, rows[proxy].to_numpy())
        jobs_meta[job.name] = _job_meta(job, rows, xinfo)
    cfg = info["config"]
    meta = provenance(
        **{k: v for k, v in cfg.items() if k != "proxies"},
        columns=[c for c in df.columns if c in _score_columns(jobs_meta)],
        n_archs=len(df),
        jobs=jobs_meta,
        left_out=left_out,
        note="merged by zclib.fullspace.merge from the chunks of each job; the "
        "columns of jobs other than 'all' are one proxy on another network variant "
        "or a registered variant (zclib.names.variant_column)",
    )
    df = scoring.with_meta_columns(df, cfg, meta)
    out = main.out(root)
    write_parquet_atomic(df, out)
    write_text_atomic(
        json.dumps(meta, indent=2, default=str), out.with_name(out.name + ".meta.json")
    )
    return out


def _score_columns(jobs_meta: dict) -> set[str]:
    return {c for m in jobs_meta.values() for c in m["columns"]}


def _job_meta(job: fjobs.Job, rows: pd.DataFrame, info: dict) -> dict:
    """What the merged meta records of one job."""
    names = info["config"]["proxies"]
    return {
        "proxies": names,
        "variant": job.variant,
        "columns": job.columns,
        "parts": chunks.parts_dir(job.out(Path("."))).as_posix(),
        "identity": info["identity"],
        "batches_sha1": info["batches"]["batches_sha1"],
        "rows_by_device": {
            str(k): int(v) for k, v in rows["device"].astype(str).value_counts().items()
        },
        "rows_by_pack": {
            str(k): int(v) for k, v in rows["pack"].value_counts().sort_index().items()
        }
        if "pack" in rows
        else {},
        "nan_counts": scoring.nan_count(rows, names),
        "device_runs": [
            {k: r.get(k) for k in _RUN_KEYS}
            | {"jobs": [e for e in r.get("jobs", []) if e.get("job") == job.name]}
            for r in info["records"]
        ],
    }


# what the merged meta keeps of each device-run record
_RUN_KEYS = (
    "started_utc",
    "device",
    "device_name",
    "torch_version",
    "cuda_version",
    "cudnn_version",
    "python_version",
    "git_commit",
    "code_sha1",
    "workers",
    "pack",
    "batches",
)
