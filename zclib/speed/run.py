"""The speed benchmark: seconds per architecture, per proxy and fused vs naive.

from zclib.speed import run_speed
res = run_speed("cifar10", n=5, batch_size=64, device="cpu")
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from zclib import proxies as zproxies
from zclib import space
from zclib.names import canonical_dataset
from zclib.provenance import provenance
from zclib.scoring import Scorer, device_name
from zclib.speed.compare import consistency, describe, ratio
from zclib.speed.targets import TARGETS, target_check
from zclib.speed.throughput import run_throughput
from zclib.timing import time_scorers

# 1-min load average above our own threads + this suggests other processes competed
LOAD_MARGIN = 1.0


def default_sets() -> dict[str, list[str]]:
    """The proxy sets timed fused vs naive: ``six`` (Abdelfattah) and ``all`` (what
    ``--proxies all`` scores: every proxy, not the registered variants such as
    ``fisher_channel``)."""
    return {"six": list(zproxies.ABDELFATTAH), "all": zproxies.resolve("all")}


def run_speed(
    dataset: str = "cifar10",
    n: int = 20,
    batch_size: int = 64,
    device: str = "cpu",
    seed: int = 0,
    sets: Mapping[str, Sequence[str]] | None = None,
    singles: Sequence[str] | None = None,
    *,
    variant: str = "official",
    warmup: int = 1,
    progress: bool = True,
    throughput_workers: int = 0,
) -> dict:
    """Time :meth:`Scorer.score` per architecture under several configurations.

    Args:
        dataset: dataset name or alias.
        n: timed architectures (``space.sample(n, seed)``).
        batch_size: images per minibatch.
        device: ``"cpu"`` or ``"cuda"``.
        seed: seed of the architectures, the batches and the weights.
        sets: ``{name: proxies}`` timed fused and naive (default :func:`default_sets`).
        singles: proxies timed alone (default: all registered; ``[]`` for none).
        variant: network variant (see :func:`zclib.network.build`).
        warmup: architectures scored before timing, not counted (the first ones).
        progress: tqdm bar on stderr.
        throughput_workers: also time the sets with this many worker processes
            (:func:`run_throughput`); 0 skips it.

    Returns:
        A JSON-ready dict: ``meta`` (machine, parameters, provenance, load),
        ``throughput`` (if asked for),
        ``singles`` and ``sets`` (seconds per arch and their mean/median/std),
        ``consistency`` (max relative score differences), ``targets``,
        ``target_check`` and ``meets_target``.
    """
    dataset = canonical_dataset(dataset)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    sets = {k: zproxies.resolve(list(v)) for k, v in (sets or default_sets()).items()}
    if singles is None:
        singles = zproxies.resolve("all")
    singles = zproxies.resolve(list(singles)) if singles else []
    if not singles and not sets:
        raise ValueError("nothing to time: give proxy sets or single proxies")
    cells = [space.parse(a) for a in space.sample(n, seed)]
    archs = [space.format_arch(c) for c in cells]

    # (kind, name, mode) -> Scorer; one Scorer per configuration, as in a real run
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    common = dict(
        dataset=dataset,
        seed=seed,
        batch_size=batch_size,
        device=device,
        variant=variant,
    )
    configs: dict[tuple[str, str, str], Scorer] = {}
    for p in singles:
        configs["single", p, "fused"] = Scorer(proxies=[p], mode="fused", **common)
    for name, names_ in sets.items():
        for mode in ("fused", "naive"):
            configs["set", name, mode] = Scorer(proxies=names_, mode=mode, **common)

    warm = archs[:1] * warmup
    bar = tqdm(
        total=(len(warm) + n) * len(configs),
        disable=not progress,
        desc=f"speed {dataset} {device}",
        unit="score",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    seconds = {k: [] for k in configs}
    load_during = []  # 1-min load average after each timed arch
    scores = {k: [] for k in configs}
    try:
        timings = time_scorers(
            configs,
            archs,
            warm=warm,
            on_score=lambda: bar.update(1),
            on_arch=lambda i: load_during.append(os.getloadavg()[0]),
        )
    finally:
        bar.close()
    for t in timings:  # Scorer.score synchronises cuda before returning
        seconds[t.key].append(t.seconds)
        scores[t.key].append({p: t.row[p] for p in configs[t.key].proxies})
    wall = time.perf_counter() - t_start
    load_after = os.getloadavg()

    res_singles = {p: describe(seconds["single", p, "fused"]) for p in singles}
    res_sets = {}
    for name, names_ in sets.items():
        f, nv = seconds["set", name, "fused"], seconds["set", name, "naive"]
        res_sets[name] = {
            "proxies": names_,
            "fused": describe(f),
            "naive": describe(nv),
            "ratio_naive_fused": ratio(np.mean(nv), np.mean(f)),
            "ratio_naive_fused_median_per_arch": float(np.median(np.divide(nv, f))),
        }

    agreement = consistency(scores, singles, sets)
    meta = provenance(
        command="speed",
        dataset=dataset,
        n=n,
        batch_size=batch_size,
        device=device,
        seed=seed,
        variant=variant,
        warmup_archs=len(warm),
        archs=archs,
        data_source=str(next(iter(configs.values())).data_meta.get("source", "")),
        timer="time.perf_counter around Scorer.score (network build included)",
        std="sample std (ddof=1) over timed archs",
        wall_seconds=round(wall, 3),
        **machine_info(device),
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        loadavg_before=[round(v, 2) for v in load_before],
        loadavg_after=[round(v, 2) for v in load_after],
        loadavg_1min_during=[round(v, 2) for v in load_during],
        loaded=bool(
            max(load_before[0], *load_during) > torch.get_num_threads() + LOAD_MARGIN
        ),
        loaded_rule=f"max 1-min load (before, during) > torch threads + {LOAD_MARGIN}",
    )
    nan_counts = {
        f"{k[1]}/{k[2]}" if k[0] == "set" else k[1]: {
            p: sum(math.isnan(r[p]) for r in rows) for p in rows[0]
        }
        for k, rows in scores.items()
    }
    out = {
        "meta": meta,
        "singles": res_singles,
        "sets": res_sets,
        "consistency": agreement,
        "nan_counts": nan_counts,
        "targets": TARGETS,
    }
    if throughput_workers:
        one = {name: scores["set", name, "fused"] for name in sets}
        out["throughput"] = run_throughput(
            dataset,
            archs,
            sets,
            throughput_workers,
            reference=one,
            warmup=max(warmup, 1),
            progress=progress,
            **{k: v for k, v in common.items() if k != "dataset"},
        )
    out["target_check"] = target_check(out)
    out["meets_target"] = out["target_check"]["meets_target"]
    return out


def machine_info(device: str) -> dict:
    """Versions, threads and the device name recorded beside every timing."""
    info = {
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "torch_num_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        ),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "device_name": device_name(device),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["cuda_version"] = torch.version.cuda
    return info
