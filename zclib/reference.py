"""Published numbers to compare against: the papers' tables as tidy DataFrames.

    from zclib.reference import published
    published("abdelfattah2021", "table_spearman_nb201", "cifar10")

Reads ``published.csv`` and ``nb201_costs.csv`` from the reference folder:
``$ZCLIB_REFERENCE`` if set, else ``../shared/reference`` beside the project
checkout (the reference numbers are not data, so they are not looked for in the
data roots of :mod:`zclib.paths`). Every row of ``published.csv`` is one printed
number: ``source, exhibit, dataset, metric, method, value, notes``; the file's
README lists what each exhibit was computed against. The project's own
``reference/published_extra.csv`` (:data:`EXTRA`; same columns, what each number
correlates against in its notes) adds published rows found since (the proxies of
issue 15); :func:`published` reads both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from zclib.names import canonical_dataset
from zclib.paths import PROJECT_ROOT

ENV_VAR = "ZCLIB_REFERENCE"  # a folder holding published.csv / nb201_costs.csv
DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "reference"
PUBLISHED = "published.csv"
COSTS = "nb201_costs.csv"
EXTRA = PROJECT_ROOT / "reference" / "published_extra.csv"  # project-side rows


def reference_dirs() -> list[Path]:
    """The folders searched for reference files, in priority order."""
    dirs = []
    env = os.environ.get(ENV_VAR)
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(DEFAULT_DIR)
    return dirs


def find_reference(name: str) -> Path:
    """Path of a reference file; FileNotFoundError naming every place looked at."""
    for folder in reference_dirs():
        path = folder / name
        if path.is_file():
            return path
    looked = ", ".join(str(d / name) for d in reference_dirs())
    raise FileNotFoundError(
        f"reference file {name!r} not found; looked at: {looked}. Set ${ENV_VAR} "
        "to the folder holding it (normally ../shared/reference)."
    )


def _canonical_or_raw(name: str) -> str:
    """Canonical dataset name where there is one (``"nb201"`` etc. stay as they are)."""
    try:
        return canonical_dataset(name)
    except ValueError:
        return name


def _matches(column: pd.Series, wanted: str | Iterable[str] | None) -> pd.Series:
    if wanted is None:
        return pd.Series(True, index=column.index)
    if isinstance(wanted, str):
        wanted = [wanted]
    return column.isin(list(wanted))


def published(
    source: str | Iterable[str] | None = None,
    exhibit: str | Iterable[str] | None = None,
    dataset: str | Iterable[str] | None = None,
    metric: str | Iterable[str] | None = None,
    method: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The published numbers, filtered (each filter: a value, a list, or None = all).

    Sources and exhibits in the file (see ``published().groupby(["source",
    "exhibit"]).size()``): ``abdelfattah2021`` (``table_spearman_nb201``,
    ``vote_pairwise_agreement``, ``abstract``, ``fig1_econas_configs``),
    ``li2023_zico`` (``table3_nats_tss``, ``table3_nats_sss``),
    ``mellor2021_naswot`` (``fig3_nb201``, ``table2a_nb201_search``),
    ``cossu_course`` (``table1_rs_naswot`` ... ``table5_rea_synflow``,
    ``naswot_correlation``), ``dong2021_natsbench`` (``protocol_time_budget``);
    from :data:`EXTRA`: ``jiang2023_meco`` (``abstract_tss``,
    ``table1_tss_secondary``), ``peng2024_swap`` (``abstract_nb201``),
    ``krishnakumar2022_nbsz`` (``fig2_spearman_nb201``).

    Args:
        source: e.g. ``"abdelfattah2021"``.
        exhibit: e.g. ``"table_spearman_nb201"``.
        dataset: any alias accepted by :func:`zclib.names.canonical_dataset`
            (``"CIFAR-10"`` matches ``cifar10``), or a raw name such as ``"nb201"``.
        metric: e.g. ``"spearman"``, ``"kendall_tau"``, ``"spearman_all"``.
        method: proxy or search method, e.g. ``"synflow"``.

    Returns:
        DataFrame with columns source, exhibit, dataset (canonical where possible),
        dataset_raw (as written in the file), metric, method, value (float; NaN
        for configuration rows), notes (as written: often only on a group's first
        row), context (notes forward-filled within each (source, exhibit,
        dataset) group in file order, so every row carries its group's caveat).
    """
    df = pd.read_csv(find_reference(PUBLISHED))
    if EXTRA.is_file():
        df = pd.concat([df, pd.read_csv(EXTRA)], ignore_index=True)
    df["dataset_raw"] = df["dataset"]
    df["dataset"] = df["dataset_raw"].map(_canonical_or_raw)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df["context"] = df.groupby(["source", "exhibit", "dataset"], sort=False)[
        "notes"
    ].ffill()
    if dataset is not None:
        dataset = [
            _canonical_or_raw(d)
            for d in ([dataset] if isinstance(dataset, str) else dataset)
        ]
    keep = (
        _matches(df["source"], source)
        & _matches(df["exhibit"], exhibit)
        & _matches(df["dataset"], dataset)
        & _matches(df["metric"], metric)
        & _matches(df["method"], method)
    )
    cols = [
        "source",
        "exhibit",
        "dataset",
        "dataset_raw",
        "metric",
        "method",
        "value",
        "notes",
        "context",
    ]
    return df.loc[keep, cols].reset_index(drop=True)


def published_wide(
    source: str, exhibit: str, metric: str | None = None
) -> pd.DataFrame:
    """One exhibit as printed: methods as rows, datasets as columns.

    Args:
        source: e.g. ``"li2023_zico"``.
        exhibit: e.g. ``"table3_nats_tss"``.
        metric: required when the exhibit holds several (e.g. ``"kendall_tau"`` or
            ``"spearman"`` for ZiCo's Table 3).

    Returns:
        DataFrame indexed by method (file order), one column per dataset.
    """
    df = published(source, exhibit, metric=metric)
    if df.empty:
        raise ValueError(f"no published rows for {source!r}, {exhibit!r}, {metric!r}")
    metrics = df["metric"].unique()
    if len(metrics) > 1:
        raise ValueError(
            f"{source}/{exhibit} holds metrics {list(metrics)}; pass metric="
        )
    wide = df.pivot(index="method", columns="dataset", values="value")
    wide = wide.reindex(index=df["method"].unique(), columns=df["dataset"].unique())
    wide.columns.name = None
    return wide


def costs(dataset: str | None = None) -> pd.DataFrame:
    """Official parameter counts and FLOPs of NB201 networks, to test the network code.

    Args:
        dataset: optional filter (any alias of :func:`zclib.names.canonical_dataset`).

    Returns:
        DataFrame with columns arch_str, dataset (canonical), params_M, flops_M
        (NaN where the file has no official FLOPs), source.
    """
    df = pd.read_csv(find_reference(COSTS))
    df["dataset"] = df["dataset"].map(_canonical_or_raw)
    for col in ("params_M", "flops_M"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if dataset is not None:
        df = df[df["dataset"] == canonical_dataset(dataset)]
    return df.reset_index(drop=True)
