"""Carry finished chunks back from a device machine in ``.tar.gz`` archives.

    from zclib import carry
    carry.write(root, files, out_dir / "x.tar.gz")      # there: atomically
    b = carry.Bundler(root, {"x.tar.gz": lambda: files_now()}, out_dir).start()
    ...; b.stop()                                        # there: last rewrite
    carry.unpack([archive], root, member=MEMBER)         # here: add what it holds

Only a few files come back from a device machine's ``$OUT`` (at most 8, 16 MiB
each), and a command stopped at its time limit is killed: so a device run keeps
its archives there, rewritten atomically whenever their files changed
(:class:`Bundler`, every 30 s and at the end). Members are paths relative to the
folder the tables live in (``root``), i.e. ``<table>.parquet.parts/<file>``.
Used by the full-space scoring run (:mod:`zclib.fullspace.bundle`) and the EcoNAS
training job (:mod:`zclib.train.job`).
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from zclib import chunks
from zclib.fileio import atomic_path


def parts_files(folder: str | Path, *globs: str) -> list[Path]:
    """What an archive carries of one parts folder: its ``run.json`` (if there),
    then the files matching each of ``globs``, sorted ([] without the folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out = [folder / chunks.GUARD] if (folder / chunks.GUARD).exists() else []
    for g in globs:
        out += sorted(folder.glob(g))
    return out


def write(root: str | Path, files: Sequence[Path], path: str | Path) -> Path:
    """Write ``path``, a ``.tar.gz`` of ``files`` named relative to ``root``
    (atomically: a killed run leaves the previous archive)."""
    root, path = Path(root), Path(path)
    with atomic_path(path) as tmp, tarfile.open(tmp, "w:gz", compresslevel=6) as tf:
        for f in files:
            tf.add(f, arcname=f.relative_to(root).as_posix(), recursive=False)
    return path


def unpack(
    archives: Sequence[str | Path], root: str | Path, member: re.Pattern
) -> dict[str, dict]:
    """Add what device-run archives hold to the parts folders under ``root``.

    A chunk already here is kept (a run's chunks made here and there are
    interchangeable), unless it cannot be read, which the archive's replaces; a
    ``run.json`` must equal the one here (else ValueError: another run); other
    files are added. Members whose name ``member`` does not match in full are
    skipped with a warning.

    Returns:
        ``{parts folder: {"added": n, "kept": n, "run.json": n, "records": n}}``
        (``kept``: chunks and run.json already here; ``records``: other files).
    """
    root = Path(root)
    counts: dict[str, dict] = {}
    for archive in archives:
        with tarfile.open(archive, "r:gz") as tf:
            for m in tf:
                if not (m.isfile() and member.fullmatch(m.name)):
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
    """Rewrites each archive whose files changed: every ``every`` seconds on a
    thread, and once more at :meth:`stop`.

    Args:
        root: the tables' folder (members are named relative to it).
        archives: archive file name -> a callable returning its files now.
        out_dir: where the archives go (a device run's ``$OUT``).
        every: seconds between checks.
    """

    def __init__(
        self,
        root,
        archives: Mapping[str, Callable[[], list[Path]]],
        out_dir,
        every: float = 30.0,
    ):
        self.root, self.archives, self.out_dir = (
            Path(root),
            dict(archives),
            Path(out_dir),
        )
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
        """Rewrite every archive whose files changed since its last writing."""
        with self._lock:
            for name, files_now in self.archives.items():
                found = files_now()
                stamp = (
                    len(found),
                    max((f.stat().st_mtime_ns for f in found), default=0),
                )
                if found and stamp != self._seen.get(name):
                    write(self.root, found, self.out_dir / name)
                    self._seen[name] = stamp

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
