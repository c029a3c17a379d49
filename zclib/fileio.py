"""Atomic file writes and the one Parquet reader.

    from zclib.fileio import atomic_path, read_parquet, write_parquet_atomic
    write_parquet_atomic(df, "results/scores/t.parquet")

Files are written atomically (:func:`atomic_path`): a reader, or a run killed
mid-write, never sees a half-written table.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


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
