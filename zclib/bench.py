"""NATS-Bench topology space (= NAS-Bench-201): one tidy table per dataset.

    from zclib.bench import load_table
    df = load_table("cifar10")  # 15,625 rows; row i = benchmark index i

The only module that knows about ``nats_bench`` and the benchmark's file formats.
Sources, first found wins with ``source="auto"`` (data roots: :mod:`zclib.paths`):

1. ``"official"``: the ``NATS-tss-v1_0-3ffb9-simple`` folder from the NATS-Bench
   project, looked for as ``<root>/NATS-tss-v1_0-3ffb9-simple``,
   ``<root>/nats-bench/NATS-tss-v1_0-3ffb9-simple`` and
   ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple``. A folder with fewer than 15,625
   cell files (e.g. the 3-cell test sample) is skipped with a warning. It is
   converted once (~minutes, progress bar) into Parquet files under
   ``$ZCLIB_CACHE`` or ``data/cache/``, keyed by a fingerprint of the folder;
   later loads read the Parquet.
2. ``"csv"``: the compact exports ``nats-bench/nats_tss_test_acc_200ep.csv``,
   ``nats_tss_12ep_acc.csv`` and ``nats_tss_200ep_per_seed.csv``.

Sharp edges of the official API handled here: every query passes ``hp='200'``
(its default is the 12-epoch schedule) or an explicit ``hp='12'`` for the
12-epoch columns, and ``is_random=False`` (otherwise each call draws a random
seed); CIFAR-10 test accuracy comes from the ``cifar10`` run (trained on
train+valid), its validation accuracy from the ``cifar10-valid`` run (trained on
the train split), as in the exported CSVs.

Columns (accuracies in percent, means over the seeds the benchmark trained):

=====================  ======================================================
``index``              benchmark index (== row position)
``arch_str``           ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``
``unique_str``         isomorphism key (equal for equivalent cells)
``test_acc``           test accuracy after 200 epochs
``valid_acc``          validation accuracy after 200 epochs
``valid_acc_seeds``    number of seeds behind ``valid_acc`` (2 or 3)
``valtest_acc``        200 epochs, whole test set (valid+test halves);
                       cifar100/ImageNet16-120 only, NaN for cifar10
``test_acc_12ep``      test accuracy after the 12-epoch schedule
``valid_acc_12ep``     validation accuracy after the 12-epoch schedule
``params_M``           parameters, millions (the benchmark's "MB")
``flops_M``            FLOPs, millions; NaN for the CSV source
``train_time_200ep_s`` seconds to train 200 epochs (run behind ``valid_acc``)
``train_time_12ep_s``  12/200 of it
=====================  ======================================================
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import nats_bench
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from zclib import fileio, names, paths
from zclib.space import NUM_ARCHS

OFFICIAL_NAME = "NATS-tss-v1_0-3ffb9-simple"
OFFICIAL_RELPATHS = (OFFICIAL_NAME, f"nats-bench/{OFFICIAL_NAME}")
CSV_RELPATHS = (
    "nats-bench/nats_tss_test_acc_200ep.csv",  # 200-epoch test acc, row i = index i
    "nats-bench/nats_tss_12ep_acc.csv",  # 12-epoch valid/test acc
    "nats-bench/nats_tss_200ep_per_seed.csv",  # 200-epoch per-seed results
)
CACHE_ENV = "ZCLIB_CACHE"  # overrides the Parquet cache folder (default data/cache)
COLUMNS = (
    "index", "arch_str", "unique_str", "test_acc", "valid_acc", "valid_acc_seeds",
    "valtest_acc", "test_acc_12ep", "valid_acc_12ep", "params_M", "flops_M",
    "train_time_200ep_s", "train_time_12ep_s",
)

_CACHE_VERSION = 1  # bump when the converted columns change: old caches are ignored
_META_FILE = "meta.pickle.pbz2"
_CELL_FILE = re.compile(r"\d+\.pickle\.pbz2")  # 000123.pickle.pbz2 (or 123.pickle...)
# Where the validation accuracy comes from: CIFAR-10's own run has no valid split.
_VALID_SPLIT = {"cifar10": "cifar10-valid", "cifar100": "cifar100",
                "ImageNet16-120": "ImageNet16-120"}
_CSV_TEST_COLUMN = {"cifar10": "CIFAR10TestAccuracy200Epochs",
                    "cifar100": "CIFAR100TestAccuracy200Epochs",
                    "ImageNet16-120": "ImageNetTestAccuracy200Epochs"}
_HOW_TO_GET = (
    f"To fix: download {OFFICIAL_NAME} (the topology-space 'simple' archive of the "
    "NATS-Bench project, https://github.com/D-X-Y/NATS-Bench), unpack it into "
    f"{paths.DATA_DIR} or point ${paths.ENV_VAR} (or $TORCH_HOME) at the folder "
    "holding it; or use the offline CSVs: put "
    f"{', '.join(Path(p).name for p in CSV_RELPATHS)} in <data root>/nats-bench/."
)


@dataclasses.dataclass(frozen=True)
class _Source:
    kind: str  # "official" or "csv"
    paths: tuple[Path, ...]  # official: (folder,); csv: the CSV_RELPATHS files
    notes: tuple[str, ...] = ()  # why other candidates were skipped


# ----------------------------------------------------------------------------
# Public API


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
        A new DataFrame with the columns listed in the module docstring;
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
    for folder in _official_candidates():
        if not folder.is_dir():
            continue
        n, complete, note = _official_status(folder)
        found.append({"kind": "official", "path": str(folder), "n_archs": n,
                      "datasets": list(names.DATASETS), "complete": complete,
                      "note": note})
    files = [paths.find_data(rel) for rel in CSV_RELPATHS]
    if files[0] is not None:
        with open(files[0]) as f:
            n = sum(1 for _ in f) - 1  # minus the header line
        missing = [Path(r).name for r, p in zip(CSV_RELPATHS, files, strict=True)
                   if p is None]
        found.append({"kind": "csv", "path": str(files[0].parent), "n_archs": n,
                      "datasets": list(names.DATASETS),
                      "complete": n == NUM_ARCHS and not missing,
                      "note": f"missing {', '.join(missing)}" if missing else ""})
    return found


def clear_cache() -> None:
    """Forget the in-process tables (the Parquet cache on disk stays)."""
    _load_table_cached.cache_clear()
    _arch_strings_cached.cache_clear()


# ----------------------------------------------------------------------------
# Finding the source


def _env_key(cache_dir) -> tuple:
    roots = tuple(str(r) for r in paths.data_roots())
    return roots, os.environ.get("TORCH_HOME"), str(_cache_dir(cache_dir))


def _cache_dir(cache_dir=None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else paths.DATA_DIR / "cache"


def _official_candidates() -> list[Path]:
    """Folders that may hold the official files, in priority order."""
    found = [Path(p) for p in paths.searched(*OFFICIAL_RELPATHS)]
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:  # where nats_bench itself would look
        found.append(Path(torch_home).expanduser() / OFFICIAL_NAME)
    return found


def _count_cells(folder: Path) -> int:
    return sum(1 for e in os.scandir(folder) if _CELL_FILE.fullmatch(e.name))


def _official_status(folder: Path) -> tuple[int, bool, str]:
    """(cells with data, complete?, note) of an official folder."""
    n = _count_cells(folder)
    if not (folder / _META_FILE).is_file():
        return n, False, f"skipped {folder}: no {_META_FILE}"
    if n < NUM_ARCHS:
        return n, False, (f"skipped {folder}: data for {n} of {NUM_ARCHS} cells "
                          "(an incomplete copy, or the small test sample)")
    return n, True, ""


def _resolve(source: str) -> _Source:
    """Turn a ``source`` argument into the files to read."""
    if source not in ("auto", "official", "csv"):
        return _resolve_path(Path(source).expanduser())
    notes: list[str] = []
    if source in ("auto", "official"):
        for folder in _official_candidates():
            if folder.is_dir():
                _, complete, note = _official_status(folder)
                if complete:
                    return _Source("official", (folder,), tuple(notes))
                notes.append(note)
    if source in ("auto", "csv"):
        files = [paths.find_data(rel) for rel in CSV_RELPATHS]
        if all(files):
            return _Source("csv", tuple(files), tuple(notes))
    raise FileNotFoundError(_not_found_message(source, notes))


def _resolve_path(p: Path) -> _Source:
    for folder in (p, p / OFFICIAL_NAME, p / "nats-bench" / OFFICIAL_NAME):
        if (folder / _META_FILE).is_file():
            _, complete, note = _official_status(folder)
            if not complete:
                raise FileNotFoundError(f"{note}. {_HOW_TO_GET}")
            return _Source("official", (folder,))
    for folder in (p, p / "nats-bench"):
        files = [folder / Path(rel).name for rel in CSV_RELPATHS]
        if all(f.is_file() for f in files):
            return _Source("csv", tuple(files))
    raise FileNotFoundError(
        f"no NATS-Bench topology-space data at {p}: expected an official "
        f"{OFFICIAL_NAME} folder (with {_META_FILE}) or the CSVs "
        f"{', '.join(Path(r).name for r in CSV_RELPATHS)}. {_HOW_TO_GET}"
    )


def _not_found_message(source: str, notes: Sequence[str]) -> str:
    lines = [f"No NATS-Bench topology-space benchmark data found (source={source!r})."]
    if source in ("auto", "official"):
        lines.append(f"Searched for the official folder {OFFICIAL_NAME}:")
        lines += [f"  {p}" for p in _official_candidates()]
    if source in ("auto", "csv"):
        lines.append("Searched for the CSVs:")
        lines += [f"  {p}" for p in paths.searched(*CSV_RELPATHS)]
    lines += [f"Note: {n}" for n in notes]
    lines.append(_HOW_TO_GET)
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# Loading (in-process cache on top)


@functools.lru_cache(maxsize=16)
def _load_table_cached(ds: str, source: str, _roots, _torch_home, cache_dir: str):
    src = _resolve(source)
    for note in src.notes:
        warnings.warn(note, stacklevel=3)  # point at the caller of load_table
    if src.kind == "official":
        df, extra = _load_official(src.paths[0], ds, Path(cache_dir))
        extra["conversion"] = df.attrs  # stored in the Parquet file
    else:
        df, extra = _csv_table(ds, *src.paths), {}
    df.attrs = {"dataset": ds,
                "source": {"kind": src.kind, "paths": [str(p) for p in src.paths],
                           **extra},
                "notes": list(src.notes)}
    return df


@functools.lru_cache(maxsize=4)
def _arch_strings_cached(source: str, _roots, _torch_home, _cache_dir) -> tuple:
    src = _resolve(source)
    if src.kind == "official":
        api = _create_api(src.paths[0])  # reads only the meta file: seconds
        return tuple(api.arch(i) for i in range(len(api)))
    col = pd.read_csv(src.paths[0], usecols=["ArchitectureString"])
    return tuple(col["ArchitectureString"])


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns, column order and dtypes shared by both sources."""
    df = df.sort_values("index", ignore_index=True)
    # Training time scales with epochs: the 12-epoch schedule is 12/200 of it.
    df["train_time_12ep_s"] = df["train_time_200ep_s"] * (12 / 200)
    df = df[list(COLUMNS)].astype({"index": "int64", "valid_acc_seeds": "int64"})
    float_cols = [c for c in COLUMNS if c not in ("index", "arch_str", "unique_str",
                                                  "valid_acc_seeds")]
    return df.astype({c: "float64" for c in float_cols})


