"""The public API of :mod:`zclib.bench`: tables, arch strings, a sources report.

    from zclib.bench import load_table
    df = load_table("cifar10")  # 15,625 rows; row i = benchmark index i

Tables are kept in process (:func:`clear_cache` forgets them), keyed by the
source argument and the environment that decides which files are found.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import pandas as pd

from zclib import names, paths
from zclib.bench.csv_tables import CSV_RELPATHS, csv_table
from zclib.bench.official import (
    create_api,
    load_official,
    official_status,
    parquet_cache_dir,
)
from zclib.bench.sources import official_candidates, resolve
from zclib.space import NUM_ARCHS


def load_table(
    dataset: str,
    source: str | os.PathLike = "auto",
    *,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """The benchmark table of one dataset: 15,625 rows, row i = benchmark index i.

    Args:
        dataset: ``"cifar10"``, ``"cifar100"``, ``"ImageNet16-120"`` or an alias
            accepted by :func:`zclib.names.canonical_dataset`.
        source: ``"auto"`` (official files if found, else the CSVs),
            ``"official"``, ``"csv"``, or a path: an official folder, or a
            folder holding the CSVs (directly or in ``nats-bench/``).
        cache_dir: folder of the Parquet cache for the official source; default
            ``$ZCLIB_CACHE`` or ``data/cache``.

    Returns:
        A new DataFrame with the columns listed in :mod:`zclib.bench`;
        ``df.attrs`` holds ``dataset``, ``source`` (``kind``, ``paths``, and for
        the official source ``fingerprint`` and ``cache``) and ``notes``.

    Raises:
        ValueError: unknown dataset, or source files that disagree.
        FileNotFoundError: no source found (the message lists every place
            searched and how to get the data).
    """
    ds = names.canonical_dataset(dataset)
    # The data roots and $TORCH_HOME are part of the key so that a changed
    # environment (tests, a notebook setting $ZCLIB_DATA) is not served stale.
    return _load_table_cached(ds, str(source), *_env_key(cache_dir)).copy()


def arch_strings(source: str | os.PathLike = "auto") -> list[str]:
    """The 15,625 architecture strings in benchmark index order.

    Args:
        source: as for :func:`load_table`.

    Returns:
        ``arch_strings()[i]`` is the cell of benchmark index ``i``.
    """
    return list(_arch_strings_cached(str(source), *_env_key(None)))


def report() -> list[dict]:
    """Every benchmark source found, for a ``make data`` report.

    Returns:
        One dict per source with ``kind`` ("official" or "csv"), ``path``,
        ``n_archs`` (cells with data), ``datasets``, ``complete`` (usable by
        :func:`load_table`) and ``note``.
    """
    found = []
    for folder in official_candidates():
        if not folder.is_dir():
            continue
        n, complete, note = official_status(folder)
        found.append(
            {
                "kind": "official",
                "path": str(folder),
                "n_archs": n,
                "datasets": list(names.DATASETS),
                "complete": complete,
                "note": note,
            }
        )
    files = [paths.find_data(rel) for rel in CSV_RELPATHS]
    if files[0] is not None:
        with open(files[0]) as f:
            n = sum(1 for _ in f) - 1  # minus the header line
        missing = [
            Path(r).name for r, p in zip(CSV_RELPATHS, files, strict=True) if p is None
        ]
        found.append(
            {
                "kind": "csv",
                "path": str(files[0].parent),
                "n_archs": n,
                "datasets": list(names.DATASETS),
                "complete": n == NUM_ARCHS and not missing,
                "note": f"missing {', '.join(missing)}" if missing else "",
            }
        )
    return found


def clear_cache() -> None:
    """Forget the in-process tables (the Parquet cache on disk stays)."""
    _load_table_cached.cache_clear()
    _arch_strings_cached.cache_clear()


def _env_key(cache_dir) -> tuple:
    """What decides which files a source argument finds (part of the cache key)."""
    roots = tuple(str(r) for r in paths.data_roots())
    return roots, os.environ.get("TORCH_HOME"), str(parquet_cache_dir(cache_dir))


@functools.lru_cache(maxsize=16)
def _load_table_cached(ds: str, source: str, _roots, _torch_home, cache_dir: str):
    src = resolve(source)
    for note in src.notes:
        warnings.warn(note, stacklevel=3)  # point at the caller of load_table
    if src.kind == "official":
        df, extra = load_official(src.paths[0], ds, Path(cache_dir))
        extra["conversion"] = df.attrs  # stored in the Parquet file
    else:
        df, extra = csv_table(ds, *src.paths), {}
    df.attrs = {
        "dataset": ds,
        "source": {"kind": src.kind, "paths": [str(p) for p in src.paths], **extra},
        "notes": list(src.notes),
    }
    return df


@functools.lru_cache(maxsize=4)
def _arch_strings_cached(source: str, _roots, _torch_home, _cache_dir) -> tuple:
    src = resolve(source)
    if src.kind == "official":
        api = create_api(src.paths[0])  # reads only the meta file: seconds
        return tuple(api.arch(i) for i in range(len(api)))
    col = pd.read_csv(src.paths[0], usecols=["ArchitectureString"])
    return tuple(col["ArchitectureString"])
