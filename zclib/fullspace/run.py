"""The device run: every job of :func:`~zclib.fullspace.jobs.plan`, fp32, resumable.

    PYTHONPATH=. python3 -m zclib.fullspace run --device cuda --bundle "$OUT" \
        --deadline 480

Each job is :func:`zclib.scoring.score_archs` on the pre-drawn batches
(:func:`zclib.fullspace.jobs.batch_file`; no images needed), into the tables'
folder of this working tree, so the chunks that travelled with the tree (the CPU
job's, an earlier device run's) are not scored again. TF32 is off
(:class:`zclib.scoring.Scorer`). With ``deadline_s`` no chunk is started after
that many seconds: the run then stops, says what is left and a second call
finishes it. With ``bundle_dir`` the finished chunks are also kept there as one
archive per dataset (:func:`zclib.fullspace.bundle.bundler`), rewritten every
30 s, so a run killed at its time limit still returns what it finished.

Every job's parts folder this run scored cells in gets a record of the run
(``fullspace-run-<UTC time>.json``: torch and CUDA versions, device name, code
digest, archs scored, seconds, archs/s, the pre-drawn batches' SHA-1); the same goes
to ``bundle_dir/fullspace-run.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from zclib import chunks, scoring
from zclib.data import predrawn
from zclib.fileio import write_text_atomic
from zclib.fullspace import jobs as fjobs
from zclib.fullspace.bundle import bundler as make_bundler
from zclib.paths import PROJECT_ROOT
from zclib.provenance import git_commit, portable_path


def code_sha1(root: Path = PROJECT_ROOT / "zclib") -> str:
    """SHA-1 over every ``zclib/**/*.py`` (relative path and bytes, sorted): which
    code ran, where a device's copy of the tree has no git history."""
    h = hashlib.sha1()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def environment(device: str) -> dict:
    """Versions and machine of a run (recorded with every job)."""
    commit, dirty = git_commit()
    return {
        "started_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": device,
        "device_name": scoring.device_name(device),
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda or "",
        "cudnn_version": torch.backends.cudnn.version() if device != "cpu" else None,
        "python_version": platform.python_version(),
        "machine": platform.machine(),
        "git_commit": commit,
        "git_dirty": dirty,
        "code_sha1": code_sha1(),
    }


def run(
    datasets: Sequence[str] = fjobs.DATASETS,
    *,
    device: str = "cuda",
    root: str | Path = fjobs.ROOT,
    batch_dir: str | Path = fjobs.BATCH_DIR,
    bundle_dir: str | Path | None = None,
    deadline_s: float | None = None,
    workers: int = 1,
    pack: int | None = None,
    n_archs: int | None = fjobs.N_ARCHS,
    chunk_size: int = fjobs.CHUNK_SIZE,
    only: Sequence[str] | None = None,
    first: int | None = None,
) -> dict:
    """Score every job (in :func:`~zclib.fullspace.jobs.plan` order) until done or
    until the deadline; print archs/s per job and per dataset.

    Args:
        datasets: which datasets.
        device: ``"cuda"`` (or ``"cpu"``: the tiny test path).
        root: the tables' folder (results/scores/fp32).
        batch_dir: the pre-drawn batches (``prepare``).
        bundle_dir: where the archives go (a device run's ``$OUT``); None: none.
        deadline_s: seconds after the start when no more chunks are started.
        workers: scorer processes (see :func:`zclib.scoring.score_archs`).
        pack: networks per pass; None: measured from the device's free memory.
        n_archs: the first ``n_archs`` cells of the sample (None: all).
        chunk_size: archs per chunk (part of the run identity).
        only: job names to run (``"all"``, ``"fisher_foresight"``, ...); None: all.
        first: score only each job's chunks of the first ``first`` cells (the
            notebooks' sample; the run stays the whole space), job after job.

    Returns:
        The run's record (:func:`environment` + ``jobs``: one entry per job run,
        ``finished``: whether every job is complete).

    Raises:
        FileNotFoundError: a dataset's pre-drawn batches are missing.
    """
    t0 = time.monotonic()
    deadline = None if deadline_s is None else t0 + deadline_s
    plan = [j for j in fjobs.plan(datasets) if only is None or j.name in only]
    for ds in dict.fromkeys(j.dataset for j in plan):
        if not fjobs.batch_file(ds, batch_dir).exists():
            raise FileNotFoundError(
                f"no pre-drawn batches {fjobs.batch_file(ds, batch_dir)}: run "
                "`make gpu-prepare` (python -m zclib.fullspace prepare) where the "
                "images are, and carry data/gpu"
            )
    record = {**environment(device), "workers": workers, "pack": pack}
    record["batches"] = {}  # what was scored on: pre-drawn here, with their SHA-1
    for ds in dict.fromkeys(j.dataset for j in plan):
        _batches, rec = predrawn.load(fjobs.batch_file(ds, batch_dir))
        record["batches"][ds] = {
            "file": fjobs.batch_file(ds, batch_dir).name,
            "sha1": rec["sha1"],
            "drawn_at_commit": rec["git_commit"],
            "stand_in_name": rec["metas"][0].get("stand_in_name", ""),
        }
    record["jobs"] = []
    stamp = record["started_utc"].replace("-", "").replace(":", "")
    bundler = make_bundler(root, plan, bundle_dir).start() if bundle_dir else None
    archs = fjobs.archs(n_archs)
    previous = signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        for job in plan:
            if deadline is not None and time.monotonic() >= deadline:
                break
            entry = _run_job(
                job,
                archs,
                device,
                root,
                batch_dir,
                deadline,
                workers,
                pack,
                chunk_size,
                first,
            )
            record["jobs"].append(entry)
            _write_record(
                record, root, [j for j in plan if _ran(j, record)], stamp, bundle_dir
            )
            print(_job_line(entry), file=sys.stderr, flush=True)
            if not entry["finished"] and first is None:
                break  # the deadline: later jobs would not start either
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bundler is not None:
            bundler.stop()
    record["finished"] = len(record["jobs"]) == len(plan) and all(
        e["finished"] for e in record["jobs"]
    )
    record["wall_s"] = round(time.monotonic() - t0, 1)
    _write_record(record, root, [j for j in plan if _ran(j, record)], stamp, bundle_dir)
    for line in summary(record):
        print(line, file=sys.stderr, flush=True)
    return record