# ----------------------------------------------------------------------------
# CSV source


def _csv_table(ds: str, test_csv: Path, ep12_csv: Path, seeds_csv: Path):
    """Join the three CSV exports into the tidy table of ``ds``."""
    test = pd.read_csv(test_csv)
    if len(test) != NUM_ARCHS:
        raise ValueError(f"{test_csv}: {len(test)} rows, expected {NUM_ARCHS}")
    df = pd.DataFrame({
        "index": np.arange(NUM_ARCHS),  # row i of this file is benchmark index i
        "arch_str": test["ArchitectureString"],
        "unique_str": test["UniqueString"],
        "test_acc": test[_CSV_TEST_COLUMN[ds]],
    })

    ep12 = pd.read_csv(ep12_csv).set_index("index").sort_index()
    _check_indices(ep12.index, ep12_csv)
    _check_same_archs(df["arch_str"], ep12["arch_str"], test_csv, ep12_csv)
    df["test_acc_12ep"] = ep12[f"{ds}_test_12ep"].to_numpy()
    df["valid_acc_12ep"] = ep12[f"{ds}_valid_12ep"].to_numpy()

    seeds = pd.read_csv(seeds_csv)
    seeds = seeds[seeds["dataset"] == ds]
    per_cell = seeds.groupby("index").agg(
        valid_acc=("valid_acc_200ep", "mean"),
        valid_acc_seeds=("valid_acc_200ep", "count"),
        # the whole test set (the x-valid and x-test halves); empty for cifar10
        valtest_acc=("test_acc_200ep", "mean"),
        train_time_200ep_s=("train_time_200ep_s", "mean"),
        params_M=("params_mb", "first"),  # same for every seed
    )
    _check_indices(per_cell.index, f"{seeds_csv} (dataset {ds})")
    df = df.join(per_cell, on="index")
    df["flops_M"] = np.nan  # not in these files; zclib computes FLOPs from the net
    return _tidy(df)


