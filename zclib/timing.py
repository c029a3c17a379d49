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


def time_scorers(
    scorers: Mapping,
    archs: Sequence[str],
    warm: Sequence[str] = (),
    on_score: Callable[[], None] | None = None,
    on_arch: Callable[[int], None] | None = None,
) -> list[Timing]:
    """Score ``warm`` untimed, then time every scorer on every arch, interleaved.

    Args:
        scorers: ``{key: scorer}``; each scores in its own configuration.
        archs: the timed architectures, in order.
        warm: architectures scored first by every scorer, not timed.
        on_score: called after each score, warm-up included (a progress bar).
        on_arch: called with the position after each timed arch (e.g. to read the
            load average).

    Returns:
        One :class:`Timing` per (arch, scorer), arch-major.
    """
    for arch in warm:
        for scorer in scorers.values():
            scorer.score(arch)
            if on_score:
                on_score()
    out = []
    for i, arch in enumerate(archs):
        for key, scorer in scorers.items():
            t0, c0 = time.perf_counter(), time.process_time()
            row = scorer.score(arch)
            out.append(
                Timing(
                    key,
                    arch,
                    i,
                    time.perf_counter() - t0,
                    time.process_time() - c0,
                    row,
                )
            )
            if on_score:
                on_score()
        if on_arch:
            on_arch(i)
    return out


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
