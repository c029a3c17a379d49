"""Random search, regularized evolution, REINFORCE and a predictor-based search,
each optionally with Abdelfattah et al.'s zero-cost warm-up and move proposal.

    from zclib.search import Evaluator, rea
    ev = Evaluator(valid_acc_12ep, cost=train_time_12ep_s, budget_s=20_000)
    trace = rea(ev, seed=(0, run), population=10, sample=3)

Every algorithm takes an :class:`~zclib.search.core.Evaluator` (the benchmark
lookup that counts trained models and charges time), a ``seed`` (an int, a tuple
such as ``(seed, run)``, or a Generator: the same seed gives the same trace), and
optionally a zero-cost ``proxy`` (array by benchmark index, higher = better, see
:func:`~zclib.search.core.proxy_fitness`) with

* ``warmup=N``: score a pool of N distinct uniformly drawn cells with the proxy
  (free: no model is trained) and start from its best: RS trains the pool in proxy
  order, REA's initial population is the top-P of the pool, the predictor's
  initial training set is the top-``n_init`` of the pool, and REINFORCE's
  controller is first trained on N cells it draws itself, with the proxy's
  percentile (0-100) as the reward, in steps of 10 cells (a batched policy
  gradient: our choice, to keep it cheap).
* ``move=K``: move proposal. Instead of training one random proposal, make K
  candidates and train only the one the proxy prefers: REA scores K one-edge
  mutations of the parent (``move=24``: all of them, as in Abdelfattah's released
  example), REINFORCE draws K cells from its policy, the predictor takes its top-K
  predicted untrained cells. Random search has no proposal step, so no move
  proposal (as in the paper).

Semantics and deviations (read from the reference code, not copied):

* RS (NATS-Bench ``random_wo_share``; NASWOT ``search.py``): uniform draws *with*
  replacement; a repeat is trained (charged) again. The training-free variant
  :func:`proxy_random_search` scores N draws and returns the ``nanargmax``.
* REA (Real et al.; NATS-Bench ``regularized_ea``): P random cells, then repeat:
  S distinct members drawn uniformly, the fittest is the parent, one uniformly
  random one-edge mutation (uniform over the 24 neighbours = uniform edge, then a
  uniform different op), the child joins and the *oldest* member leaves. The
  answer is the fittest cell of the whole history. With a proxy as fitness and
  ``max_models`` as the number of cells scored this is the course project's
  training-free REA. Its "maximum population 1000, pool 64, tournament 20" we read
  as 1,000 cells scored per run (the initial 64 included), P = 64, S = 20: the
  names and defaults of Abdelfattah et al.'s released aging-evolution example
  (``max_trained_models=1000``, ``pool_size=64``), which the project appears to
  have adapted.
* REINFORCE (NATS-Bench ``reinforce.py``): a 6x5 logit table (init 1e-3 N(0,1)),
  a softmax per edge, Adam (lr 0.01), reward = the fitness in percent, baseline
  = bias-corrected exponential moving average (momentum 0.9) updated *before*
  the advantage is taken (so the first step has advantage 0), answer = fittest
  cell of the history. Warm-up and move proposal are our reading of the paper
  (it gives no code): after the proxy pre-training the baseline and Adam's
  moments restart, the logits are kept; with move proposal the policy gradient
  is taken for the cell actually trained.
* Predictor (our own small instance; the paper used BRP-NAS's GCN, not public):
  ridge regression on the 30-dim one-hot cell encoding (+ intercept), refit
  after every batch; each step trains the ``batch`` untrained cells with the
  highest prediction. ``n_init`` random cells start it.
* Abdelfattah's released RS/REA example samples the warm-up pool with
  replacement and, in move proposal, takes a random neighbour with probability
  0.25 (``explore=0.25`` here; default 0: always the proxy's choice).
"""

from __future__ import annotations

import numpy as np

from zclib.search.core import (
    N_EDGES,
    N_OPS,
    Evaluator,
    Trace,
    additive_scores,
    code_to_index,
    index_of,
    index_to_code,
    neighbours,
    one_hot,
    rng_of,
)
from zclib.space import NUM_ARCHS

# ---------------------------------------------------------------------- helpers