def _check_indices(index: pd.Index, where) -> None:
    if not index.equals(pd.RangeIndex(NUM_ARCHS)):
        missing = sorted(set(range(NUM_ARCHS)) - set(index))[:5]
        raise ValueError(f"{where}: indices are not exactly 0..{NUM_ARCHS - 1} "
                         f"({len(index)} rows; first missing: {missing})")


def _check_same_archs(a: pd.Series, b: pd.Series, file_a, file_b) -> None:
    bad = np.flatnonzero(a.to_numpy() != b.to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"arch strings disagree between {file_a} and {file_b} at {bad.size} "
            f"indices; first, index {i}: {a.iloc[i]!r} vs {b.iloc[i]!r}"
        )


# ----------------------------------------------------------------------------
# Official source


def _create_api(folder: Path):
    # fast_mode: read each cell's file on first query instead of all at start.
    return nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)


def _official_rows(api_or_path, dataset: str, indices: Iterable[int]) -> pd.DataFrame:
    """Tidy rows of ``dataset`` for some benchmark indices, from the official API.

    Works on partial folders (such as the 3-cell test sample), unlike
    :func:`load_table`.

    Args:
        api_or_path: a NATS-Bench topology API object, or its folder.
        dataset: a dataset name or alias.
        indices: benchmark indices to convert.

    Returns:
        One row per index, sorted by index, with the columns of :func:`load_table`.
    """
    ds = names.canonical_dataset(dataset)
    api = api_or_path
    if isinstance(api_or_path, (str, os.PathLike)):
        api = _create_api(Path(api_or_path))
    return _official_tables(api, indices, (ds,), progress=False)[ds]