def _run_job(
    job, archs, device, root, batch_dir, deadline, workers, pack, chunk_size, first
):
    """Score one job; its entry in the run record."""
    t = time.monotonic()
    total = -(-len(archs) // chunk_size)
    try:
        df = scoring.score_archs(
            archs,
            **fjobs.score_kwargs(job, batch_dir),
            device=device,
            pack=pack,
            out=job.out(root),
            chunk_size=chunk_size,
            workers=workers,
            progress="lines",
            deadline=deadline,
            first=first,
        )
    except scoring.Unfinished as u:
        scored, done, meta = u.scored, u.done, {}
    else:
        meta = df.attrs["meta"]
        scored, done = df.attrs["n_scored"], total
    wall = time.monotonic() - t
    return {
        "job": job.name,
        "dataset": job.dataset,
        "out": portable_path(job.out(root)),
        "scored": scored,
        "wall_s": round(wall, 2),
        "archs_per_s": round(scored / wall, 2) if scored else 0.0,
        "chunks_done": done,
        "chunks_total": total,
        "finished": done == total,
        "pack": meta.get("pack"),
        "nan_counts": meta.get("nan_counts"),
    }


def _ran(job: fjobs.Job, record: dict) -> bool:
    """Whether this run scored cells of ``job`` (a run that only found its chunks
    done leaves no record in the parts folder)."""
    return any(
        e["job"] == job.name and e["dataset"] == job.dataset and e["scored"]
        for e in record["jobs"]
    )


def _write_record(record, root, ran, stamp, bundle_dir) -> None:
    """The record into each parts folder this run touched (and the bundle dir)."""
    text = json.dumps(record, indent=2, default=str)
    for job in ran:
        folder = chunks.parts_dir(job.out(root))
        if folder.is_dir():
            write_text_atomic(text, folder / f"fullspace-run-{stamp}.json")
    if bundle_dir:
        write_text_atomic(text, Path(bundle_dir) / "fullspace-run.json")


def _job_line(e: dict) -> str:
    state = "done" if e["finished"] else "UNFINISHED"
    return (
        f"{e['dataset']} {e['job']}: {e['scored']} archs scored in {e['wall_s']:.1f} s"
        f" = {e['archs_per_s']:.1f} archs/s; chunks {e['chunks_done']}/"
        f"{e['chunks_total']} ({state})"
    )


def summary(record: dict) -> list[str]:
    """Lines for the end of a run: archs/s per dataset, and what is left."""
    lines = [
        f"fullspace run on {record['device_name']} (torch {record['torch_version']}, "
        f"CUDA {record['cuda_version'] or '-'}), {record.get('wall_s', 0):.0f} s"
    ]
    for ds in dict.fromkeys(e["dataset"] for e in record["jobs"]):
        es = [e for e in record["jobs"] if e["dataset"] == ds]
        n, s = sum(e["scored"] for e in es), sum(e["wall_s"] for e in es)
        lines.append(
            f"  {ds}: {n} scorings in {s:.1f} s = {n / s if s else 0:.1f} archs/s ("
            + ", ".join(f"{e['job']} {e['archs_per_s']:.1f}" for e in es)
            + ")"
        )
    lines.append(
        "  every job finished"
        if record.get("finished")
        else "  UNFINISHED: run the same command again (the chunks done are kept)"
    )
    return lines


def _exit_on_term(signum, frame) -> None:
    """SIGTERM (a time limit) unwinds like Ctrl-C, so the last bundle is written."""
    raise KeyboardInterrupt(f"signal {signum}")
