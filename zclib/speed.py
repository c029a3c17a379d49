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

Library use::

    from zclib.speed import run_speed
    res = run_speed("cifar10", n=5, batch_size=64, device="cpu")
    res["sets"]["six"]["ratio_naive_fused"]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from zclib import proxies as zproxies
from zclib import space
from zclib.fileio import write_text_atomic
from zclib.names import canonical_dataset
from zclib.provenance import provenance
from zclib.scoring import Scorer, _device_name, worker_threads

REL_TOL = 1e-6  # fused and naive scores must agree to this relative difference
# 1-min load average above our own threads + this suggests other processes competed
LOAD_MARGIN = 1.0
N_ARCHS_SPACE = space.NUM_ARCHS * 3  # 15,625 cells x 3 datasets = 46,875 scorings

# What we aim for (and what the reference foresight code took), kept in the JSON.
TARGETS = {
    "cpu": {
        "conditions": "2 CPU cores, batch 64, CIFAR-10; one process with 2 threads "
                      "or the scorer's throughput with 2 single-thread workers",
        "six_fused_s_per_arch": 0.9,  # seconds per arch, upper bound
        "all_fused_s_per_arch": 1.2,  # seconds per arch, upper bound
        "reference_six_s_per_arch": 4.6,  # foresight code, same conditions
    },
    "cuda": {
        "conditions": "1 H100, 15,625 archs x 3 datasets, batch 64",
        "whole_space_minutes": 15.0,  # upper bound, all three datasets
        "reference_s_per_arch": 2.2,  # foresight code
        "reference_whole_space_hours": 28.0,
    },
}


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
    from tqdm.auto import tqdm

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
    common = dict(dataset=dataset, seed=seed, batch_size=batch_size, device=device,
                  variant=variant)
    configs: dict[tuple[str, str, str], Scorer] = {}
    for p in singles:
        configs["single", p, "fused"] = Scorer(proxies=[p], mode="fused", **common)
    for name, names_ in sets.items():
        for mode in ("fused", "naive"):
            configs["set", name, mode] = Scorer(proxies=names_, mode=mode, **common)

    warm = archs[:1] * warmup
    bar = tqdm(total=(len(warm) + n) * len(configs), disable=not progress,
               desc=f"speed {dataset} {device}", unit="score", file=sys.stderr,
               dynamic_ncols=True)
    seconds = {k: [] for k in configs}
    load_during = []  # 1-min load average after each timed arch
    scores = {k: [] for k in configs}
    try:
        for i, arch in enumerate(warm + archs):
            timed = i >= len(warm)
            for key, scorer in configs.items():
                t0 = time.perf_counter()
                row = scorer.score(arch)  # synchronises cuda before returning
                dt_s = time.perf_counter() - t0
                if timed:
                    seconds[key].append(dt_s)
                    scores[key].append({p: row[p] for p in scorer.proxies})
                bar.update(1)
            if timed:
                load_during.append(os.getloadavg()[0])
    finally:
        bar.close()
    wall = time.perf_counter() - t_start
    load_after = os.getloadavg()

    res_singles = {p: _stats(seconds["single", p, "fused"]) for p in singles}
    res_sets = {}
    for name, names_ in sets.items():
        f, nv = seconds["set", name, "fused"], seconds["set", name, "naive"]
        res_sets[name] = {
            "proxies": names_,
            "fused": _stats(f),
            "naive": _stats(nv),
            "ratio_naive_fused": _ratio(np.mean(nv), np.mean(f)),
            "ratio_naive_fused_median_per_arch": float(np.median(np.divide(nv, f))),
        }

    consistency = _consistency(scores, singles, sets)
    meta = provenance(
        command="speed", dataset=dataset, n=n, batch_size=batch_size, device=device,
        seed=seed, variant=variant, warmup_archs=len(warm), archs=archs,
        data_source=str(next(iter(configs.values())).data_meta.get("source", "")),
        timer="time.perf_counter around Scorer.score (network build included)",
        std="sample std (ddof=1) over timed archs",
        wall_seconds=round(wall, 3), **machine_info(device),
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        loadavg_before=[round(v, 2) for v in load_before],
        loadavg_after=[round(v, 2) for v in load_after],
        loadavg_1min_during=[round(v, 2) for v in load_during],
        loaded=bool(max(load_before[0], *load_during)
                    > torch.get_num_threads() + LOAD_MARGIN),
        loaded_rule=f"max 1-min load (before, during) > torch threads + {LOAD_MARGIN}",
    )
    nan_counts = {f"{k[1]}/{k[2]}" if k[0] == "set" else k[1]:
                  {p: sum(math.isnan(r[p]) for r in rows) for p in rows[0]}
                  for k, rows in scores.items()}
    out = {"meta": meta, "singles": res_singles, "sets": res_sets,
           "consistency": consistency, "nan_counts": nan_counts,
           "targets": TARGETS}
    if throughput_workers:
        one = {name: scores["set", name, "fused"] for name in sets}
        out["throughput"] = run_throughput(
            dataset, archs, sets, throughput_workers, reference=one,
            warmup=max(warmup, 1), progress=progress, **{
                k: v for k, v in common.items() if k != "dataset"})
    out["target_check"] = target_check(out)
    out["meets_target"] = out["target_check"]["meets_target"]
    return out


