"""What every search algorithm shares: index arrays of the space, the evaluator, traces.

    from zclib.search import core
    ev = core.Evaluator(table["valid_acc_12ep"], cost=table["train_time_12ep_s"],
                        budget_s=20_000)
    ev(123)                     # "train" cell 123: its accuracy; charges its time
    trace = ev.trace()          # what was evaluated, in order, with cumulative cost

Cells are handled by **benchmark index** (row ``i`` of :func:`zclib.bench.load_table`
is cell ``i``) so that a lookup is one array access. :func:`cells` gives the 6-tuple
op codes of every index, :func:`neighbours` the 24 one-edge mutations of every
index, :func:`index_of` maps op codes back to indices.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from zclib import space
from zclib.space import NUM_ARCHS

N_EDGES = space.NUM_EDGES  # 6
N_OPS = len(space.OPS)  # 5
_PLACE = N_OPS ** np.arange(N_EDGES - 1, -1, -1)  # base-5 place value of each edge


# ----------------------------------------------------------------- the space by index


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = space.benchmark_order()  # arch string of benchmark index i
    cells = np.array([space.parse(a) for a in order], dtype=np.int64)  # (N, 6)
    code = cells @ _PLACE  # base-5 number of each cell (product order position)
    code_to_index = np.empty(NUM_ARCHS, dtype=np.int64)
    code_to_index[code] = np.arange(NUM_ARCHS)
    # neighbour k of cell i: edge k // 4 set to the (k % 4)-th other op, as in
    # space.neighbours (same order)
    nbr = np.empty((NUM_ARCHS, N_EDGES * (N_OPS - 1)), dtype=np.int64)
    k = 0
    for e in range(N_EDGES):
        for shift in range(1, N_OPS):
            new_op = (cells[:, e] + shift) % N_OPS
            nbr[:, k] = code + (new_op - cells[:, e]) * _PLACE[e]
            k += 1
    # reorder each row's 4 alternatives to ascending op, like space.neighbours
    for e in range(N_EDGES):
        block = nbr[:, 4 * e : 4 * e + 4]
        ops = (block // _PLACE[e]) % N_OPS
        nbr[:, 4 * e : 4 * e + 4] = np.take_along_axis(block, np.argsort(ops, 1), 1)
    nbr = code_to_index[nbr]
    for a in (cells, code_to_index, nbr):
        a.setflags(write=False)
    return cells, code_to_index, nbr


def cells() -> np.ndarray:
    """(15,625, 6) op codes (indices into :data:`zclib.space.OPS`) by benchmark
    index."""
    return _tables()[0]


def neighbours() -> np.ndarray:
    """(15,625, 24) benchmark indices of each cell's one-edge mutations (the order of
    :func:`zclib.space.neighbours`)."""
    return _tables()[2]


def index_of(ops: np.ndarray | Sequence[int]) -> np.ndarray | int:
    """Benchmark index of op codes of shape (6,) or (n, 6)."""
    ops = np.asarray(ops, dtype=np.int64)
    out = _tables()[1][ops @ _PLACE]
    return int(out) if out.ndim == 0 else out


def code_to_index() -> np.ndarray:
    """(15,625,) benchmark index of each cell in product order (base-5 code with
    edge 0 as the most significant digit, i.e. :func:`zclib.space.all_cells`
    order)."""
    return _tables()[1]


@functools.lru_cache(maxsize=1)
def index_to_code() -> np.ndarray:
    """(15,625,) product-order code of each benchmark index (inverse of
    :func:`code_to_index`)."""
    out = cells() @ _PLACE
    out.setflags(write=False)
    return out


def additive_scores(w: np.ndarray) -> np.ndarray:
    """``sum_e w[e, op_e]`` for every cell, in **product order**, from a (6, 5)
    table: broadcast sums (about 20k additions) instead of a (15,625 x 30)
    product."""
    out = w[0]
    for e in range(1, N_EDGES):
        out = (out[:, None] + w[e][None, :]).reshape(-1)
    return out


@functools.lru_cache(maxsize=1)
def one_hot() -> np.ndarray:
    """(15,625, 30) float one-hot encoding (edge-major: column 5*e + op)."""
    x = np.zeros((NUM_ARCHS, N_EDGES * N_OPS))
    rows = np.arange(NUM_ARCHS)[:, None]
    x[rows, np.arange(N_EDGES) * N_OPS + cells()] = 1.0
    x.setflags(write=False)
    return x


def by_index(df, column: str) -> np.ndarray:
    """A column of a table with an ``index`` column, as an array by benchmark index.

    Missing cells are NaN. Use this for score tables (shipped in permutation order).
    """
    out = np.full(NUM_ARCHS, np.nan)
    out[df["index"].to_numpy()] = df[column].to_numpy(dtype=float)
    return out


def proxy_fitness(scores: np.ndarray, sign: int = 1) -> np.ndarray:
    """Scores oriented so that higher is better, NaN as ``-inf`` (ranks last).

    A NaN score (e.g. NASWOT's singular kernel, 201 cells) can never be picked as
    the best; NASWOT's reference search does the same with ``nanargmax``.
    """
    s = sign * np.asarray(scores, dtype=float)
    return np.where(np.isfinite(s), s, -np.inf)


def rng_of(seed) -> np.random.Generator:
    """A Generator from an int, a tuple of ints (e.g. ``(seed, run)``) or a
    Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------- evaluation


@dataclasses.dataclass(frozen=True)
class Trace:
    """One search run: every evaluation in order.

    Attributes:
        idx: benchmark indices evaluated, in order (repeats are re-evaluations).
        fitness: the signal the algorithm saw for each.
        seconds: cumulative charged cost after each evaluation.
        info: algorithm extras (e.g. REA's final population).
    """

    idx: np.ndarray
    fitness: np.ndarray
    seconds: np.ndarray
    info: dict = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.idx)

    def best_so_far(self) -> np.ndarray:
        """Index of the fittest cell seen after each evaluation (first on ties)."""
        if not len(self.idx):
            return np.empty(0, dtype=np.int64)
        f = self.fitness
        running = np.maximum.accumulate(f)
        # position of the first evaluation achieving each running maximum
        is_new = np.r_[True, running[1:] > running[:-1]]
        pos = np.maximum.accumulate(np.where(is_new, np.arange(len(f)), 0))
        return self.idx[pos]

    def best(self, n_models: int | None = None, seconds: float | None = None) -> int:
        """The answer of the search: the fittest cell among the first ``n_models``
        evaluations and/or those completed within ``seconds`` (-1 if none)."""
        n = len(self.idx) if n_models is None else min(n_models, len(self.idx))
        if seconds is not None:
            n = min(n, int(np.searchsorted(self.seconds, seconds, side="right")))
        return int(self.best_so_far()[n - 1]) if n > 0 else -1