def warmup_pool(proxy: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct uniform cells ordered by the proxy, best first.

    Ties keep the draw order (stable sort), so they are broken at random.
    """
    pool = rng.choice(NUM_ARCHS, size=n, replace=False)
    return pool[np.argsort(-proxy[pool], kind="stable")]


def _need_proxy(proxy, warmup: int, move: int) -> None:
    if (warmup or move) and proxy is None:
        raise ValueError("warm-up and move proposal need a proxy (array by index)")


def _propose(
    cands: np.ndarray, proxy: np.ndarray, rng: np.random.Generator, explore: float
) -> int:
    """The proxy's favourite of the candidates (first on ties), or with probability
    ``explore`` a random one."""
    if explore and rng.random() < explore:
        return int(cands[rng.integers(len(cands))])
    return int(cands[np.argmax(proxy[cands])])


# -------------------------------------------------------------------- random search


def proxy_random_search(
    proxy: np.ndarray, n: int, seed, replace: bool = True
) -> tuple[int, float]:
    """Training-free random search: score ``n`` random cells, return the best.

    Args:
        proxy: oriented scores by index (NaN as -inf, :func:`proxy_fitness`).
        n: cells scored (NASWOT's N).
        seed: int, tuple or Generator.
        replace: draw with replacement, as NASWOT's ``np.random.randint`` does.

    Returns:
        (benchmark index of the proxy's best cell, its score).
    """
    draw = random_draws(n, seed, replace)
    best = int(draw[np.argmax(proxy[draw])])
    return best, float(proxy[best])


def random_draws(n: int, seed, replace: bool = True) -> np.ndarray:
    """The ``n`` cells :func:`proxy_random_search` scores with this seed (to pick
    from the same draws by another key, e.g. Mellor et al.'s "optimal" row)."""
    rng = rng_of(seed)
    return (
        rng.integers(0, NUM_ARCHS, size=n)
        if replace
        else rng.choice(NUM_ARCHS, size=n, replace=False)
    )


def random_search(
    ev: Evaluator, seed, proxy: np.ndarray | None = None, warmup: int = 0
) -> Trace:
    """Random search; with ``warmup`` the proxy-ordered pool is trained first."""
    _need_proxy(proxy, warmup, 0)
    rng = rng_of(seed)
    first = warmup_pool(proxy, warmup, rng) if warmup else np.empty(0, np.int64)
    for i in first:
        if ev.done():
            break
        ev(i)
    while not ev.done():
        ev(rng.integers(NUM_ARCHS))
    return ev.trace(algorithm="rs", warmup=warmup)


# ------------------------------------------------------------ regularized evolution


def rea(
    ev: Evaluator,
    seed,
    population: int = 10,
    sample: int = 3,
    proxy: np.ndarray | None = None,
    warmup: int = 0,
    move: int = 0,
    explore: float = 0.0,
) -> Trace:
    """Regularized (aging) evolution.

    Args:
        ev: the evaluator (fitness = accuracy, or a proxy for a training-free run).
        seed: int, tuple or Generator.
        population: P, members kept (the course project's "pool").
        sample: S, tournament size (drawn without replacement).
        proxy: zero-cost scores for warm-up / move proposal.
        warmup: pool size scored by the proxy; the initial population is its top P.
        move: candidates per mutation scored by the proxy (0 = off, 24 = all).
        explore: probability of a random candidate instead of the proxy's choice.

    Returns:
        The trace; ``info["population"]`` holds the final population, oldest first.
    """
    _need_proxy(proxy, warmup, move)
    rng = rng_of(seed)
    nbr = neighbours()
    n_nbr = nbr.shape[1]
    init = (
        warmup_pool(proxy, warmup, rng)[:population]
        if warmup
        else rng.integers(0, NUM_ARCHS, size=population)
    )
    # ring buffers: slot `head` holds the oldest member once the population is full
    pop_idx = np.empty(population, dtype=np.int64)
    pop_fit = np.empty(population)
    size = 0
    for i in init:
        if ev.done():
            break
        pop_idx[size], pop_fit[size] = i, ev(i)
        size += 1
    head = 0
    while not ev.done():
        pick = rng.permutation(size)[:sample]  # S distinct members
        parent = pop_idx[pick[np.argmax(pop_fit[pick])]]
        if move:
            cands = (
                nbr[parent]
                if move >= n_nbr
                else nbr[parent, rng.permutation(n_nbr)[:move]]
            )
            child = _propose(cands, proxy, rng, explore)
        else:
            child = int(nbr[parent, rng.integers(n_nbr)])
        # (the loop only runs once all P initial members were trained)
        pop_idx[head], pop_fit[head] = child, ev(child)  # the oldest dies
        head = (head + 1) % population
    members = np.roll(pop_idx[:size], -head) if size == population else pop_idx[:size]
    return ev.trace(
        algorithm="rea", population=[int(m) for m in members], warmup=warmup, move=move
    )


# ----------------------------------------------------------------------- REINFORCE


class _Adam:
    def __init__(self, shape, lr: float, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.v, self.t = np.zeros(shape), np.zeros(shape), 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad * grad
        m_hat = self.m / (1 - self.b1**self.t)
        v_hat = self.v / (1 - self.b2**self.t)
        theta -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class _Controller:
    """Per-edge softmax policy over ops, trained by REINFORCE with an EMA baseline."""

    def __init__(self, rng: np.random.Generator, lr: float, momentum: float):
        self.rng, self.lr, self.momentum = rng, lr, momentum
        self.theta = 1e-3 * rng.standard_normal((N_EDGES, N_OPS))
        self._probs()
        self.reset()

    def reset(self) -> None:
        self.adam = _Adam(self.theta.shape, self.lr)
        self.num = self.den = 0.0  # bias-corrected EMA of the reward

    def _probs(self) -> None:
        z = np.exp(self.theta - self.theta.max(axis=1, keepdims=True))
        self.probs = z / z.sum(axis=1, keepdims=True)  # (6, 5), kept in sync
        self._cdf = np.cumsum(self.probs, axis=1)

    def sample(self, k: int = 1) -> np.ndarray:
        """(k, 6) op codes drawn from the policy (inverse CDF per edge)."""
        u = self.rng.random((k, N_EDGES, 1))
        return np.minimum((u > self._cdf[None]).sum(axis=2), N_OPS - 1)

    def update(self, ops: np.ndarray, reward) -> None:
        """One policy-gradient step for (k, 6) or (6,) ops and their rewards (the
        gradient is averaged over a batch; the baseline sees the batch mean)."""
        ops = np.atleast_2d(ops)
        reward = np.atleast_1d(np.asarray(reward, dtype=float))
        self.num = self.momentum * self.num + (1 - self.momentum) * reward.mean()
        self.den = self.momentum * self.den + (1 - self.momentum)
        advantage = reward - self.num / self.den  # (k,)
        # loss = -mean_k log p(ops_k) * adv_k; d log softmax / d theta = onehot - p
        onehot = np.zeros((len(ops), N_EDGES, N_OPS))
        onehot[np.arange(len(ops))[:, None], _EDGE_RANGE, ops] = 1.0
        grad = np.tensordot(advantage, self.probs[None] - onehot, axes=1) / len(ops)
        self.adam.step(self.theta, grad)
        self._probs()


_EDGE_RANGE = np.arange(N_EDGES)


def reinforce(
    ev: Evaluator,
    seed,
    lr: float = 0.01,
    momentum: float = 0.9,
    proxy: np.ndarray | None = None,
    warmup: int = 0,
    move: int = 0,
    pre_batch: int = 10,
) -> Trace:
    """REINFORCE over the 6 edges (NAS-Bench-201 / NATS-Bench baseline).

    Args:
        ev: the evaluator; its fitness (in percent) is the reward.
        seed: int, tuple or Generator.
        lr: Adam learning rate (NATS-Bench scripts: 0.01).
        momentum: EMA momentum of the baseline (NATS-Bench default 0.9).
        proxy: zero-cost scores for warm-up / move proposal.
        warmup: cells scored by the proxy to pre-train the controller (reward =
            proxy percentile, 0-100), in policy-gradient steps of ``pre_batch``.
        pre_batch: cells per pre-training step (gradient averaged over them).
        move: cells drawn from the policy per step; the proxy's best is trained.

    Returns:
        The trace; ``info["probs"]`` holds the final policy (6, 5).
    """
    _need_proxy(proxy, warmup, move)
    rng = rng_of(seed)
    ctl = _Controller(rng, lr, momentum)
    if warmup:
        finite = np.isfinite(proxy)
        pct = np.zeros(NUM_ARCHS)  # NaN scores: percentile 0
        order = np.argsort(proxy[finite], kind="stable")
        pct[np.flatnonzero(finite)[order]] = (
            100.0 * np.arange(1, order.size + 1) / (order.size)
        )
        for _ in range(-(-warmup // pre_batch)):  # warmup proxy scores in all
            ops = ctl.sample(pre_batch)
            ctl.update(ops, pct[index_of(ops)])
        ctl.reset()
    while not ev.done():
        if move:
            cand_ops = ctl.sample(move)
            k = int(np.argmax(proxy[index_of(cand_ops)]))
            ops = cand_ops[k]
        else:
            ops = ctl.sample()[0]
        ctl.update(ops, ev(index_of(ops)))
    return ev.trace(algorithm="reinforce", probs=ctl.probs, warmup=warmup, move=move)


# ------------------------------------------------------------------ predictor-based


def predictor_search(
    ev: Evaluator,
    seed,
    n_init: int = 10,
    batch: int = 1,
    alpha: float = 1.0,
    proxy: np.ndarray | None = None,
    warmup: int = 0,
    move: int = 0,
) -> Trace:
    """Greedy search with a ridge predictor on the one-hot cell encoding.

    Args:
        ev: the evaluator.
        seed: int, tuple or Generator.
        n_init: cells trained before the first fit (random, or the warm-up pool's
            top ``n_init``).
        batch: untrained cells with the best predictions trained per refit.
        alpha: ridge penalty (on the one-hot weights, not the intercept).
        proxy: zero-cost scores for warm-up / move proposal.
        warmup: pool size scored by the proxy for the initial training set.
        move: the proxy picks one of the predictor's top-``move`` cells per step
            (then ``batch`` is 1).

    Returns:
        The trace. Cells are never trained twice.
    """
    _need_proxy(proxy, warmup, move)
    rng = rng_of(seed)
    x = one_hot()
    d = x.shape[1]
    # predictions live in product order (see core.additive_scores); -inf = trained
    to_code, to_index = index_to_code(), code_to_index()
    untrained = np.zeros(NUM_ARCHS)
    init = (
        warmup_pool(proxy, warmup, rng)[:n_init]
        if warmup
        else rng.choice(NUM_ARCHS, size=n_init, replace=False)
    )
    xtx, xty = np.zeros((d, d)), np.zeros(d)  # raw sums x x^T and x y
    xs, ys = np.zeros(d), 0.0  # sums of x and y, to centre

    def train(i: int) -> None:
        nonlocal xtx, xty, xs, ys
        y = ev(i)
        untrained[to_code[i]] = -np.inf
        xtx += np.outer(x[i], x[i])
        xty += x[i] * y
        xs += x[i]
        ys += y

    for i in init:
        if ev.done():
            break
        train(int(i))
    while not ev.done():
        n = ev.n_trained
        # ridge with an unpenalised intercept: centre x and y
        a = xtx - np.outer(xs, xs) / n + alpha * np.eye(d)
        w = np.linalg.solve(a, xty - xs * ys / n)
        # the one-hot model is additive over edges: x @ w == additive_scores
        pred = additive_scores(w.reshape(N_EDGES, N_OPS)) + untrained
        if move:
            top = to_index[np.argpartition(-pred, move)[:move]]
            picks = [_propose(top, proxy, rng, 0.0)]
        elif batch == 1:
            picks = [to_index[np.argmax(pred)]]
        else:
            top = np.argpartition(-pred, batch)[:batch]
            picks = to_index[top[np.argsort(-pred[top], kind="stable")]]
        for i in picks:
            if ev.done():
                break
            train(int(i))
    return ev.trace(algorithm="predictor", warmup=warmup, move=move)


ALGORITHMS = {
    "rs": random_search,
    "rea": rea,
    "reinforce": reinforce,
    "predictor": predictor_search,
}