def run_throughput(
    dataset: str,
    archs: Sequence[str],
    sets: Mapping[str, Sequence[str]],
    workers: int,
    *,
    batch_size: int = 64,
    device: str = "cpu",
    seed: int = 0,
    variant: str = "official",
    warmup: int = 1,
    reference: Mapping[str, Sequence[dict]] | None = None,
    progress: bool = True,
) -> dict:
    """Wall seconds per architecture of ``workers`` scorer processes sharing ``archs``.

    Each set is timed fused and naive, one block after the other. Workers are spawned
    with :func:`zclib.scoring.worker_threads` torch threads (as
    :func:`zclib.scoring.score_archs` runs them), build their :class:`Scorer`, score
    ``archs[0]`` ``warmup`` times and wait at a barrier; the clock runs from the
    barrier to the last worker's end, so start-up (imports, data loading) is not
    counted. Worker ``r`` scores ``archs[r::workers]``.

    Args:
        reference: ``{set: rows}`` of one-process fused scores of the same archs;
            the largest relative difference per proxy is recorded (a different
            thread count may change float rounding; informational, not a check).

    Returns:
        ``{"workers", "threads_per_worker", "sets": {name: {"fused": {...},
        "naive": {...}, "ratio_naive_fused"}}, "vs_one_process_max_rel_diff"}``.
    """
    import multiprocessing as mp

    from tqdm.auto import tqdm

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    threads = worker_threads(workers, device)
    ctx = mp.get_context("spawn")
    common = dict(dataset=dataset, seed=seed, batch_size=batch_size, device=device,
                  variant=variant)
    blocks = [(name, mode) for name in sets for mode in ("fused", "naive")]
    bar = tqdm(total=len(blocks), disable=not progress, unit="block", file=sys.stderr,
               desc=f"throughput {workers} workers")
    res_sets: dict[str, dict] = {}
    diffs: dict[str, dict] = {}
    try:
        for name, mode in blocks:
            kwargs = dict(common, proxies=list(sets[name]), mode=mode)
            barrier, queue = ctx.Barrier(workers + 1), ctx.Queue()
            procs = [ctx.Process(target=_throughput_worker, daemon=True, args=(
                r, workers, threads, kwargs, list(archs), warmup, barrier, queue))
                for r in range(workers)]
            for p in procs:
                p.start()
            try:
                try:
                    barrier.wait(timeout=_WORKER_START_S)
                except threading.BrokenBarrierError:
                    why = queue.get(timeout=10) if not queue.empty() else None
                    raise RuntimeError("throughput worker failed before the start: "
                                       f"{why[2] if why else 'no message'}") from None
                t0 = time.monotonic()
                got = [queue.get(timeout=_WORKER_RUN_S) for _ in procs]
            finally:
                for p in procs:
                    p.join(timeout=10)
                    if p.is_alive():
                        p.terminate()
            errors = [g[2] for g in got if g[0] == "error"]
            if errors:
                raise RuntimeError(f"throughput worker failed: {errors[0]}")
            wall = max(g[1] for g in got) - t0
            rows: list[dict | None] = [None] * len(archs)
            for _, _, r, part in got:
                rows[r::workers] = part
            res_sets.setdefault(name, {"proxies": list(sets[name])})[mode] = {
                "wall_seconds": round(wall, 3), "n": len(archs),
                "s_per_arch": wall / len(archs)}
            if mode == "fused" and reference and name in reference:
                pairs = list(zip(rows, reference[name], strict=True))
                diffs[name] = {p: max(rel_diff(a[p], b[p]) for a, b in pairs)
                               for p in sets[name]}
            bar.update(1)
    finally:
        bar.close()
    for s in res_sets.values():
        s["ratio_naive_fused"] = _ratio(s["naive"]["s_per_arch"],
                                        s["fused"]["s_per_arch"])
    return {"workers": workers, "threads_per_worker": threads,
            "timer": "time.monotonic from a barrier after start-up and warm-up to "
                     "the last worker's end",
            "sets": res_sets, "vs_one_process_max_rel_diff": diffs}