class Evaluator:
    """Looks up the "training" signal of a cell, counts trained models, charges time.

    ``fitness[i]`` is what training cell ``i`` yields (e.g. its 12-epoch validation
    accuracy, or a proxy score for a training-free search); ``cost[i]`` the seconds
    that training charges (e.g. ``train_time_12ep_s``; None = free). Every call is
    counted, repeats included (the reference searches re-train a cell they draw
    again).

    Args:
        fitness: by benchmark index.
        cost: seconds by benchmark index, or None.
        max_models: stop after this many evaluations (None = no limit).
        budget_s: stop once the charged seconds reach this (None = no limit). As in
            NATS-Bench's loops the check happens before an evaluation, so the last
            one may overrun; :meth:`Trace.best` with ``seconds=`` gives the answer
            strictly within the budget.
    """

    def __init__(
        self,
        fitness,
        cost=None,
        max_models: int | None = None,
        budget_s: float | None = None,
    ):
        self.fitness = np.asarray(fitness, dtype=float)
        self.cost = None if cost is None else np.asarray(cost, dtype=float)
        if max_models is None and budget_s is None:
            raise ValueError("give max_models or budget_s, or the search never ends")
        if budget_s is not None and self.cost is None:
            raise ValueError("a time budget needs a cost per cell")
        self.max_models, self.budget_s = max_models, budget_s
        self._idx: list[int] = []
        self._fit: list[float] = []
        self._sec: list[float] = []
        self.seconds = 0.0

    def __call__(self, i: int) -> float:
        i = int(i)
        f = float(self.fitness[i])
        if self.cost is not None:
            self.seconds += float(self.cost[i])
        self._idx.append(i)
        self._fit.append(f)
        self._sec.append(self.seconds)
        return f

    @property
    def n_trained(self) -> int:
        return len(self._idx)

    def done(self) -> bool:
        """True once the model count or the time budget is used up."""
        return (self.max_models is not None and self.n_trained >= self.max_models) or (
            self.budget_s is not None and self.seconds >= self.budget_s
        )

    def fresh(self) -> Evaluator:
        """A new evaluator with the same lookups and limits (for the next run)."""
        return Evaluator(self.fitness, self.cost, self.max_models, self.budget_s)

    def trace(self, **info) -> Trace:
        return Trace(
            np.array(self._idx, dtype=np.int64),
            np.array(self._fit),
            np.array(self._sec),
            info,
        )
