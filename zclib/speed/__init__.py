"""Speed benchmark: seconds per architecture per configuration, FLOP/s vs a peak.

    python -m zclib speed --dataset cifar10 --n 10 --batch-size 64 --device cpu \
        --packs 2,4,8 --out results/bench/cpu_cifar10_b64.json

One run measures, on the same seeded architectures and the same seeded batch (those
of :class:`zclib.scoring.Scorer`), the seconds per architecture (network
construction included, as in a real scoring run) of

1. each proxy alone (fused with one proxy = naive with one proxy),
2. the six Abdelfattah et al. proxies and all proxies, each ``naive`` (per cell:
   one fresh network copy and pass per proxy, the reference's way), ``fused``
   (proxies share passes, one network per pass) and packed (``packK``: K networks
   per pass, :meth:`Scorer.score_many`; one call scores a group of K of the same
   archs, its seconds / K count per arch),
3. the reference code itself (``../shared/reference/foresight-a43bfbc``,
   :class:`zclib.oracle.ReferenceScorer`) on the six proxies, same archs and batch,

and reports the ratios naive/fused, fused/packed and reference/ours. Configurations
are interleaved per architecture (arch 1 under every configuration, then arch 2,
...; a packed group when its last arch comes up: :func:`zclib.timing.time_scorers`)
so a change of machine load during the run hits all of them alike. The first
architecture is scored once more beforehand under every configuration as a warm-up
that is not counted.

FLOP/s (:mod:`~zclib.speed.flops`): the FLOPs each set configuration executes on the
same archs (forward, backward, double backward; convolutions and matrix products)
are counted in an untimed run and divided by the measured seconds; the peak is the
best fp32 matrix product (2048 square on CPU) with the same threads, before and
after the timing, so ``of_peak`` says how far from the limit each configuration is.
Profile (:mod:`~zclib.speed.profile`, CPU): fused vs the largest pack on the same
archs, top operators by self CPU time and grouped shares (convolution forward and
backward, data movement, batch norm, pooling, other). On a GPU (``--device cuda
--packs 1,8,32,128``) the same run gives archs/s per pack size and the whole-space
wall time (:func:`~zclib.speed.targets.target_check`).

Then, unless ``throughput_workers=0``, the scorer's throughput: ``W`` worker
processes (threads = cores // W each, as ``score --workers W`` runs them) share the
same architectures, fused and naive, timed from the moment every worker has built
its scorer and scored the warm-up architecture to the moment the last one finishes
(wall seconds / architectures). The CPU target counts as met when either reading,
one process or the workers, is within the bound; the JSON says which.

The benchmark doubles as a consistency check: fused and naive scores of every
proxy, and each proxy alone vs. inside the full fused pass, must agree to
:data:`REL_TOL` (``consistency``); packed vs fused to the float32 tolerances of
:data:`zclib.proxies.packed.FLOAT32_RTOL` (``packed_agreement``).

Modules: :mod:`~zclib.speed.run` (the benchmark), :mod:`~zclib.speed.configs` (the
configurations and their result table), :mod:`~zclib.speed.flops`,
:mod:`~zclib.speed.profile`, :mod:`~zclib.speed.throughput` (worker processes),
:mod:`~zclib.speed.compare` (score agreement, summaries), :mod:`~zclib.speed.targets`
(what we aim for), :mod:`~zclib.speed.report` (text, JSON), :mod:`~zclib.speed.cli`;
the per-arch timing loop is :mod:`zclib.timing`.

Library use::

    from zclib.speed import run_speed
    res = run_speed("cifar10", n=5, batch_size=64, device="cpu", packs=(2, 4))
    res["sets"]["six"]["reference_over_ours"], res["sets"]["all"]["fused"]["of_peak"]
"""

from __future__ import annotations

from zclib.speed.cli import add_cli
from zclib.speed.compare import REL_TOL, consistency, describe, ratio, rel_diff
from zclib.speed.configs import DEFAULT_PACKS, default_packs
from zclib.speed.flops import FlopCount, count_flops, matmul_peak
from zclib.speed.profile import op_group, profile_ops
from zclib.speed.report import summary, write_json
from zclib.speed.run import LOAD_MARGIN, default_sets, machine_info, run_speed
from zclib.speed.targets import N_ARCHS_SPACE, TARGETS, target_check
from zclib.speed.throughput import run_throughput

__all__ = [
    "DEFAULT_PACKS",
    "FlopCount",
    "LOAD_MARGIN",
    "N_ARCHS_SPACE",
    "REL_TOL",
    "TARGETS",
    "add_cli",
    "consistency",
    "count_flops",
    "default_packs",
    "default_sets",
    "describe",
    "machine_info",
    "matmul_peak",
    "op_group",
    "profile_ops",
    "ratio",
    "rel_diff",
    "run_speed",
    "run_throughput",
    "summary",
    "target_check",
    "write_json",
]
