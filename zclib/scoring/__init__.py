r"""Score many architectures with many proxies: shared passes, workers, resumable cache.

    python -m zclib score --dataset cifar10 --proxies all --n 1000 --seed 0 \
        --out results/scores/c10.parquet
    python -m zclib score --dataset cifar100 --archs archs.txt --device cuda \
        --workers 8 --out s.csv

Every architecture is scored on the same seeded minibatch(es) (``zclib.data.get_batch``
with the run's seed; batch 0 for all proxies, batches 1.. for zico) and a network
whose weights are drawn from a seed derived from (run seed, cell) only, so a score
does not depend on which other archs are in the run, on the order, on the chunking
or on the number of workers.

Resumable (:mod:`zclib.chunks`, format version 1): results go to
``<out>.parts/part-NNNNN.parquet``, one file per chunk of ``chunk_size`` archs, each
written to a temporary name and renamed atomically; a killed run loses at most the
chunks in flight, and the same command resumes (a damaged part, e.g. a truncated
copy, is named in a warning and scored again). When all chunks exist they are
merged into ``<out>`` (CSV or Parquet) plus ``<out>.meta.json`` (provenance, wall
time, NaN counts). A different configuration pointed at the same ``--out`` is
refused (``<out>.parts/run.json`` holds the configuration, :func:`run_identity`).
With ``deadline=`` a call stops starting chunks at that time and raises
:class:`Unfinished`; the same call resumes. ``batch_file=`` reads the batches from
a file drawn beforehand (:mod:`zclib.data.predrawn`) instead of the images.
``backend="dask"`` (``--backend dask``) runs the chunks on Dask distributed
(:mod:`zclib.cluster`): a LocalCluster of ``workers`` processes or the cluster at
``scheduler=``; the resumable parts and the guard are the same.

Modules: :mod:`~zclib.scoring.scorer` (one arch: :class:`Scorer`, the device),
:mod:`~zclib.scoring.bulk` (many archs: :func:`score_archs`), :mod:`~zclib.scoring.cli`.
"""

from __future__ import annotations

from zclib.scoring.bulk import (
    LEGACY_IDENTITY,
    Unfinished,
    nan_count,
    part_key,
    read_archs,
    run_identity,
    score_archs,
    with_meta_columns,
    worker_threads,
)
from zclib.scoring.cli import add_cli
from zclib.scoring.scorer import Scorer, check_device, device_name

__all__ = [
    "LEGACY_IDENTITY",
    "Scorer",
    "Unfinished",
    "add_cli",
    "check_device",
    "device_name",
    "nan_count",
    "part_key",
    "read_archs",
    "run_identity",
    "score_archs",
    "with_meta_columns",
    "worker_threads",
]
