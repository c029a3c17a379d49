"""Where data lives, dataset names, and run provenance: the rules every module shares.

    from zclib.paths import data_roots, find_data, canonical_dataset
    find_data("nats-bench/nats_tss_test_acc_200ep.csv")

Files are written atomically (:func:`atomic_path`): a reader, or a run killed
mid-write, never leaves a half-written table.

Data discovery, one rule for everything (first hit wins):
  1. ``$ZCLIB_DATA`` (a folder; ``os.pathsep``-separated list allowed),
  2. the project's ``data/`` folder (git-ignored; set-up may copy files there),
  3. ``../shared/data`` beside the project checkout (the offline copies).
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import zclib

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"  # git-ignored cache and user-provided files
RESULTS_DIR = PROJECT_ROOT / "results"
ENV_VAR = "ZCLIB_DATA"

# One table of dataset aliases. Canonical names are the benchmark's own.
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
_ALIASES = {
    "cifar10": "cifar10",
    "cifar-10": "cifar10",
    "cifar100": "cifar100",
    "cifar-100": "cifar100",
    "imagenet16-120": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
    "imagenet": "ImageNet16-120",
    "in16-120": "ImageNet16-120",
}


def canonical_dataset(name: str) -> str:
    """Map a user-facing dataset name to the canonical one.

    Args:
        name: e.g. ``"CIFAR-10"``, ``"cifar100"``, ``"ImageNet16-120"``.

    Returns:
        One of :data:`DATASETS`.

    Raises:
        ValueError: for an unknown name (the message lists the accepted ones).
    """
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)} "
            f"(aliases: {', '.join(sorted(_ALIASES))})"
        )
    return _ALIASES[key]


def data_roots() -> list[Path]:
    """The folders searched for data, in priority order (they need not exist)."""
    roots: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    roots.append(DATA_DIR)
    roots.append(PROJECT_ROOT.parent / "shared" / "data")
    return roots


def find_data(*relpaths: str) -> Path | None:
    """First existing ``root/relpath`` over :func:`data_roots` x ``relpaths``.

    Roots take priority over the order of ``relpaths``. Returns None if none exists.
    """
    for root in data_roots():
        for rel in relpaths:
            p = root / rel
            if p.exists():
                return p
    return None


def searched(*relpaths: str) -> list[str]:
    """Every place :func:`find_data` looks, for error messages."""
    return [str(root / rel) for root in data_roots() for rel in relpaths]


@functools.lru_cache(maxsize=1)
def git_commit() -> tuple[str, bool]:
    """(commit hash or "unknown", tree dirty?) of the project checkout."""
    try:
        run = functools.partial(
            subprocess.run, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
        head = run(["git", "rev-parse", "HEAD"]).stdout.strip() or "unknown"
        dirty = bool(
            run(["git", "status", "--porcelain", "--", "zclib"]).stdout.strip()
        )
        return head, dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def provenance(**params) -> dict:
    """Metadata every results file records: zclib version, commit, dirty flag,
    params."""
    commit, dirty = git_commit()
    return {"zclib_version": zclib.__version__, "git_commit": commit,
            "git_dirty": dirty, **params}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path``
    in one rename, on error it is removed (the old file, if any, stays).

        with atomic_path("t.parquet") as tmp:
            df.to_parquet(tmp, index=False)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write a text file atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_parquet_atomic(df, path: str | os.PathLike) -> Path:
    """Write a DataFrame as Parquet (no index) atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def read_parquet(path: str | os.PathLike, columns=None):
    """``pd.read_parquet`` without Arrow's reader threads.

    With threads, a process that exits soon after reading sometimes aborts at
    shutdown ("terminate called without an active exception", exit 134;
    apache/arrow#34314): seen here with pyarrow 22 in about 1 of 6 short runs,
    never in 30 runs without threads. Our tables are small, so nothing is lost.
    """
    import pandas as pd

    return pd.read_parquet(path, columns=columns, use_threads=False)
