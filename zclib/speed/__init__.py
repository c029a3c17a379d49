"""Speed benchmark: seconds per architecture, per proxy and fused vs naive.

    python -m zclib speed --dataset cifar10 --n 20 --batch-size 64 --device cpu \
        --out results/bench/cpu_cifar10_b64.json

One run measures, on the same seeded architectures and the same seeded batches
(those of :class:`zclib.scoring.Scorer`), the seconds :meth:`Scorer.score` takes
per architecture (network construction included, as in a real scoring run) for

1. each proxy alone (fused with one proxy = naive with one proxy),
2. the six Abdelfattah et al. proxies together, fused and naive,
3. all registered proxies together, fused and naive,

and reports the ratio naive/fused. Configurations are interleaved per architecture
(arch 1 under every configuration, then arch 2, ...) so a change of machine load
during the run hits all of them alike. The first architecture is scored once more
beforehand under every configuration as a warm-up that is not counted.

Then, unless ``throughput_workers=0``, the scorer's throughput: ``W`` worker
processes (threads = cores // W each, as ``score --workers W`` runs them) share the
same architectures, fused and naive, timed from the moment every worker has built
its scorer and scored the warm-up architecture to the moment the last one finishes
(wall seconds / architectures). The CPU target counts as met when either reading,
one process or the workers, is within the bound; the JSON says which.

The benchmark doubles as a consistency check: fused and naive scores of every
proxy, and each proxy alone vs. inside the full fused pass, must agree to
:data:`REL_TOL` (recorded as ``max_rel_diff``).

Modules: :mod:`~zclib.speed.run` (the benchmark), :mod:`~zclib.speed.throughput`
(worker processes), :mod:`~zclib.speed.compare` (score agreement, summaries),
:mod:`~zclib.speed.targets` (what we aim for), :mod:`~zclib.speed.report` (text,
JSON), :mod:`~zclib.speed.cli`; the per-arch timing loop is :mod:`zclib.timing`.

Library use::

    from zclib.speed import run_speed
    res = run_speed("cifar10", n=5, batch_size=64, device="cpu")
    res["sets"]["six"]["ratio_naive_fused"]
"""

from __future__ import annotations

from zclib.speed.cli import add_cli
from zclib.speed.compare import REL_TOL, consistency, describe, ratio, rel_diff
from zclib.speed.report import summary, write_json
from zclib.speed.run import LOAD_MARGIN, default_sets, machine_info, run_speed
from zclib.speed.targets import N_ARCHS_SPACE, TARGETS, target_check
from zclib.speed.throughput import run_throughput

__all__ = [
    "LOAD_MARGIN",
    "N_ARCHS_SPACE",
    "REL_TOL",
    "TARGETS",
    "add_cli",
    "consistency",
    "default_sets",
    "describe",
    "machine_info",
    "ratio",
    "rel_diff",
    "run_speed",
    "run_throughput",
    "summary",
    "target_check",
    "write_json",
]
