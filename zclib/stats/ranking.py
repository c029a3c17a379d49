"""Rankings by one proxy and top-k overlap with accuracy.

from zclib import stats
stats.rank_by(scores, "synflow")  # 1 = predicted best
stats.topk_overlap(scores["synflow"], acc, k=100)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib.stats.core import member_directions


def rank_by(
    scores: pd.DataFrame, proxy: str, direction: int | None = None
) -> pd.Series:
    """Rank of each architecture by one proxy: 1 = predicted best.

    Args:
        scores: table with a ``proxy`` column.
        proxy: column name.
        direction: +1 (higher is better) or -1; None: the registry's direction.

    Returns:
        Series of ranks (ties share the lowest rank, ``method="min"``); NaN scores
        get a NaN rank.
    """
    d = member_directions([proxy], None if direction is None else [direction])[0]
    return (scores[proxy] * d).rank(ascending=False, method="min", na_option="keep")


def topk_overlap(score, acc, k: int, direction: int = 1) -> float:
    """Fraction of the top-k architectures by score that are in the top-k by accuracy.

    Architectures with a non-finite accuracy are dropped; a non-finite score is
    never selected as top. Ties are broken by position (stable sort).

    Args:
        score: proxy scores, shape (n,).
        acc: accuracies, shape (n,).
        k: size of both top sets.
        direction: +1 if a higher score is better, -1 otherwise.

    Returns:
        |top_k(score) & top_k(acc)| / k.
    """
    x = np.asarray(score, dtype=np.float64).ravel() * direction
    y = np.asarray(acc, dtype=np.float64).ravel()
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    if not 0 < k <= y.size:
        raise ValueError(f"k must be in [1, {y.size}], got {k}")
    x = np.where(np.isfinite(x), x, -np.inf)
    top_x = np.argsort(-x, kind="stable")[:k]
    top_y = np.argsort(-y, kind="stable")[:k]
    return np.intersect1d(top_x, top_y).size / k
