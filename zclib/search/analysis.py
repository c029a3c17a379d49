"""Many seeded runs, best-so-far curves, cost to reach a target, and bootstrap tests.

    from zclib.search import analysis
    traces = analysis.run_many(rea, ev, n_runs=100, seed=0, population=10, sample=3)
    curve = analysis.curve_by_models(traces, table["test_acc"].to_numpy(), 300)

Run ``r`` of :func:`run_many` uses the seed ``(seed, r)``: it is the same run
whatever ``n_runs`` is, and different runs differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from zclib.search.core import Evaluator, Trace


def run_many(
    algorithm: Callable[..., Trace], ev: Evaluator, n_runs: int, seed: int, **settings
) -> list[Trace]:
    """``n_runs`` independent runs of ``algorithm`` with fresh copies of ``ev``."""
    return [algorithm(ev.fresh(), (seed, r), **settings) for r in range(n_runs)]


def curve_by_models(
    traces: Sequence[Trace], acc: np.ndarray, n_models: int
) -> np.ndarray:
    """(runs, n_models): ``acc`` of the fittest cell found after 1..n trained models.

    A run shorter than ``n_models`` keeps its last value; NaN before its first
    evaluation.
    """
    out = np.full((len(traces), n_models), np.nan)
    for r, t in enumerate(traces):
        best = t.best_so_far()[:n_models]
        if len(best):
            out[r, : len(best)] = acc[best]
            out[r, len(best) :] = acc[best[-1]]
    return out


def curve_by_time(
    traces: Sequence[Trace], acc: np.ndarray, grid_s: np.ndarray
) -> np.ndarray:
    """(runs, len(grid)): ``acc`` of the fittest cell whose training had finished by
    each time (NaN before the first)."""
    grid_s = np.asarray(grid_s, dtype=float)
    out = np.full((len(traces), grid_s.size), np.nan)
    for r, t in enumerate(traces):
        best = t.best_so_far()
        n = np.searchsorted(t.seconds, grid_s, side="right")  # evaluations done
        ok = n > 0
        out[r, ok] = acc[best[n[ok] - 1]]
    return out


def final(
    traces: Sequence[Trace],
    acc: np.ndarray,
    n_models: int | None = None,
    seconds: float | None = None,
) -> np.ndarray:
    """``acc`` of each run's answer (fittest cell within the models / seconds)."""
    best = np.array([t.best(n_models, seconds) for t in traces])
    out = np.full(len(traces), np.nan)
    out[best >= 0] = acc[best[best >= 0]]
    return out


def models_to_target(curves: np.ndarray, target: float) -> np.ndarray:
    """Per run, the number of trained models after which the curve first reaches
    ``target`` (``inf`` if it never does within the curve)."""
    hit = curves >= target
    first = np.argmax(hit, axis=1).astype(float) + 1
    first[~hit.any(axis=1)] = np.inf
    return first


def mean_diff_bootstrap(
    a, b, n_boot: int = 2000, seed: int = 0, ci: float = 0.95
) -> dict:
    """Unpaired bootstrap of mean(a) - mean(b) over independent runs.

    Returns:
        dict with diff, lo, hi (percentile interval), p_value (fraction of
        resamples with diff <= 0: one-sided, "a is not better"), n_a, n_b, n_boot.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    da = a[rng.integers(0, a.size, (n_boot, a.size))].mean(axis=1)
    db = b[rng.integers(0, b.size, (n_boot, b.size))].mean(axis=1)
    d = da - db
    q = (1 - ci) / 2
    return {
        "diff": float(a.mean() - b.mean()),
        "lo": float(np.quantile(d, q)),
        "hi": float(np.quantile(d, 1 - q)),
        "p_value": float(np.mean(d <= 0)),
        "n_a": int(a.size),
        "n_b": int(b.size),
        "n_boot": int(n_boot),
    }


def ratio_bootstrap(
    base,
    treated,
    stat: Callable = np.median,
    n_boot: int = 2000,
    seed: int = 0,
    ci: float = 0.95,
) -> dict:
    """Bootstrap of stat(base) / stat(treated): e.g. the factor by which a warm-up
    cuts the median number of trained models needed to reach a target.

    Runs that never reached the target enter as ``inf``; the median is finite as
    long as more than half of the runs (of the resample) reached it. A ratio of
    inf / inf is NaN.
    """
    base, treated = np.asarray(base, float), np.asarray(treated, float)
    rng = np.random.default_rng(seed)

    def ratio(x, y):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(x, float) / np.asarray(y, float)

    rb = ratio(
        stat(base[rng.integers(0, base.size, (n_boot, base.size))], axis=1),
        stat(treated[rng.integers(0, treated.size, (n_boot, treated.size))], axis=1),
    )
    q = (1 - ci) / 2
    # inf ratios (base never reached in the resample) count as large, NaN dropped
    rb = rb[~np.isnan(rb)]
    est = float(ratio(stat(base), stat(treated)))
    return {
        "ratio": est,
        "lo": float(np.quantile(rb, q)) if rb.size else math.nan,
        "hi": float(np.quantile(rb, 1 - q)) if rb.size else math.nan,
        "stat_base": float(stat(base)),
        "stat_treated": float(stat(treated)),
        "reached_base": float(np.mean(np.isfinite(base))),
        "reached_treated": float(np.mean(np.isfinite(treated))),
        "n_boot": int(n_boot),
    }


def mean_std(x) -> tuple[float, float]:
    """Mean and sample std (ddof=1) of the finite values."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else math.nan
