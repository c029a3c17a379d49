"""Search algorithms on toy oracles (no benchmark files needed).

.venv/bin/python -m pytest -q tests/test_search.py
"""

from __future__ import annotations

import numpy as np
import pytest

from zclib import search, space
from zclib.search import core

N = space.NUM_ARCHS
CONV3 = space.OP_INDEX["nor_conv_3x3"]


def n_conv3() -> np.ndarray:
    """Toy accuracy: number of nor_conv_3x3 edges (0..6), by index."""
    return (search.cells() == CONV3).sum(axis=1).astype(float)


def random_proxy(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(N)


ALL = {
    "rs": (search.random_search, {}),
    "rea": (search.rea, {"population": 10, "sample": 3}),
    "reinforce": (search.reinforce, {}),
    "predictor": (search.predictor_search, {"n_init": 5}),
}


# ------------------------------------------------------------------ index tables


def test_index_tables_match_space():
    order = space.benchmark_order()
    cells, nbr = search.cells(), search.neighbours()
    for i in (0, 1, 4321, N - 1):
        assert space.format_arch(cells[i]) == order[i]
        assert search.index_of(cells[i]) == i
        expected = [space.format_arch(c) for c in space.neighbours(order[i])]
        assert [order[j] for j in nbr[i]] == expected
    assert np.array_equal(search.index_of(cells), np.arange(N))
    assert np.array_equal(search.one_hot().sum(axis=1), np.full(N, 6.0))


# --------------------------------------------------------------------- evaluator


def test_evaluator_counts_models_and_charges_time():
    fit, cost = np.arange(N, dtype=float), np.full(N, 10.0)
    cost[7] = 25.0
    ev = search.Evaluator(fit, cost=cost, budget_s=50)
    assert ev(3) == 3.0 and ev(7) == 7.0 and ev(3) == 3.0  # a repeat counts again
    assert ev.n_trained == 3 and ev.seconds == 45.0 and not ev.done()
    ev(1)
    assert ev.done() and ev.seconds == 55.0  # the last one may overrun
    t = ev.trace()
    assert list(t.idx) == [3, 7, 3, 1]
    assert list(t.seconds) == [10.0, 35.0, 45.0, 55.0]
    assert list(t.best_so_far()) == [3, 7, 7, 7]
    assert t.best(seconds=50) == 7 and t.best(n_models=1) == 3
    assert t.best(seconds=5) == -1
    ev2 = search.Evaluator(fit, max_models=2)
    ev2(1), ev2(2)
    assert ev2.done() and ev2.seconds == 0.0
    with pytest.raises(ValueError):
        search.Evaluator(fit)  # never ends
    with pytest.raises(ValueError):
        search.Evaluator(fit, budget_s=10)  # a budget needs costs


def test_random_search_respects_time_budget():
    cost = np.full(N, 100.0)
    ev = search.Evaluator(np.zeros(N), cost=cost, budget_s=1000)
    t = search.random_search(ev, 0)
    assert len(t) == 10 and t.seconds[-1] == 1000.0


# -------------------------------------------------------------------------- REA


def test_rea_keeps_population_size_and_removes_the_oldest():
    fit = n_conv3()
    p = 10
    t = search.rea(search.Evaluator(fit, max_models=p + 37), 0, population=p, sample=3)
    pop = t.info["population"]
    assert len(pop) == p
    # aging: the survivors are exactly the last P evaluated, oldest first, even
    # though fitter cells were evaluated earlier
    assert pop == list(t.idx[-p:])
    # every child is a one-edge mutation of some member alive at the time
    nbr = search.neighbours()
    for k in range(p, len(t)):
        alive = t.idx[k - p : k]
        assert any(t.idx[k] in nbr[m] for m in alive)


def test_rea_improves_on_toy_oracle():
    fit = n_conv3()
    rea = search.final(
        search.run_many(
            search.rea,
            search.Evaluator(fit, max_models=60),
            20,
            0,
            population=10,
            sample=3,
        ),
        fit,
    )
    rs = search.final(
        search.run_many(
            search.random_search, search.Evaluator(fit, max_models=60), 20, 0
        ),
        fit,
    )
    assert rea.mean() > rs.mean()


def test_warmup_seeds_population_with_top_proxy_cells():
    proxy = random_proxy()
    p, pool = 16, 500
    t = search.rea(
        search.Evaluator(np.zeros(N), max_models=p),
        5,
        population=p,
        proxy=proxy,
        warmup=pool,
    )
    expected = search.warmup_pool(proxy, pool, search.core.rng_of(5))[:p]
    assert list(t.idx) == list(expected)
    # independent check: a pool of the whole space gives the global top P
    t = search.rea(
        search.Evaluator(np.zeros(N), max_models=p),
        5,
        population=p,
        proxy=proxy,
        warmup=N,
    )
    assert set(t.idx) == set(np.argsort(-proxy)[:p])
    # random search trains the pool in proxy order first
    t = search.random_search(
        search.Evaluator(np.zeros(N), max_models=p), 5, proxy=proxy, warmup=N
    )
    assert list(t.idx) == list(np.argsort(-proxy)[:p])
    # predictor: initial training set = top of the pool
    t = search.predictor_search(
        search.Evaluator(np.zeros(N), max_models=8), 5, n_init=8, proxy=proxy, warmup=N
    )
    assert set(t.idx) == set(np.argsort(-proxy)[:8])
    with pytest.raises(ValueError):
        search.rea(search.Evaluator(np.zeros(N), max_models=p), 0, warmup=10)


def test_move_proposal_trains_the_proxy_best_child():
    proxy = random_proxy(2)
    nbr = search.neighbours()
    # P = S = 1: the only member is the parent, so each child's parent is known
    t = search.rea(
        search.Evaluator(n_conv3(), max_models=30),
        0,
        population=1,
        sample=1,
        proxy=proxy,
        move=24,
    )
    for k in range(1, len(t)):
        cands = nbr[t.idx[k - 1]]
        assert t.idx[k] == cands[np.argmax(proxy[cands])]
    # without move proposal the child is (almost surely) not always the proxy-best
    t = search.rea(
        search.Evaluator(n_conv3(), max_models=30), 0, population=1, sample=1
    )
    hits = [
        t.idx[k] == nbr[t.idx[k - 1]][np.argmax(proxy[nbr[t.idx[k - 1]]])]
        for k in range(1, len(t))
    ]
    assert not all(hits)
    # predictor: the trained cell is the proxy's favourite among its candidates
    t = search.predictor_search(
        search.Evaluator(n_conv3(), max_models=15),
        0,
        n_init=5,
        proxy=-n_conv3(),
        move=50,
    )
    # the proxy prefers few conv3 edges, the predictor many: the proxy wins
    assert n_conv3()[t.idx[5:]].mean() < 6


# ------------------------------------------------------------------- seeding


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_run_different_seed_different(name):
    fn, kw = ALL[name]
    fit = n_conv3() + 0.01 * random_proxy(3)  # distinct values: a meaningful trace

    def run(seed):
        return fn(search.Evaluator(fit, max_models=40), seed, **kw).idx

    assert np.array_equal(run((0, 1)), run((0, 1)))
    assert not np.array_equal(run((0, 1)), run((0, 2)))
    many = search.run_many(fn, search.Evaluator(fit, max_models=40), 3, 0, **kw)
    assert np.array_equal(many[1].idx, run((0, 1)))


# ------------------------------------------------------------------- REINFORCE


def test_reinforce_policy_moves_toward_rewarded_op():
    reward = 10.0 * (search.cells()[:, 0] == CONV3)  # only edge 0's op matters
    t = search.reinforce(search.Evaluator(reward, max_models=400), 0, lr=0.05)
    probs = t.info["probs"]
    assert probs.shape == (6, 5)
    assert np.allclose(probs.sum(axis=1), 1)
    assert probs[0, CONV3] > 0.8  # from 0.2
    assert probs[1:, CONV3].max() < 0.6  # other edges were not rewarded


def test_reinforce_warmup_pretrains_on_proxy():
    proxy = n_conv3()  # the proxy likes conv3 everywhere; the fitness is flat
    t = search.reinforce(
        search.Evaluator(np.zeros(N), max_models=50),
        0,
        proxy=proxy,
        warmup=3000,
        lr=0.05,
    )
    assert t.info["probs"][:, CONV3].min() > 0.4
    assert n_conv3()[t.idx].mean() > 3.0  # a uniform policy averages 1.2


# ------------------------------------------------------------------- predictor


def test_predictor_beats_random_search_on_additive_oracle():
    w = np.random.default_rng(4).standard_normal(30)
    fit = search.one_hot() @ w  # exactly linear in the encoding
    kw = dict(n_runs=10, seed=0)
    pred = search.final(
        search.run_many(
            search.predictor_search,
            search.Evaluator(fit, max_models=40),
            n_init=10,
            **kw,
        ),
        fit,
    )
    rs = search.final(
        search.run_many(
            search.random_search, search.Evaluator(fit, max_models=40), **kw
        ),
        fit,
    )
    assert pred.mean() > rs.mean()
    assert np.mean(pred == fit.max()) >= 0.8  # it finds the optimum
    t = search.predictor_search(search.Evaluator(fit, max_models=200), 0)
    assert len(set(t.idx)) == len(t)  # never trains a cell twice


# ----------------------------------------------------------- training-free RS


def test_proxy_random_search_picks_best_and_skips_nan():
    proxy = np.arange(N, dtype=float)
    proxy[N - 1] = np.nan
    best, score = search.proxy_random_search(
        search.proxy_fitness(proxy), N, 0, replace=False
    )
    assert best == N - 2 and score == N - 2
    rng = np.random.default_rng(0)
    draw = rng.integers(0, N, size=10)
    assert search.proxy_random_search(proxy, 10, 0)[0] == draw.max()


# ------------------------------------------------------------------- analysis


def test_curves_targets_and_bootstrap():
    acc = np.arange(N, dtype=float)
    t = core.Trace(
        np.array([5, 2, 9, 1]),
        np.array([5.0, 2.0, 9.0, 1.0]),
        np.array([10.0, 20.0, 30.0, 40.0]),
    )
    assert search.curve_by_models([t], acc, 6).tolist() == [[5, 5, 9, 9, 9, 9]]
    c = search.curve_by_time([t], acc, np.array([5, 10, 29, 30, 100]))
    assert np.isnan(c[0, 0]) and c[0, 1:].tolist() == [5, 5, 9, 9]
    m = search.models_to_target(np.array([[1, 2, 3], [1, 1, 1]], float), 2)
    assert m[0] == 2 and np.isinf(m[1])
    r = search.ratio_bootstrap(np.array([10.0] * 20), np.array([2.0] * 20), n_boot=50)
    assert r["ratio"] == 5 and r["lo"] == 5 and r["hi"] == 5
    d = search.mean_diff_bootstrap(np.ones(30) + 1, np.ones(30), n_boot=50)
    assert d["diff"] == 1 and d["p_value"] == 0


def test_additive_scores_equal_one_hot_product():
    w = np.random.default_rng(5).standard_normal((6, 5))
    via_code = core.additive_scores(w)[core.index_to_code()]
    assert np.allclose(via_code, search.one_hot() @ w.reshape(-1))
    assert np.array_equal(core.code_to_index()[core.index_to_code()], np.arange(N))
