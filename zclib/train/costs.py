"""What a reduced-training proxy costs, beside what a zero-cost proxy costs.

from zclib import train
b = train.budgets(train.load_table())  # accuracy and cost per stopping epoch
t = train.time_zero_cost(archs, {"synflow": ["synflow"]})  # seconds per score
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zclib.network import cost
from zclib.scoring import Scorer
from zclib.timing import time_scorers, torch_threads


def budgets(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, evaluated epoch): the accuracy and cost of stopping there.

    Stopping an E-epoch run after e epochs (the learning rate not yet annealed, as the
    EcoNAS reference read epoch 20 of its 40-epoch runs) costs e/E of its training
    time and FLOPs plus one test pass. ``proxy`` names it ``<setting>@<e>``.
    """
    rows = []
    for r in runs.to_dict("records"):
        for e, acc in json.loads(r["curve"]).items():
            # share of the run's training cost (runs stopped early: of the epochs
            # trained; rows from before the stop field: all epochs)
            trained = r.get("epochs_trained")
            if trained is None or trained != trained:  # missing or NaN
                trained = r["epochs"]
            f = int(e) / trained
            cpu = r.get("train_cpu_seconds", np.nan)
            rows.append(
                {
                    "arch_str": r["arch_str"],
                    "index": r["index"],
                    "setting": r["setting"],
                    "epochs": r["epochs"],
                    "budget": int(e),
                    "proxy": f"{r['setting']}@{e}",
                    "acc": acc,
                    "train_flops": r["train_flops"] * f,
                    "seconds": r["train_seconds"] * f + r["eval_seconds"],
                    "cpu_seconds": cpu * f + (r.get("cpu_seconds", np.nan) - cpu),
                }
            )
    return pd.DataFrame(rows)


def time_zero_cost(
    archs: Sequence[str],
    proxies: dict[str, Sequence[str]],
    dataset: str = "cifar10",
    batch_size: int = 64,
    seed: int = 0,
    threads: int = 1,
    warmup: int = 1,
) -> pd.DataFrame:
    """Seconds (wall and CPU) to score each arch with each proxy set, one by one.

    Same conventions as the reduced-training runs: ``threads`` torch threads, CPU
    time of this process, network build included (as in :class:`zclib.scoring.Scorer`).

    Args:
        archs: architectures to time (the first ``warmup`` are run once untimed).
        proxies: name -> proxy names scored together in one fused pass, e.g.
            ``{"synflow": ["synflow"], "vote": ["synflow", "jacob_cov", "snip"]}``.
        dataset, batch_size, seed: scorer settings.
        threads: ``torch.set_num_threads`` while timing (restored after).
        warmup: untimed architectures first (allocator, data load).

    Returns:
        Rows arch_str, proxy, seconds, cpu_seconds, flops_fwd (one image, 32x32,
        C=16), batch_size.
    """
    with torch_threads(threads):
        scorers = {
            name: Scorer(dataset, list(ps), seed=seed, batch_size=batch_size)
            for name, ps in proxies.items()
        }
        timings = time_scorers(scorers, archs, warm=list(archs)[:warmup])
    return pd.DataFrame(
        [
            {
                "arch_str": t.arch,
                "proxy": t.key,
                "seconds": t.seconds,
                "cpu_seconds": t.cpu_seconds,
                "flops_fwd": cost(t.arch, dataset)["flops_M"] * 1e6,
                "batch_size": batch_size,
            }
            for t in timings
        ]
    )
