"""The official NATS-Bench files (``nats_bench``) and their Parquet cache.

    from zclib.bench import official
    official.official_rows(folder, "cifar10", [0, 11, 284])  # works on partial folders

The only module that imports ``nats_bench``. Every query passes ``hp`` (the API's
default is the 12-epoch schedule) and ``is_random=False`` (else each call draws a
random seed). A complete folder is converted once, for all datasets in one pass,
into Parquet files under ``$ZCLIB_CACHE`` or ``data/cache/`` keyed by a
:func:`fingerprint` of the folder; later loads read the Parquet.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import nats_bench
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from zclib import fileio, names, paths
from zclib.bench.schema import COLUMNS, tidy
from zclib.space import NUM_ARCHS

OFFICIAL_NAME = "NATS-tss-v1_0-3ffb9-simple"
OFFICIAL_RELPATHS = (OFFICIAL_NAME, f"nats-bench/{OFFICIAL_NAME}")
CACHE_ENV = "ZCLIB_CACHE"  # overrides the Parquet cache folder (default data/cache)
CACHE_VERSION = 1  # bump when the converted columns change: old caches are ignored
META_FILE = "meta.pickle.pbz2"
CELL_FILE = re.compile(r"\d+\.pickle\.pbz2")  # 000123.pickle.pbz2 (or 123.pickle...)
# Where the validation accuracy comes from: CIFAR-10's own run has no valid split.
_VALID_SPLIT = {
    "cifar10": "cifar10-valid",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}


def parquet_cache_dir(cache_dir=None) -> Path:
    """``cache_dir`` if given, else ``$ZCLIB_CACHE``, else ``data/cache``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else paths.DATA_DIR / "cache"


def count_cells(folder: Path) -> int:
    """Number of cell files (``<index>.pickle.pbz2``) in an official folder."""
    return sum(1 for e in os.scandir(folder) if CELL_FILE.fullmatch(e.name))


def official_status(folder: Path) -> tuple[int, bool, str]:
    """(cells with data, complete?, note) of an official folder."""
    n = count_cells(folder)
    if not (folder / META_FILE).is_file():
        return n, False, f"skipped {folder}: no {META_FILE}"
    if n < NUM_ARCHS:
        return (
            n,
            False,
            (
                f"skipped {folder}: data for {n} of {NUM_ARCHS} cells "
                "(an incomplete copy, or the small test sample)"
            ),
        )
    return n, True, ""


def create_api(folder: Path):
    # fast_mode: read each cell's file on first query instead of all at start.
    return nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)


def official_rows(api_or_path, dataset: str, indices: Iterable[int]) -> pd.DataFrame:
    """Tidy rows of ``dataset`` for some benchmark indices, from the official API.

    Works on partial folders (such as the 3-cell test sample), unlike
    :func:`zclib.bench.load_table`.

    Args:
        api_or_path: a NATS-Bench topology API object, or its folder.
        dataset: a dataset name or alias.
        indices: benchmark indices to convert.

    Returns:
        One row per index, sorted by index, with the columns of
        :func:`zclib.bench.load_table`.
    """
    ds = names.canonical_dataset(dataset)
    api = api_or_path
    if isinstance(api_or_path, (str, os.PathLike)):
        api = create_api(Path(api_or_path))
    return official_tables(api, indices, (ds,), progress=False)[ds]


def official_tables(
    api, indices: Iterable[int], datasets: Sequence[str], progress: bool
) -> dict[str, pd.DataFrame]:
    """Query every index once for all ``datasets`` (each cell file is read once)."""
    indices = [int(i) for i in indices]  # the API wants plain ints
    rows: dict[str, list[dict]] = {ds: [] for ds in datasets}
    bar = tqdm(
        indices, desc="NATS-Bench tss -> Parquet", unit="arch", disable=not progress
    )
    for i in bar:
        try:
            arch = api.arch(i)
            unique = api.get_unique_str(i)
            # Costs and seed lists, fetched once: the API deep-copies all of a
            # cell's results on each such call (get_cost_info included), which
            # would otherwise dominate the conversion time.
            meta = api.query_meta_info_by_index(i, hp="200")
            for ds in datasets:
                rows[ds].append(
                    {
                        "index": i,
                        "arch_str": arch,
                        "unique_str": unique,
                        **_official_row(api, i, ds, meta),
                    }
                )
        except AssertionError as e:  # how nats_bench reports a missing cell file
            raise LookupError(f"benchmark index {i}: {e}") from e
        _forget(api, i)
    return {
        ds: tidy(
            pd.DataFrame(r, columns=[c for c in COLUMNS if c != "train_time_12ep_s"])
        )
        for ds, r in rows.items()
    }


