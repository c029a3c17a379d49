"""Seconds per architecture of one or several scorers: the one timing harness.

    from zclib.timing import time_scorers
    timings = time_scorers({"six": scorer}, archs, warm=archs[:1])
    [(t.key, t.arch, t.seconds, t.cpu_seconds) for t in timings]

Used by the speed benchmark (:func:`zclib.speed.run_speed`) and the reduced-training
cost comparison (:func:`zclib.train.time_zero_cost`). The configurations are
interleaved per architecture (arch 1 under every scorer, then arch 2, ...), so a
change of machine load during the run hits all of them alike; the ``warm``
architectures are scored first, under every scorer, and not timed (allocator, lazy
initialisation). A scorer is anything with ``score(arch) -> dict`` that returns only
when its work is done (:meth:`zclib.scoring.Scorer.score` synchronises CUDA).

A scorer named in ``packs`` (``{key: K}``) is timed per group of K archs instead: its
``score_many(archs)`` (:meth:`zclib.scoring.Scorer.score_many` with ``pack=K``)
scores one group in one pass; :func:`pack_groups` cuts the timed archs into groups,
the last one filled up from the first archs so that every pass packs K networks.
A group is timed when the arch that completes it comes up in the interleaving, and
each of its archs gets a :class:`Timing` of the group's seconds / K.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence

import torch


@dataclasses.dataclass(frozen=True)
class Timing:
    """One timed score."""

    key: Hashable  # which scorer
    arch: str
    position: int  # index of ``arch`` in the timed list
    seconds: float  # wall, time.perf_counter around score()
    cpu_seconds: float  # time.process_time of this process (all its threads)
    row: dict  # what score() returned
    group: int = 1  # archs scored together in the timed call (seconds are / group)


def time_scorers(
    scorers: Mapping,
    archs: Sequence[str],
    warm: Sequence[str] = (),
    on_score: Callable[[], None] | None = None,
    on_arch: Callable[[int], None] | None = None,
    packs: Mapping[Hashable, int] | None = None,
) -> list[Timing]:
    """Score ``warm`` untimed, then time every scorer on every arch, interleaved.

    Args:
        scorers: ``{key: scorer}``; each scores in its own configuration.
        archs: the timed architectures, in order.
        warm: architectures scored first by every scorer, not timed (a packed
            scorer warms up on one group of K of them, repeated as needed).
        on_score: called after each timed or warm-up call (a progress bar).
        on_arch: called with the position after each timed arch (e.g. to read the
            load average).
        packs: ``{key: K}``: these scorers are timed per group of K archs
            (:func:`pack_groups`) with ``score_many``; K = 1 is per arch.

    Returns:
        One :class:`Timing` per (arch, scorer), in the order they were timed; a
        packed scorer's group gives one per arch of the group, archs repeated to
        fill the last group included.
    """
    packs = {k: int(v) for k, v in (packs or {}).items() if int(v) > 1}
    # {key: {position that completes a group: the group's positions}}
    due = {k: {max(g): g for g in pack_groups(len(archs), K)} for k, K in packs.items()}
    for key, scorer in scorers.items():
        if key in packs and warm:
            scorer.score_many([warm[j % len(warm)] for j in range(packs[key])])
            if on_score:
                on_score()
    for arch in warm:
        for key, scorer in scorers.items():
            if key not in packs:
                scorer.score(arch)
                if on_score:
                    on_score()
    out = []
    for i, arch in enumerate(archs):
        for key, scorer in scorers.items():
            if key in packs and i not in due[key]:
                continue
            group = due[key][i] if key in packs else [i]
            t0, c0 = time.perf_counter(), time.process_time()
            if key in packs:
                rows = scorer.score_many([archs[j] for j in group])
            else:
                rows = [scorer.score(arch)]
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            k = len(group)
            out += [
                Timing(key, archs[j], j, wall / k, cpu / k, row, k)
                for j, row in zip(group, rows, strict=True)
            ]
            if on_score:
                on_score()
        if on_arch:
            on_arch(i)
    return out


def pack_groups(n: int, k: int) -> list[list[int]]:
    """Positions ``0..n-1`` in consecutive groups of ``k``, the last group filled up
    from the start (``pack_groups(5, 2) == [[0, 1], [2, 3], [4, 0]]``), so that every
    group has exactly ``k`` and every position is in one group at least.

    Args:
        n: number of positions (>= 1).
        k: group size (>= 1).

    Returns:
        ``ceil(n / k)`` lists of ``k`` positions.
    """
    if n < 1 or k < 1:
        raise ValueError(f"need n >= 1 and k >= 1, got n={n}, k={k}")
    return [[(g * k + j) % n for j in range(k)] for g in range(-(-n // k))]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n)`` inside the block, restored after (None: as is)."""
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