def _official_tables(api, indices: Iterable[int], datasets: Sequence[str],
                     progress: bool) -> dict[str, pd.DataFrame]:
    """Query every index once for all ``datasets`` (each cell file is read once)."""
    indices = [int(i) for i in indices]  # the API wants plain ints
    rows: dict[str, list[dict]] = {ds: [] for ds in datasets}
    bar = tqdm(indices, desc="NATS-Bench tss -> Parquet", unit="arch",
               disable=not progress)
    for i in bar:
        try:
            arch = api.arch(i)
            unique = api.get_unique_str(i)
            # Costs and seed lists, fetched once: the API deep-copies all of a
            # cell's results on each such call (get_cost_info included), which
            # would otherwise dominate the conversion time.
            meta = api.query_meta_info_by_index(i, hp="200")
            for ds in datasets:
                rows[ds].append({"index": i, "arch_str": arch, "unique_str": unique,
                                 **_official_row(api, i, ds, meta)})
        except AssertionError as e:  # how nats_bench reports a missing cell file
            raise LookupError(f"benchmark index {i}: {e}") from e
        _forget(api, i)
    return {ds: _tidy(pd.DataFrame(r, columns=[c for c in COLUMNS
                                               if c != "train_time_12ep_s"]))
            for ds, r in rows.items()}


def _official_row(api, i: int, ds: str, meta) -> dict:
    """The metrics of cell ``i`` on ``ds``: always hp given, never a random seed.

    ``meta`` is ``api.query_meta_info_by_index(i, hp="200")``; its
    ``get_compute_costs(ds)`` is what ``api.get_cost_info(i, ds)`` returns.
    """
    valid_ds = _VALID_SPLIT[ds]
    more = api.get_more_info(i, ds, hp="200", is_random=False)
    valid = (more if valid_ds == ds
             else api.get_more_info(i, valid_ds, hp="200", is_random=False))
    cost = meta.get_compute_costs(ds)  # params, flops: same for every hp
    seeds = meta.get_dataset_seeds(valid_ds)
    try:
        m12 = api.get_more_info(i, ds, hp="12", is_random=False)
        v12 = (m12 if valid_ds == ds
               else api.get_more_info(i, valid_ds, hp="12", is_random=False))
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


def _fingerprint(folder: Path) -> str:
    """Identity of an official folder: meta file bytes, names and sizes of cells.

    Independent of the folder's location and of mtimes (a copy keeps its cache).
    """
    h = hashlib.sha256(f"zclib-bench-v{_CACHE_VERSION}".encode())
    h.update((folder / _META_FILE).read_bytes())
    cells = sorted((e.name, e.stat().st_size) for e in os.scandir(folder)
                   if _CELL_FILE.fullmatch(e.name))
    h.update(repr(cells).encode())
    return h.hexdigest()[:16]


def _cache_path(cache_dir: Path, fingerprint: str, ds: str) -> Path:
    return cache_dir / f"nats_tss_{fingerprint}_{ds}.parquet"


def _load_official(folder: Path, ds: str, cache_dir: Path):
    """The table of ``ds`` from the Parquet cache, converting the folder if needed."""
    fp = _fingerprint(folder)
    target = _cache_path(cache_dir, fp, ds)
    extra = {"fingerprint": fp, "cache": str(target)}
    if target.is_file():
        return fileio.read_parquet(target), extra
    api = _create_api(folder)
    if len(api) != NUM_ARCHS:
        raise ValueError(f"{folder}: {len(api)} architectures, expected {NUM_ARCHS}")
    # One pass for all datasets: reading a cell's file is the slow part.
    tables = _official_tables(api, range(NUM_ARCHS), names.DATASETS, progress=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.attrs = {"dataset": name, "converted_from": str(folder),
                       "fingerprint": fp, "cache_version": _CACHE_VERSION,
                       "nats_bench": importlib.metadata.version("nats_bench")}
        fileio.write_parquet_atomic(table, _cache_path(cache_dir, fp, name))
    return tables[ds], extra


