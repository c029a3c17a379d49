"""Shared pieces of :mod:`zclib.stats`: finite pairs, one statistic, alignment, signs.

    from zclib.stats.core import finite_pairs, stat_value
    x, y = finite_pairs([1, 2, float("nan")], [1, 3, 2])  # the 2 finite pairs
    stat_value("spearman", x, y)  # 1.0

Alignment rule, everywhere: ``acc`` is matched to ``scores`` by position. A
pandas Series whose index differs from ``scores.index`` raises, rather than being
silently misaligned; pass ``.to_numpy()`` once the rows are known to match.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.stats

STATS = ("spearman", "kendall", "pearson")
# Elements per vectorised block (pairs, or resamples x points): bounds memory.
# Read at call time (``core.BLOCK``), so a test can shrink it to force many blocks.
BLOCK = 4_000_000


def finite_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of the pairs where both ``x`` and ``y`` are finite."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} vs {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def check_stat(stat: str) -> str:
    """``stat`` if it is one of :data:`STATS`, else ValueError."""
    if stat not in STATS:
        raise ValueError(f"unknown statistic {stat!r}; expected one of {STATS}")
    return stat


def stat_value(stat: str, x: np.ndarray, y: np.ndarray) -> float:
    """The statistic on finite, aligned arrays; NaN if undefined (n < 2, constant)."""
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on near-constant input
        if stat == "spearman":
            return float(scipy.stats.spearmanr(x, y).statistic)
        if stat == "kendall":
            return float(scipy.stats.kendalltau(x, y).statistic)  # tau-b
        return float(scipy.stats.pearsonr(x, y).statistic)


def acc_array(acc, scores: pd.DataFrame | None = None) -> np.ndarray:
    """``acc`` as float64, matched to ``scores`` by position (module docstring)."""
    if isinstance(acc, pd.Series) and scores is not None:
        if not acc.index.equals(scores.index):
            raise ValueError(
                "acc is a Series whose index differs from scores.index; align the "
                "rows first (e.g. merge on the benchmark index) and pass .to_numpy()"
            )
    out = np.asarray(acc, dtype=np.float64).ravel()
    if scores is not None and out.size != len(scores):
        raise ValueError(f"acc has {out.size} values but scores has {len(scores)} rows")
    return out


def member_directions(members: Sequence[str], directions) -> np.ndarray:
    """+1/-1 per member: from ``directions`` (mapping or sequence) or the registry."""
    if directions is None:
        from zclib import proxies  # lazy: the registry imports torch

        return np.array([proxies.get(m).direction for m in members], dtype=np.float64)
    if isinstance(directions, Mapping):
        return np.array([directions[m] for m in members], dtype=np.float64)
    d = np.asarray(directions, dtype=np.float64).ravel()
    if d.size != len(members):
        raise ValueError(f"{d.size} directions for {len(members)} members")
    return d
