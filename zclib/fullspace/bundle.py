"""Carry finished chunks back from a device machine: one archive per dataset.

    from zclib.fullspace import bundle, jobs
    path = bundle.write(jobs.ROOT, "cifar10", jobs.plan(), out_dir)
    # -> out_dir/fullspace_cifar10.tar.gz; then, where the tables are kept:
    bundle.unpack([path], jobs.ROOT)             # adds the chunks it holds

Only a few files come back from a device machine's ``$OUT`` (at most 8, 16 MiB
each), and a command stopped at its time limit is killed: so the run keeps one
``fullspace_<dataset>.tar.gz`` per dataset there, rewritten atomically whenever
that dataset's parts folders changed (:class:`Bundler`, every 30 s and at the end).
An archive holds, relative to the tables' folder, each job's parts folder:
``run.json``, the ``part-NNNNN.parquet`` chunks and the device-run records
(``fullspace-run-*.json``). A dataset's chunks take about 2-4 MB compressed.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from zclib import chunks
from zclib.fileio import atomic_path
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
    out = []
    for job in jobs:
        folder = chunks.parts_dir(job.out(root))
        if not folder.is_dir():
            continue
        out += [folder / chunks.GUARD] if (folder / chunks.GUARD).exists() else []
        out += sorted(folder.glob(f"part-*{chunks.SUFFIX}"))
        out += sorted(folder.glob(RECORD_GLOB))
    return out


def write(root: str | Path, dataset: str, jobs: Sequence[Job], out_dir: str | Path):
    """Write ``out_dir/fullspace_<dataset>.tar.gz`` of ``jobs``' parts (atomically).

    Returns:
        The archive's path, or None when the jobs have no files yet.
    """
    root = Path(root)
    todo = files(root, [j for j in jobs if j.dataset == dataset])
    if not todo:
        return None
    path = Path(out_dir) / archive_name(dataset)
    with atomic_path(path) as tmp, tarfile.open(tmp, "w:gz", compresslevel=6) as tf:
        for f in todo:
            tf.add(f, arcname=f.relative_to(root).as_posix(), recursive=False)
    return path


def unpack(archives: Sequence[str | Path], root: str | Path) -> dict[str, dict]:
    """Add what device-run archives hold to the parts folders under ``root``.

    A chunk already here is kept (CPU and device chunks of one run identity are
    interchangeable), unless it cannot be read, which the archive's replaces; a
    ``run.json`` must equal the one here (else ValueError: another run); records
    are added. Members that are none of these are skipped with a warning.

    Args:
        archives: ``fullspace_<dataset>.tar.gz`` files.
        root: the tables' folder (e.g. results/scores/fp32).

    Returns:
        ``{parts folder: {"added": n, "kept": n, "run.json": n, "records": n}}``
        (``kept``: chunks and run.json already here).
    """
    root = Path(root)
    counts: dict[str, dict] = {}
    for archive in archives:
        with tarfile.open(archive, "r:gz") as tf:
            for m in tf:
                if not (m.isfile() and MEMBER.fullmatch(m.name)):
                    warnings.warn(f"{archive}: skipped {m.name!r}", stacklevel=2)
                    continue
                blob = tf.extractfile(m).read()
                target = root / m.name
                c = counts.setdefault(target.parent.relative_to(root).as_posix(), {})
                kind = _place(blob, target)
                c[kind] = c.get(kind, 0) + 1
    return counts


def _place(blob: bytes, target: Path) -> str:
    """Write one member unless what is there wins; returns what was done."""
    if target.name == chunks.GUARD:
        if target.exists():
            if json.loads(target.read_text()) != json.loads(blob):
                raise ValueError(
                    f"{target} belongs to another run than the archive's run.json"
                )
            return "kept"
    elif target.suffix == chunks.SUFFIX and target.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", chunks.DamagedChunkWarning)
            if chunks.read_part(target) is not None:
                return "kept"
    with atomic_path(target) as tmp:
        tmp.write_bytes(blob)
    if target.name == chunks.GUARD:
        return "run.json"
    return "added" if target.suffix == chunks.SUFFIX else "records"


class Bundler:
    """Rewrites each dataset's archive when its parts changed: every ``every``
    seconds on a thread, and once more at :meth:`stop`.

    Args:
        root: the tables' folder.
        jobs: the jobs whose parts are bundled.
        out_dir: where the archives go (a device run's ``$OUT``).
        every: seconds between checks.
    """

    def __init__(self, root, jobs: Sequence[Job], out_dir, every: float = 30.0):
        self.root, self.jobs, self.out_dir = Path(root), list(jobs), Path(out_dir)
        self.every = every
        self._seen: dict[str, tuple] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Bundler:
        """Start the thread."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def flush(self) -> None:
        """Rewrite the archive of every dataset whose parts changed since the last."""
        with self._lock:
            for ds in dict.fromkeys(j.dataset for j in self.jobs):
                mine = [j for j in self.jobs if j.dataset == ds]
                found = files(self.root, mine)
                stamp = (
                    len(found),
                    max((f.stat().st_mtime_ns for f in found), default=0),
                )
                if found and stamp != self._seen.get(ds):
                    write(self.root, ds, mine, self.out_dir)
                    self._seen[ds] = stamp

    def stop(self) -> None:
        """Stop the thread and write what changed last."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.flush()
            except OSError as exc:  # a part replaced under us: the next round has it
                print(f"bundle: {exc}", file=sys.stderr, flush=True)
