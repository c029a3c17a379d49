"""The scorer's throughput: W worker processes share the architectures.

from zclib.speed import run_throughput
run_throughput("cifar10", archs, {"six": six}, workers=2)["sets"]["six"]
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import threading
import time
from collections.abc import Mapping, Sequence

import torch
from tqdm.auto import tqdm

from zclib.scoring import Scorer, worker_threads
from zclib.speed.compare import ratio, rel_diff


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
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    threads = worker_threads(workers, device)
    ctx = mp.get_context("spawn")
    common = dict(
        dataset=dataset,
        seed=seed,
        batch_size=batch_size,
        device=device,
        variant=variant,
    )
    blocks = [(name, mode) for name in sets for mode in ("fused", "naive")]
    bar = tqdm(
        total=len(blocks),
        disable=not progress,
        unit="block",
        file=sys.stderr,
        desc=f"throughput {workers} workers",
    )
    res_sets: dict[str, dict] = {}
    diffs: dict[str, dict] = {}
    try:
        for name, mode in blocks:
            kwargs = dict(common, proxies=list(sets[name]), mode=mode)
            barrier, queue = ctx.Barrier(workers + 1), ctx.Queue()
            procs = [
                ctx.Process(
                    target=_throughput_worker,
                    daemon=True,
                    args=(
                        r,
                        workers,
                        threads,
                        kwargs,
                        list(archs),
                        warmup,
                        barrier,
                        queue,
                    ),
                )
                for r in range(workers)
            ]
            for p in procs:
                p.start()
            try:
                try:
                    barrier.wait(timeout=WORKER_START_S)
                except threading.BrokenBarrierError:
                    why = queue.get(timeout=10) if not queue.empty() else None
                    raise RuntimeError(
                        "throughput worker failed before the start: "
                        f"{why[2] if why else 'no message'}"
                    ) from None
                t0 = time.monotonic()
                got = [queue.get(timeout=WORKER_RUN_S) for _ in procs]
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
                "wall_seconds": round(wall, 3),
                "n": len(archs),
                "s_per_arch": wall / len(archs),
            }
            if mode == "fused" and reference and name in reference:
                pairs = list(zip(rows, reference[name], strict=True))
                diffs[name] = {
                    p: max(rel_diff(a[p], b[p]) for a, b in pairs) for p in sets[name]
                }
            bar.update(1)
    finally:
        bar.close()
    for s in res_sets.values():
        s["ratio_naive_fused"] = ratio(
            s["naive"]["s_per_arch"], s["fused"]["s_per_arch"]
        )
    return {
        "workers": workers,
        "threads_per_worker": threads,
        "timer": "time.monotonic from a barrier after start-up and warm-up to "
        "the last worker's end",
        "sets": res_sets,
        "vs_one_process_max_rel_diff": diffs,
    }


WORKER_START_S = 600  # a worker must be ready (data loaded, warm-up done) by then
WORKER_RUN_S = 3600


def _throughput_worker(rank, workers, threads, kwargs, archs, warmup, barrier, queue):
    try:
        torch.set_num_threads(threads)
        scorer = Scorer(**kwargs)
        for _ in range(warmup):
            scorer.score(archs[0])
        barrier.wait(timeout=WORKER_START_S)
        rows = [
            {p: r[p] for p in scorer.proxies}
            for r in (scorer.score(a) for a in archs[rank::workers])
        ]
        queue.put(("ok", time.monotonic(), rank, rows))
    except Exception as e:  # reported by the parent, never a silent hang
        barrier.abort()
        queue.put(("error", time.monotonic(), f"{type(e).__name__}: {e}", []))
