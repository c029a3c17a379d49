"""The full-space run's archives: one per dataset (:mod:`zclib.carry`).

    from zclib.fullspace import bundle, jobs
    path = bundle.write(jobs.ROOT, "cifar10", jobs.plan(), out_dir)
    # -> out_dir/fullspace_cifar10.tar.gz; then, where the tables are kept:
    bundle.unpack([path], jobs.ROOT)             # adds the chunks it holds

Only a few files come back from a device machine's ``$OUT`` (at most 8, 16 MiB
each), and a command stopped at its time limit is killed: so the run keeps one
``fullspace_<dataset>.tar.gz`` per dataset there, rewritten atomically whenever
that dataset's parts folders changed (:func:`bundler`, every 30 s and at the end).
An archive holds, relative to the tables' folder, each job's parts folder:
``run.json``, the ``part-NNNNN.parquet`` chunks and the device-run records
(``fullspace-run-*.json``). A dataset's chunks take about 2-4 MB compressed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from zclib import carry, chunks
from zclib.fullspace.jobs import Job

PREFIX = "fullspace_"  # archives are PREFIX + dataset + SUFFIX
SUFFIX = ".tar.gz"
RECORD_GLOB = "fullspace-run-*.json"  # device-run records in a parts folder
# what an archive may hold, relative to the tables' folder
MEMBER = re.compile(
    r"(variants/)?[A-Za-z0-9_.-]+\.parquet\.parts/"
    r"(run\.json|part-\d{5}\.parquet|fullspace-run-[A-Za-z0-9_.-]+\.json)"
)


def archive_name(dataset: str) -> str:
    """``fullspace_<dataset>.tar.gz``."""
    return f"{PREFIX}{dataset}{SUFFIX}"


def files(root: str | Path, jobs: Iterable[Job]) -> list[Path]:
    """The files of ``jobs``' parts folders that an archive carries."""
    globs = (f"part-*{chunks.SUFFIX}", RECORD_GLOB)
    return [
        f
        for job in jobs
        for f in carry.parts_files(chunks.parts_dir(job.out(root)), *globs)
    ]


def write(root: str | Path, dataset: str, jobs: Sequence[Job], out_dir: str | Path):
    """Write ``out_dir/fullspace_<dataset>.tar.gz`` of ``jobs``' parts (atomically).

    Returns:
        The archive's path, or None when the jobs have no files yet.
    """
    todo = files(root, [j for j in jobs if j.dataset == dataset])
    if not todo:
        return None
    return carry.write(root, todo, Path(out_dir) / archive_name(dataset))


def unpack(archives: Sequence[str | Path], root: str | Path) -> dict[str, dict]:
    """Add what device-run archives hold to the parts folders under ``root``
    (:func:`zclib.carry.unpack`: a readable chunk here is kept, a damaged one
    replaced, a ``run.json`` of another run refused, records added).

    Args:
        archives: ``fullspace_<dataset>.tar.gz`` files.
        root: the tables' folder (e.g. results/scores/fp32).

    Returns:
        ``{parts folder: {"added": n, "kept": n, "run.json": n, "records": n}}``.
    """
    return carry.unpack(archives, root, MEMBER)


def bundler(root, jobs: Sequence[Job], out_dir, every: float = 30.0) -> carry.Bundler:
    """A :class:`zclib.carry.Bundler` of one ``fullspace_<dataset>.tar.gz`` per
    dataset of ``jobs``: rewritten when that dataset's parts changed."""
    root, jobs = Path(root), list(jobs)
    by_ds = {
        archive_name(ds): (
            lambda ds=ds: files(root, [j for j in jobs if j.dataset == ds])
        )
        for ds in dict.fromkeys(j.dataset for j in jobs)
    }
    return carry.Bundler(root, by_ds, out_dir, every)
