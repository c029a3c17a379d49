"""The speed benchmark: seconds per architecture per configuration, FLOP/s, profile.

from zclib.speed import run_speed
res = run_speed("cifar10", n=5, batch_size=64, device="cpu", packs=(2, 4))
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence

import torch
from tqdm.auto import tqdm

from zclib import proxies as zproxies
from zclib import space
from zclib.names import canonical_dataset
from zclib.provenance import provenance
from zclib.scoring import device_name
from zclib.speed.compare import consistency, describe
from zclib.speed.configs import (
    build_configs,
    default_packs,
    packed_agreement,
    set_results,
)
from zclib.speed.flops import count_flops, matmul_peak
from zclib.speed.profile import profile_ops
from zclib.speed.targets import TARGETS, target_check
from zclib.speed.throughput import run_throughput
from zclib.timing import pack_groups, time_scorers

# 1-min load average above our own threads + this suggests other processes competed
LOAD_MARGIN = 1.0
# matrix size of the peak measurement per device kind (2 n^3 FLOPs per product)
PEAK_N = {"cpu": 2048, "cuda": 8192}


def default_sets() -> dict[str, list[str]]:
    """The proxy sets timed fused vs naive: ``six`` (Abdelfattah) and ``all`` (what
    ``--proxies all`` scores: every proxy with ``in_all``)."""
    return {"six": list(zproxies.ABDELFATTAH), "all": zproxies.resolve("all")}


def run_speed(
    dataset: str = "cifar10",
    n: int = 10,
    batch_size: int = 64,
    device: str = "cpu",
    seed: int = 0,
    sets: Mapping[str, Sequence[str]] | None = None,
    singles: Sequence[str] | None = None,
    *,
    packs: Sequence[int] | None = None,
    reference: bool = True,
    flops: bool = True,
    profile: bool = True,
    peak_n: int | None = None,
    peak_repeats: int = 5,
    variant: str = "official",
    warmup: int = 1,
    progress: bool = True,
    throughput_workers: int = 0,
) -> dict:
    """Time every configuration on the same archs and batch, interleaved per arch.

    Args:
        dataset: dataset name or alias.
        n: timed architectures (``space.sample(n, seed)``).
        batch_size: images per minibatch.
        device: ``"cpu"`` or ``"cuda"``.
        seed: seed of the architectures, the batches and the weights.
        sets: ``{name: proxies}`` timed naive, fused and packed (default
            :func:`default_sets`).
        singles: proxies timed alone (default: all registered; ``[]`` for none).
        packs: pack sizes K (default :func:`~zclib.speed.configs.default_packs`);
            a packed configuration scores groups of K of the same archs
            (:func:`zclib.timing.pack_groups`: the last group wraps around).
        reference: also time the reference code on the sets of its measures
            (needs ``../shared/reference/foresight-a43bfbc``).
        flops: count the FLOPs of every set configuration on the same archs
            (untimed; :mod:`zclib.speed.flops`) and measure the matmul peak
            before and after the timing.
        profile: profile fused vs the largest pack per set (CPU only;
            :mod:`zclib.speed.profile`).
        peak_n, peak_repeats: size (default :data:`PEAK_N`) and repeats of the
            peak's matrix product.
        variant: network variant (see :func:`zclib.network.build`).
        warmup: times the first architecture is scored under every configuration
            before the timing, not counted; a packed configuration scores one
            group of the heaviest cell instead, even for 0, and is dropped when it
            runs out of device memory (``meta.packs_dropped``;
            :meth:`~zclib.speed.configs.Configs.warm_up`).
        progress: tqdm bar on stderr.
        throughput_workers: also time the sets with this many worker processes
            (:func:`run_throughput`); 0 skips it.

    Returns:
        A JSON-ready dict: ``meta`` (machine, parameters, provenance, load),
        ``peak``, ``singles`` and ``sets`` (per configuration seconds per arch,
        archs/s, FLOPs, FLOP/s and share of the peak; ratios between them and to
        the reference), ``profile``, ``consistency`` (fused vs naive),
        ``packed_agreement`` (packed vs fused), ``nan_counts``, ``throughput`` (if
        asked for), ``targets``, ``target_check`` and ``meets_target``.
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
    packs = tuple(int(k) for k in (default_packs(device) if packs is None else packs))
    if any(k < 1 for k in packs):
        raise ValueError(f"pack sizes must be >= 1, got {packs}")
    archs = [space.format_arch(space.parse(a)) for a in space.sample(n, seed)]
    kind = "cuda" if device.startswith("cuda") else "cpu"
    peak_n = peak_n or PEAK_N[kind]

    load_before = os.getloadavg()
    t_start = time.perf_counter()
    common = dict(
        dataset=dataset,
        seed=seed,
        batch_size=batch_size,
        device=device,
        variant=variant,
    )
    cf = build_configs(sets, singles, packs, reference, **common)
    peak_before = matmul_peak(peak_n, peak_repeats, device) if flops else None

    warm = archs[:1] * warmup
    dropped = cf.warm_up(warm)
    calls = sum(-(-n // cf.packs[k]) if k in cf.packs else n for k in cf.scorers)
    bar = tqdm(
        total=calls,
        disable=not progress,
        desc=f"speed {dataset} {device}",
        unit="call",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    load_during = []  # 1-min load average after each timed arch
    try:
        timings = time_scorers(
            cf.scorers,
            archs,
            on_score=lambda: bar.update(1),
            on_arch=lambda i: load_during.append(os.getloadavg()[0]),
            packs=cf.packs,
        )
    finally:
        bar.close()
    seconds, scores = {}, {}  # per timed call (/ K if packed); rows by arch position
    for key in cf.scorers:  # Scorer.score synchronises cuda before returning
        mine = [t for t in timings if t.key == key]  # a group's K are consecutive
        seconds[key] = [t.seconds for t in mine[:: cf.packs.get(key, 1)]]
        scores[key] = [None] * n
        for t in mine:
            if scores[key][t.position] is None:
                scores[key][t.position] = {p: t.row[p] for p in cf.proxies[key]}
    wall = time.perf_counter() - t_start
    load_after = os.getloadavg()
    peak_after = matmul_peak(peak_n, peak_repeats, device) if flops else None
    peak = None
    if flops:  # the fastest product of both measurements counts
        peak = {k: v for k, v in peak_after.items() if k != "seconds"}
        peak.update(
            seconds_before=peak_before["seconds"],
            seconds_after=peak_after["seconds"],
            flop_per_s=max(peak_before["flop_per_s"], peak_after["flop_per_s"]),
            measured="before and after the timing; the fastest product counts",
        )

    set_keys = [k for k in cf.scorers if k[0] == "set"]
    counted = _count_flops(cf, set_keys, archs, progress) if flops else {}
    res_sets = set_results(
        sets, seconds, counted, peak and peak["flop_per_s"], cf.packs
    )
    fused_like = {k: v for k, v in scores.items() if k[2] in ("fused", "naive")}
    meta = provenance(
        command="speed",
        dataset=dataset,
        n=n,
        batch_size=batch_size,
        device=device,
        seed=seed,
        variant=variant,
        packs=list(packs),
        reference=bool(reference),
        warmup_archs=len(warm),
        warmup="untimed, before the timing: every configuration scores the first "
        "arch (warmup_archs times); a packed configuration scores one group of K "
        "copies of the heaviest cell (dropped if out of memory: packs_dropped)",
        packs_dropped=dropped,
        archs=archs,
        pack_groups={str(k): pack_groups(n, k) for k in sorted(set(cf.packs.values()))},
        data_source=str(next(iter(cf.scorers.values())).data_meta.get("source", "")),
        timer="time.perf_counter around Scorer.score (network build included); "
        "packed: around one score_many of K archs, / K",
        std="sample std (ddof=1) over timed calls",
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
    out = {
        "meta": meta,
        "peak": peak,
        "singles": {p: describe(seconds["single", p, "fused"]) for p in singles},
        "sets": res_sets,
        "profile": (
            _profiles(cf, sets, archs)
            if profile and kind == "cpu" and cf.packs
            else None
        ),
        "consistency": consistency(fused_like, singles, sets),
        "packed_agreement": packed_agreement(scores, cf.packs),
        "nan_counts": {
            f"{k[1]}/{k[2]}" if k[0] == "set" else k[1]: {
                p: sum(math.isnan(r[p]) for r in rows if r) for p in cf.proxies[k]
            }
            for k, rows in scores.items()
        },
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


def _units(cf, key, n: int) -> list[list[int]]:
    """The arch positions of each call of a configuration: groups of K, or one."""
    k = cf.packs.get(key, 1)
    return pack_groups(n, k) if k > 1 else [[i] for i in range(n)]


def _count_flops(cf, keys, archs, progress) -> dict:
    """key -> ``{"total", "by_op"}`` FLOPs over the same calls as were timed."""
    units = {k: _units(cf, k, len(archs)) for k in keys}
    bar = tqdm(
        total=sum(map(len, units.values())),
        disable=not progress,
        desc="counting FLOPs",
        unit="call",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    out = {}
    try:
        for key in keys:
            scorer, total, by_op = cf.scorers[key], 0, {}
            for unit in units[key]:
                group = [archs[j] for j in unit]
                if key in cf.packs:
                    work = functools.partial(scorer.score_many, group)
                else:
                    work = functools.partial(scorer.score, group[0])
                f, _ = count_flops(work)
                total += f["total"]
                for op, v in f["by_op"].items():
                    by_op[op] = by_op.get(op, 0) + v
                bar.update(1)
            out[key] = {"total": total, "by_op": by_op}
    finally:
        bar.close()
    return out


def _profiles(cf, sets, archs) -> dict:
    """Per set: the profile of fused vs the largest pack, on the archs of that
    pack's first group (:func:`zclib.speed.profile.profile_ops`)."""
    out = {}
    for name in sets:
        ks = [k for key, k in cf.packs.items() if key[1] == name]
        if not ks:
            continue
        k = max(ks)
        group = [archs[j] for j in pack_groups(len(archs), k)[0]]
        fused, packed = (
            cf.scorers["set", name, "fused"],
            cf.scorers["set", name, f"pack{k}"],
        )
        out[name] = {
            "pack": k,
            "archs": group,
            "fused": profile_ops(lambda f=fused, g=group: [f.score(a) for a in g], k),
            "packed": profile_ops(lambda p=packed, g=group: p.score_many(g), k),
            "timer": "torch.profiler self CPU time, one untimed run after the timing",
        }
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
