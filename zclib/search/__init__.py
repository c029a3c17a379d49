"""Search on NAS-Bench-201 by table lookup: RS, REA, REINFORCE, a predictor, and
Abdelfattah et al.'s zero-cost warm-up and move proposal.

    from zclib import bench, results, search
    table = bench.load_table("cifar100")
    proxy = search.proxy_fitness(search.by_index(results.load_scores(
        "cifar100", ["synflow"]), "synflow"))
    ev = search.Evaluator(table["valid_acc"], max_models=300)
    traces = search.run_many(search.rea, ev, n_runs=100, seed=0, population=64,
                             sample=10, proxy=proxy, warmup=3000)

"Training" a cell means looking up its benchmark accuracy; the
:class:`Evaluator` counts the trained models and charges their training time, so
that results can be read against either. Modules: :mod:`.core` (index arrays of
the space, evaluator, traces), :mod:`.algorithms` (the searches; their docstring
lists the semantics and deviations from the reference code), :mod:`.analysis`
(many runs, best-so-far curves, models to a target, bootstrap tests),
:mod:`.lookup` (a dataset's benchmark columns and proxy scores as arrays).
"""

from zclib.search import algorithms, analysis, core, lookup
from zclib.search.algorithms import (
    ALGORITHMS,
    predictor_search,
    proxy_random_search,
    random_draws,
    random_search,
    rea,
    reinforce,
    warmup_pool,
)
from zclib.search.analysis import (
    curve_by_models,
    curve_by_time,
    final,
    mean_diff_bootstrap,
    mean_std,
    models_to_target,
    ratio_bootstrap,
    run_many,
)
from zclib.search.core import (
    Evaluator,
    Trace,
    by_index,
    cells,
    index_of,
    neighbours,
    one_hot,
    proxy_fitness,
)

__all__ = [
    "ALGORITHMS",
    "Evaluator",
    "Trace",
    "algorithms",
    "analysis",
    "by_index",
    "cells",
    "core",
    "curve_by_models",
    "lookup",
    "curve_by_time",
    "final",
    "index_of",
    "mean_diff_bootstrap",
    "mean_std",
    "models_to_target",
    "neighbours",
    "one_hot",
    "predictor_search",
    "proxy_fitness",
    "proxy_random_search",
    "random_draws",
    "random_search",
    "ratio_bootstrap",
    "rea",
    "reinforce",
    "run_many",
    "warmup_pool",
]