_WORKER_START_S = 600  # a worker must be ready (data loaded, warm-up done) by then
_WORKER_RUN_S = 3600


def _throughput_worker(rank, workers, threads, kwargs, archs, warmup, barrier, queue):
    try:
        torch.set_num_threads(threads)
        scorer = Scorer(**kwargs)
        for _ in range(warmup):
            scorer.score(archs[0])
        barrier.wait(timeout=_WORKER_START_S)
        rows = [{p: r[p] for p in scorer.proxies}
                for r in (scorer.score(a) for a in archs[rank::workers])]
        queue.put(("ok", time.monotonic(), rank, rows))
    except Exception as e:  # reported by the parent, never a silent hang
        barrier.abort()
        queue.put(("error", time.monotonic(), f"{type(e).__name__}: {e}", []))


def machine_info(device: str) -> dict:
    """Versions, threads and the device name recorded beside every timing."""
    info = {
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "torch_num_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": (len(os.sched_getaffinity(0))
                         if hasattr(os, "sched_getaffinity") else None),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "device_name": _device_name(device),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["cuda_version"] = torch.version.cuda
    return info


def target_check(res: dict) -> dict:
    """Compare the measured means with :data:`TARGETS` for this run's device.

    CPU: six and all proxies fused, mean s/arch, against the bounds (the bounds are
    stated for 2 cores, batch 64, CIFAR-10; ``conditions_match`` says whether this
    run had them). CUDA: the whole space (46,875 scorings) extrapolated from the
    mean s/arch of one process; several workers per GPU are not measured here.
    """
    meta, sets = res["meta"], res["sets"]
    mean = {k: sets[k]["fused"]["mean"] for k in ("six", "all") if k in sets}
    if meta["device"].startswith("cuda"):
        hours = {k: v * N_ARCHS_SPACE / 3600 for k, v in mean.items()}
        bound_h = TARGETS["cuda"]["whole_space_minutes"] / 60
        key = "all" if "all" in hours else next(iter(hours), None)
        return {
            "device": "cuda", "s_per_arch_fused": mean,
            "whole_space_hours_1_process": {k: round(v, 3) for k, v in hours.items()},
            "checked_set": key,
            "meets_target": bool(key is not None and hours[key] <= bound_h),
            "note": "extrapolated from 1 process on this run's dataset; "
                    "more workers per GPU not measured",
        }
    t = TARGETS["cpu"]
    bounds = {"six": t["six_fused_s_per_arch"], "all": t["all_fused_s_per_arch"]}
    ok = {k: bool(mean[k] <= bounds[k]) for k in mean}
    conditions = (meta["dataset"] == "cifar10" and meta["batch_size"] == 64
                  and meta["torch_num_threads"] == 2)
    out = {
        "device": "cpu", "s_per_arch_fused": mean, "bounds": bounds, "ok": ok,
        "speedup_vs_reference_six": _ratio(t["reference_six_s_per_arch"],
                                           mean.get("six", math.nan)),
        "conditions_match": bool(conditions),
    }
    met_by = ["1 process"] if ok and all(ok.values()) else []
    tp = res.get("throughput")
    if tp:
        tmean = {k: v["fused"]["s_per_arch"] for k, v in tp["sets"].items()
                 if k in bounds}
        tok = {k: bool(v <= bounds[k]) for k, v in tmean.items()}
        out["throughput"] = {"workers": tp["workers"], "s_per_arch_fused": tmean,
                             "ok": tok,
                             "speedup_vs_reference_six": _ratio(
                                 t["reference_six_s_per_arch"],
                                 tmean.get("six", math.nan))}
        if tok and all(tok.values()):
            met_by.append(f"{tp['workers']} workers")
    out["met_by"] = met_by
    out["meets_target"] = bool(met_by)
    return out


def _stats(xs: Sequence[float]) -> dict:
    a = np.asarray(xs, dtype=float)
    return {"mean": float(a.mean()), "median": float(np.median(a)),
            "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max()), "n": len(a),
            "seconds": [round(float(v), 5) for v in a]}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else math.nan


def rel_diff(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|); 0 when both are 0 or both NaN, inf when one is NaN."""
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def _consistency(scores: dict, singles: Sequence[str], sets: Mapping) -> dict:
    """Max relative score difference per proxy: naive vs fused, alone vs in ``all``."""

    def max_diff(rows_a, rows_b, names_):
        pairs = list(zip(rows_a, rows_b, strict=True))
        return {p: max(rel_diff(ra[p], rb[p]) for ra, rb in pairs) for p in names_}

    out = {"tolerance": REL_TOL}
    for name, names_ in sets.items():
        out[f"{name}_naive_vs_fused"] = max_diff(
            scores["set", name, "naive"], scores["set", name, "fused"], names_)
    biggest = max(sets, key=lambda k: len(sets[k]), default=None)
    if biggest is not None and singles:
        names_ = [p for p in singles if p in sets[biggest]]
        fused = scores["set", biggest, "fused"]
        out[f"single_vs_{biggest}_fused"] = {
            p: max_diff(scores["single", p, "fused"], fused, [p])[p] for p in names_}
    worst = [v for k, d in out.items() if k != "tolerance" for v in d.values()]
    out["max_rel_diff"] = max(worst, default=0.0)
    out["ok"] = bool(out["max_rel_diff"] <= REL_TOL)
    return out


# -- output ---------------------------------------------------------------------------

def summary(res: dict) -> str:
    """A short table: mean / median / std seconds per arch, and naive/fused ratios."""
    m = res["meta"]
    lines = [
        f"speed: {m['dataset']} batch {m['batch_size']} on {m['device']} "
        f"({m['device_name']}, {m['torch_num_threads']} threads), n={m['n']} archs, "
        f"load {m['loadavg_before'][0]:.2f} -> {m['loadavg_after'][0]:.2f} "
        f"(max during {max(m['loadavg_1min_during']):.2f}"
        f"{', LOADED: other processes competed' if m['loaded'] else ''})",
        f"{'configuration':<24}{'mean s':>9}{'median s':>10}{'std s':>9}"
        f"{'naive/fused':>13}",
    ]

    def row(label, st, ratio=""):
        lines.append(f"{label:<24}{st['mean']:>9.3f}{st['median']:>10.3f}"
                     f"{st['std']:>9.3f}{ratio:>13}")

    for name, s in res["sets"].items():
        row(f"{name} fused", s["fused"])
        row(f"{name} naive", s["naive"], f"{s['ratio_naive_fused']:.2f}x")
    for p, st in res["singles"].items():
        row(f"  {p} alone", st)
    c, t = res["consistency"], res["target_check"]
    lines.append(f"fused vs naive max rel diff {c['max_rel_diff']:.2e} "
                 f"({'ok' if c['ok'] else 'EXCEEDS'} <= {c['tolerance']:g})")
    tp = res.get("throughput")
    if tp:
        lines.append(f"throughput, {tp['workers']} workers x "
                     f"{tp['threads_per_worker']} thread(s), wall s per arch:")
        for name, s in tp["sets"].items():
            lines.append(f"{name + ' fused':<24}{s['fused']['s_per_arch']:>9.3f}")
            lines.append(f"{name + ' naive':<24}{s['naive']['s_per_arch']:>9.3f}"
                         f"{'':>19}{s['ratio_naive_fused']:>12.2f}x")
    if t["device"] == "cpu":
        one = "met" if t["ok"] and all(t["ok"].values()) else "NOT met"
        lines.append(
            f"CPU targets (six <= {t['bounds']['six']} s, all <= {t['bounds']['all']} s"
            f"; conditions match: {t['conditions_match']}): 1 process {one} {t['ok']}"
            + (f"; {t['throughput']['workers']} workers {t['throughput']['ok']}"
               if "throughput" in t else "")
            + " -> " + (f"met ({', '.join(t['met_by'])})" if t["meets_target"]
                        else "NOT met"))
    else:
        lines.append(f"whole space, 1 process: {t['whole_space_hours_1_process']} h "
                     f"(target {TARGETS['cuda']['whole_space_minutes']:g} min): "
                     f"{'met' if t['meets_target'] else 'NOT met'}")
    return "\n".join(lines)


def write_json(res: dict, out: str | Path) -> Path:
    """Write atomically (temporary file + ``os.replace``); inf/NaN become null."""
    return write_text_atomic(json.dumps(_finite(res), indent=2, default=str) + "\n",
                             out)


def _finite(obj):
    """Strict JSON: non-finite floats become None (a NaN is counted in nan_counts)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _cmd_speed(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    singles = [] if args.no_singles else None
    workers = args.workers if args.workers >= 0 else (
        (os.cpu_count() or 1) if args.device == "cpu" else 0)
    res = run_speed(args.dataset, args.n, args.batch_size, args.device, args.seed,
                    singles=singles, variant=args.variant, progress=not args.quiet,
                    throughput_workers=workers)
    out = args.out or (Path("results/bench") / f"{args.device}_"
                       f"{canonical_dataset(args.dataset)}_b{args.batch_size}.json")
    write_json(res, out)
    print(summary(res))
    print(f"wrote {out}")
    return 0


def add_cli(sub) -> None:
    """Register ``speed`` with the ``python -m zclib`` parser."""
    s = sub.add_parser("speed", help="seconds per arch: per proxy, fused vs naive")
    s.add_argument("--dataset", default="cifar10")
    s.add_argument("--n", type=int, default=20, help="timed archs (plus 1 warm-up)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--variant", default="official", help="official | foresight")
    s.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    s.add_argument("--no-singles", action="store_true", help="skip per-proxy timings")
    s.add_argument("--workers", type=int, default=-1,
                   help="also time the scorer's throughput with this many worker "
                        "processes (-1: one per core on CPU, none on cuda; 0: skip)")
    s.add_argument("--out", default=None,
                   help="JSON (default results/bench/<device>_<dataset>_b<B>.json)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_speed)
