"""The NATS-Bench topology search space (= NAS-Bench-201): cells, strings, indices.

    from zclib import space
    cell = space.parse(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
        "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    space.format_arch(cell)              # back to the string
    space.neighbours(cell)               # the 24 one-edge mutations

A cell is a DAG on 4 nodes; each of its 6 edges (j -> i, j < i) carries one of 5 ops.
We encode a cell as a 6-tuple of op indices into :data:`OPS`, in arch-string order:
edge 0 = (0->1), 1 = (0->2), 2 = (1->2), 3 = (0->3), 4 = (1->3), 5 = (2->3).
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator, Sequence

import numpy as np

OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)  # the benchmark's own order (NAS_BENCH_201 in the official code)
OP_INDEX = {op: i for i, op in enumerate(OPS)}
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_EDGES = len(EDGES)
NUM_ARCHS = len(OPS) ** NUM_EDGES  # 15,625
# The benchmark generator enumerates the product space, then shuffles it with this
# seed (NAS-Bench-201 `generate_meta_info`: random.seed(88); random.shuffle(archs)).
BENCHMARK_SHUFFLE_SEED = 88

Cell = tuple[int, int, int, int, int, int]


def parse(arch: str) -> Cell:
    """Parse an arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` into a 6-tuple.

    Args:
        arch: the benchmark's arch string.

    Returns:
        The cell as op indices into :data:`OPS`, in edge order.

    Raises:
        ValueError: naming the malformed part.
    """
    if not isinstance(arch, str):
        raise ValueError(f"arch string must be a str, got {type(arch).__name__}")
    nodes = arch.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(
            f"arch string {arch!r} has {len(nodes)} node groups separated by '+'; "
            "expected 3"
        )
    cell: list[int] = []
    for i, node in enumerate(nodes, start=1):
        if len(node) < 2 or node[0] != "|" or node[-1] != "|":
            raise ValueError(f"node {i} part {node!r} must start and end with '|'")
        edges = node[1:-1].split("|")
        if len(edges) != i:
            raise ValueError(
                f"node {i} part {node!r} has {len(edges)} edges; expected {i}"
            )
        for j, edge in enumerate(edges):
            op, sep, src = edge.partition("~")
            if not sep:
                raise ValueError(f"edge {edge!r} in node {i} lacks '~<input node>'")
            if op not in OP_INDEX:
                raise ValueError(
                    f"unknown op {op!r} in edge {edge!r} of node {i}; "
                    f"expected one of {', '.join(OPS)}"
                )
            if src != str(j):
                raise ValueError(
                    f"edge {edge!r} of node {i} has input node {src!r}; expected {j}"
                )
            cell.append(OP_INDEX[op])
    return tuple(cell)  # type: ignore[return-value]


def format_arch(cell: Sequence[int]) -> str:
    """The arch string of a 6-tuple cell (inverse of :func:`parse`)."""
    cell = validate_cell(cell)
    parts, k = [], 0
    for i in range(1, 4):
        parts.append("|" + "|".join(f"{OPS[cell[k + j]]}~{j}" for j in range(i)) + "|")
        k += i
    return "+".join(parts)


def validate_cell(cell: Sequence[int]) -> Cell:
    """Check a 6-tuple of op indices; returns it as a tuple. Raises ValueError."""
    try:
        out = tuple(int(c) for c in cell)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cell {cell!r} is not a sequence of ints") from exc
    if len(out) != NUM_EDGES or any(not 0 <= c < len(OPS) for c in out):
        raise ValueError(
            f"cell {cell!r} must be {NUM_EDGES} op indices in 0..{len(OPS) - 1}"
        )
    return out  # type: ignore[return-value]


def validate(arch: str) -> str:
    """Return the canonical form of ``arch``; raise ValueError if malformed."""
    return format_arch(parse(arch))


def as_cell(arch: str | Sequence[int]) -> Cell:
    """Accept an arch string or a 6-tuple; return the 6-tuple."""
    return parse(arch) if isinstance(arch, str) else validate_cell(arch)


def all_cells() -> list[Cell]:
    """All 15,625 cells in product order (first edge varies slowest)."""
    return list(itertools.product(range(len(OPS)), repeat=NUM_EDGES))  # type: ignore[arg-type]


def benchmark_order() -> list[str]:
    """Regenerate the benchmark's index order: arch string of index i at position i.

    The NAS-Bench-201 generator enumerates the product space node by node (same
    order as :func:`all_cells`) and shuffles it with ``random.seed(88)``; the tests
    check this against the benchmark table for all 15,625 indices.
    """
    archs = [format_arch(c) for c in all_cells()]
    random.Random(BENCHMARK_SHUFFLE_SEED).shuffle(archs)
    return archs


def permutation(seed: int) -> list[str]:
    """All arch strings in a seeded random order (uniform prefixes of any length)."""
    archs = benchmark_order()
    random.Random(seed).shuffle(archs)
    return archs


def sample(n: int | None, seed: int = 0) -> list[str]:
    """The seeded sample of ``n`` architectures every part of zclib uses (None: all).

    The first ``n`` of :func:`permutation`: prefixes are nested (the 1,000-sample
    contains the 100-sample), so a long job run in this order (e.g. CPU scoring of a
    proxy the shipped tables lack) covers every smaller sample of the same seed as
    it goes. ``python -m zclib score --n N --seed S`` and a notebook's
    ``N_ARCHS=N, SEED=S`` draw the same cells.
    """
    perm = permutation(seed)
    return perm if n is None or n >= len(perm) else perm[:n]


def arch_seed(seed: int, cell: Sequence[int]) -> int:
    """Weight-init seed of one cell in a run: a hash of (run seed, cell) only."""
    code = int("".join(map(str, validate_cell(cell))), len(OPS))  # base-5 number
    return int(np.random.SeedSequence([int(seed), code]).generate_state(1)[0])


@functools.cache
def _index_of() -> dict[str, int]:
    return {a: i for i, a in enumerate(benchmark_order())}


def benchmark_index(arch: str | Sequence[int]) -> int:
    """Benchmark index of an arch string or cell (the regenerated order; tested)."""
    return _index_of()[format_arch(as_cell(arch))]


def neighbours(arch: str | Sequence[int]) -> list[Cell]:
    """The 24 cells that differ from ``arch`` in exactly one edge's op."""
    cell = as_cell(arch)
    return [
        cell[:e] + (op,) + cell[e + 1 :]  # type: ignore[misc]
        for e in range(NUM_EDGES)
        for op in range(len(OPS))
        if op != cell[e]
    ]


def mutate(arch: str | Sequence[int], rng: random.Random) -> Cell:
    """One random one-edge mutation (uniform over the 24 neighbours)."""
    return rng.choice(neighbours(arch))


def iter_edges(cell: Sequence[int]) -> Iterator[tuple[int, int, str]]:
    """(source node, target node, op name) for each edge of a cell."""
    for (j, i), op in zip(EDGES, cell, strict=True):
        yield j, i, OPS[op]
