"""Rank correlations of proxy scores with accuracy, optionally on the top fraction.

    from zclib import stats
    stats.correlation_table(scores, bench["test_acc"].to_numpy(), ["synflow", "snip"])

:func:`spearman`, :func:`kendall` (tau-b), :func:`pearson` return ``(rho, n_used)``
with non-finite pairs dropped and counted; :func:`correlation_table` gives one row
per proxy, optionally on the top fraction of architectures by accuracy
(Abdelfattah et al.'s "top-10%", :func:`top_mask`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zclib.stats.core import acc_array, check_stat, finite_pairs, stat_value


def spearman(x, y) -> tuple[float, int]:
    """Spearman rank correlation over the pairs where both values are finite.

    Args:
        x, y: equal-length array-likes; NaN/inf in either drops the pair.

    Returns:
        (rho, n_used); rho is NaN when n_used < 2 or either side is constant.
    """
    x, y = finite_pairs(x, y)
    return stat_value("spearman", x, y), int(x.size)


def kendall(x, y) -> tuple[float, int]:
    """Kendall's tau-b over the finite pairs (see :func:`spearman`)."""
    x, y = finite_pairs(x, y)
    return stat_value("kendall", x, y), int(x.size)


def pearson(x, y) -> tuple[float, int]:
    """Pearson's r over the finite pairs (see :func:`spearman`)."""
    x, y = finite_pairs(x, y)
    return stat_value("pearson", x, y), int(x.size)


def top_mask(acc, top_frac: float) -> np.ndarray:
    """Boolean mask of the top ``top_frac`` architectures by accuracy.

    The subset is taken over the architectures with a finite accuracy, before any
    proxy score is looked at: k = ceil(top_frac * n_finite), and every architecture
    whose accuracy is >= the k-th largest is kept (ties at the boundary are all
    kept, so the subset can exceed k by the size of that tie).

    Args:
        acc: accuracies, shape (n,).
        top_frac: fraction in (0, 1], e.g. 0.1 for Abdelfattah et al.'s top-10%.

    Returns:
        bool array (n,).
    """
    if not 0 < top_frac <= 1:
        raise ValueError(f"top_frac must be in (0, 1], got {top_frac}")
    acc = np.asarray(acc, dtype=np.float64).ravel()
    finite = np.isfinite(acc)
    n_finite = int(finite.sum())
    if n_finite == 0:
        return np.zeros(acc.shape, dtype=bool)
    k = max(1, math.ceil(top_frac * n_finite))
    threshold = np.sort(acc[finite])[::-1][k - 1]
    return finite & (acc >= threshold)


def correlation_table(
    scores: pd.DataFrame,
    acc,
    proxies: Sequence[str] | None = None,
    method: str = "spearman",
    top_frac: float | None = None,
    absolute: bool = False,
) -> pd.DataFrame:
    """Correlation of each proxy's score with accuracy, one row per proxy.

    Args:
        scores: one row per architecture, one column per proxy (NaN allowed).
        acc: accuracies matched to ``scores`` by position (Series or array).
        proxies: columns to correlate; None: every registered proxy in ``scores``.
        method: ``"spearman"``, ``"kendall"`` (tau-b) or ``"pearson"``.
        top_frac: restrict to the top fraction by accuracy (:func:`top_mask`): the
            subset is fixed first, from the accuracies alone, then each proxy drops
            its own NaN scores inside it (counted in ``n_nan``).
        absolute: report |rho|, as Abdelfattah et al.'s table does.

    Returns:
        DataFrame with columns proxy, rho, n (pairs used), n_nan (architectures
        in the subset, with a finite accuracy, whose score is not finite).
    """
    check_stat(method)
    y = acc_array(acc, scores)
    if proxies is None:
        from zclib import proxies as registry  # lazy: the registry imports torch

        proxies = [p for p in registry.names() if p in scores.columns]
    keep = np.isfinite(y) if top_frac is None else top_mask(y, top_frac)
    rows = []
    for name in proxies:
        if name not in scores.columns:
            raise KeyError(f"no column {name!r} in scores; have {list(scores.columns)}")
        x = scores[name].to_numpy(dtype=np.float64)[keep]
        xf, yf = finite_pairs(x, y[keep])
        rho = stat_value(method, xf, yf)
        rows.append(
            {
                "proxy": name,
                "rho": abs(rho) if absolute else rho,
                "n": int(xf.size),
                "n_nan": int(keep.sum() - xf.size),
            }
        )
    return pd.DataFrame(rows, columns=["proxy", "rho", "n", "n_nan"])