def _official_row(api, i: int, ds: str, meta) -> dict:
    """The metrics of cell ``i`` on ``ds``: always hp given, never a random seed.

    ``meta`` is ``api.query_meta_info_by_index(i, hp="200")``; its
    ``get_compute_costs(ds)`` is what ``api.get_cost_info(i, ds)`` returns.
    """
    valid_ds = _VALID_SPLIT[ds]
    more = api.get_more_info(i, ds, hp="200", is_random=False)
    valid = (
        more
        if valid_ds == ds
        else api.get_more_info(i, valid_ds, hp="200", is_random=False)
    )
    cost = meta.get_compute_costs(ds)  # params, flops: same for every hp
    seeds = meta.get_dataset_seeds(valid_ds)
    try:
        m12 = api.get_more_info(i, ds, hp="12", is_random=False)
        v12 = (
            m12
            if valid_ds == ds
            else api.get_more_info(i, valid_ds, hp="12", is_random=False)
        )
        test_12, valid_12 = m12["test-accuracy"], v12["valid-accuracy"]
    except KeyError:  # this cell has no 12-epoch results
        test_12 = valid_12 = np.nan
    valtest = more.get("valtest-accuracy")  # None for cifar10 (no x-valid/x-test)
    return {
        "test_acc": more["test-accuracy"],
        "valid_acc": valid["valid-accuracy"],
        "valid_acc_seeds": len(seeds),
        "valtest_acc": np.nan if valtest is None else valtest,
        "test_acc_12ep": test_12,
        "valid_acc_12ep": valid_12,
        "params_M": float(cost["params"]),  # the benchmark's "MB" = millions
        "flops_M": float(cost["flops"]),  # millions
        "train_time_200ep_s": valid["train-all-time"],  # mean over seeds
    }


def _forget(api, i: int) -> None:
    """Drop cell ``i`` from the API's memory: fast_mode keeps every cell it read."""
    infos = getattr(api, "arch2infos_dict", None)
    if infos is not None:
        infos.pop(i, None)
        api.evaluated_indexes.discard(i)


def fingerprint(folder: Path) -> str:
    """Identity of an official folder: meta file bytes, names and sizes of cells.

    Independent of the folder's location and of mtimes (a copy keeps its cache).
    """
    h = hashlib.sha256(f"zclib-bench-v{CACHE_VERSION}".encode())
    h.update((folder / META_FILE).read_bytes())
    cells = sorted(
        (e.name, e.stat().st_size)
        for e in os.scandir(folder)
        if CELL_FILE.fullmatch(e.name)
    )
    h.update(repr(cells).encode())
    return h.hexdigest()[:16]


def _cache_path(cache_dir: Path, fp: str, ds: str) -> Path:
    return cache_dir / f"nats_tss_{fp}_{ds}.parquet"


def load_official(folder: Path, ds: str, cache_dir: Path):
    """The table of ``ds`` from the Parquet cache, converting the folder if needed."""
    fp = fingerprint(folder)
    target = _cache_path(cache_dir, fp, ds)
    extra = {"fingerprint": fp, "cache": str(target)}
    if target.is_file():
        return fileio.read_parquet(target), extra
    api = create_api(folder)
    if len(api) != NUM_ARCHS:
        raise ValueError(f"{folder}: {len(api)} architectures, expected {NUM_ARCHS}")
    # One pass for all datasets: reading a cell's file is the slow part.
    tables = official_tables(api, range(NUM_ARCHS), names.DATASETS, progress=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.attrs = {
            "dataset": name,
            "converted_from": str(folder),
            "fingerprint": fp,
            "cache_version": CACHE_VERSION,
            "nats_bench": importlib.metadata.version("nats_bench"),
        }
        fileio.write_parquet_atomic(table, _cache_path(cache_dir, fp, name))
    return tables[ds], extra
