"""Comparing the speed benchmark's measurements: agreement of scores, summaries.

from zclib.speed import rel_diff, consistency
rel_diff(2.0, 1.0)                      # 0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

REL_TOL = 1e-6  # fused and naive scores must agree to this relative difference


def describe(xs: Sequence[float]) -> dict:
    """Mean, median, sample std, min, max, n and the values (rounded) of seconds."""
    a = np.asarray(xs, dtype=float)
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
        "n": len(a),
        "seconds": [round(float(v), 5) for v in a],
    }


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is not positive."""
    return float(a / b) if b > 0 else math.nan


def rel_diff(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|); 0 when both are 0 or both NaN, inf when one is NaN."""
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def consistency(scores: dict, singles: Sequence[str], sets: Mapping) -> dict:
    """Max relative score difference per proxy: naive vs fused, alone vs in ``all``."""

    def max_diff(rows_a, rows_b, names_):
        pairs = list(zip(rows_a, rows_b, strict=True))
        return {p: max(rel_diff(ra[p], rb[p]) for ra, rb in pairs) for p in names_}

    out = {"tolerance": REL_TOL}
    for name, names_ in sets.items():
        out[f"{name}_naive_vs_fused"] = max_diff(
            scores["set", name, "naive"], scores["set", name, "fused"], names_
        )
    biggest = max(sets, key=lambda k: len(sets[k]), default=None)
    if biggest is not None and singles:
        names_ = [p for p in singles if p in sets[biggest]]
        fused = scores["set", biggest, "fused"]
        out[f"single_vs_{biggest}_fused"] = {
            p: max_diff(scores["single", p, "fused"], fused, [p])[p] for p in names_
        }
    worst = [v for k, d in out.items() if k != "tolerance" for v in d.values()]
    out["max_rel_diff"] = max(worst, default=0.0)
    out["ok"] = bool(out["max_rel_diff"] <= REL_TOL)
    return out
