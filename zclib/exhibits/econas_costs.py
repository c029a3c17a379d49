"""Notebook 07's cost comparison: seconds and FLOPs per architecture of reduced
training and of the zero-cost proxies, and the ratios the abstract quotes.

    from zclib.exhibits import econas_costs as cx
    table = cx.costs(plan, bud, sample, corr_df, batch_size=64, seed=0, threads=1)
    ratio, cheapest = cx.ratios(table, plan)

Two kinds of seconds: ``cpu_seconds`` of the zero-cost rows are timed here, now
(they go to the git-ignored ``timings.json`` and the cost table shown), while
``plot_seconds`` is what the figure plots: the committed speed benchmark's seconds
for the zero-cost proxies (:func:`bench_seconds`) and the recorded runs' CPU
seconds for reduced training (the shipped table ``results/train/``), so that the
figure is the same bytes on every run with the same inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib import network, stats, train
from zclib.exhibits.econas import Plan
from zclib.search import lookup


def bench_seconds(proxy: str) -> float:
    """Seconds per architecture of a zero-cost row, from the committed speed
    benchmark (``results/bench/cpu_cifar10_b64.json``, ``make bench``).

    Deviation from the live timing of :func:`costs`: the benchmark's median wall
    seconds per cell (2 threads, batch 64, CIFAR-10, 10 cells), not CPU seconds on
    ``threads`` threads; no committed benchmark of the training exists, so the
    reduced-training points read the shipped runs table instead.

    Args:
        proxy: a proxy name, or ``"vote"``: the sum of its members' seconds (each
            scored alone; the notebook's fused pass is cheaper).

    Returns:
        Seconds; NaN when the benchmark has not timed it.
    """
    members = stats.VOTE_MEMBERS if proxy == "vote" else (proxy,)
    return float(sum(lookup.scoring_seconds(p) for p in members))


def costs(
    plan: Plan, bud, sample, corr_df, batch_size: int, seed: int = 0, threads: int = 1
) -> pd.DataFrame:
    """Cost per architecture (CPU s, FLOPs; the benchmark's GPU s) of every proxy,
    with its ρ vs test accuracy. Times the zero-cost proxies here: the first arch
    is scored once untimed (warm-up), then all ``n_time`` are timed.

    Args:
        plan: the notebook's plan.
        bud, sample, corr_df: :func:`zclib.exhibits.econas.inputs` and
            :func:`~zclib.exhibits.econas.correlations`.
        batch_size, seed, threads: the zero-cost scorer and its timing.

    Returns:
        One row per proxy: proxy, kind, cpu_seconds, wall_seconds (timed now for
        the zero-cost rows), plot_seconds (what the figure plots, never timed
        now: see the module docstring), gpu_seconds (the 12-epoch benchmark),
        n_timed, flops, rho, lo, hi, n.
    """
    timing = train.time_zero_cost(
        plan.archs[: plan.n_time],
        {**{p: [p] for p in plan.zc_timed}, "vote": list(stats.VOTE_MEMBERS)},
        batch_size=batch_size,
        seed=seed,
        threads=threads,
        warmup=1,
    )
    n_members = {p: 1 for p in plan.zc_timed} | {"vote": len(stats.VOTE_MEMBERS)}
    flops_full = {a: network.cost(a, "cifar10")["flops_M"] * 1e6 for a in plan.archs}
    mean_flops_full = float(np.mean(list(flops_full.values())))
    rows = []
    for p, d in timing.groupby("proxy", sort=False):
        rows.append(
            {
                "proxy": p,
                "kind": "zero-cost",
                "cpu_seconds": d["cpu_seconds"].mean(),
                "wall_seconds": d["seconds"].mean(),
                "plot_seconds": bench_seconds(p),
                "n_timed": len(d),
                "flops": 3 * mean_flops_full * batch_size * n_members[p],
            }
        )
    for proxy, d in bud.groupby("proxy", sort=False):
        rows.append(
            {
                "proxy": proxy,
                "kind": "reduced training",
                "cpu_seconds": d["cpu_seconds"].mean(),
                "wall_seconds": d["seconds"].mean(),
                "plot_seconds": d["cpu_seconds"].mean(),  # recorded with the runs
                "n_timed": len(d),
                "flops": d["train_flops"].mean(),
            }
        )
    rows.append(
        {
            "proxy": "NB201 12-epoch",
            "kind": "benchmark 12 epochs",
            "cpu_seconds": np.nan,
            "gpu_seconds": sample["train_time_12ep_s"].mean(),
            "wall_seconds": sample["train_time_12ep_s"].mean(),
            "plot_seconds": sample["train_time_12ep_s"].mean(),
            "n_timed": len(sample),
            "flops": 3 * mean_flops_full * 25_000 * 12,
        }
    )
    test_corr = corr_df[corr_df["target"] == "test_acc"].set_index("proxy")
    return pd.DataFrame(rows).join(test_corr[["rho", "lo", "hi", "n"]], on="proxy")


def ratios(table: pd.DataFrame, plan: Plan) -> tuple[dict, pd.Series]:
    """(cost ratios conventional / zero-cost, the cheapest conventional row)."""
    red = table[table["kind"] == "reduced training"]
    zero = table[table["kind"] == "zero-cost"].set_index("proxy")
    cheapest = red.loc[red["cpu_seconds"].idxmin()]
    econas_full = red.set_index("proxy").loc[plan.econas_full]
    vote_s, vote_f = zero.loc["vote", "cpu_seconds"], zero.loc["vote", "flops"]
    fraction = plan.settings[0].fraction
    return {
        "cheapest_vs_synflow_s": cheapest["cpu_seconds"]
        / zero.loc["synflow", "cpu_seconds"],
        "cheapest_vs_vote_s": cheapest["cpu_seconds"] / vote_s,
        "econas_vs_vote_s": econas_full["cpu_seconds"] / vote_s,
        "econas_vs_vote_flops": econas_full["flops"] / vote_f,
        "cheapest_vs_vote_flops": cheapest["flops"] / vote_f,
        # not run: the reference trained on all 50,000 images; cost is linear in them
        "econas_full_data_vs_vote_s_extrapolated": econas_full["cpu_seconds"]
        / fraction
        / vote_s,
        "econas_full_data_vs_vote_flops_extrapolated": econas_full["flops"]
        / fraction
        / vote_f,
    }, cheapest


def cost_summary(table, corr_df, ratio: dict, cheapest, plan: Plan, zc_names) -> str:
    zero = table[table["kind"] == "zero-cost"].set_index("proxy")
    test_rho = corr_df[corr_df["target"] == "test_acc"].set_index("proxy")["rho"]
    zc_best = test_rho.loc[zc_names].idxmax()
    return (
        f"Cheapest conventional proxy here: **{cheapest['proxy']}**, "
        f"{cheapest['cpu_seconds']:.2f} CPU s and {cheapest['flops']:.3g} FLOPs per "
        f"architecture (ρ = {cheapest['rho']:.3f}). The vote costs "
        f"{zero.loc['vote', 'cpu_seconds']:.2f} CPU s, synflow "
        f"{zero.loc['synflow', 'cpu_seconds']:.3f} CPU s: reduced training is "
        f"**{ratio['cheapest_vs_vote_s']:.0f}x** (vs the vote) to "
        f"**{ratio['cheapest_vs_synflow_s']:.0f}x** (vs synflow) more expensive in "
        f"seconds at its cheapest, and the econas setting ({plan.econas_full}) "
        f"**{ratio['econas_vs_vote_s']:.0f}x** the vote's seconds and "
        f"**{ratio['econas_vs_vote_flops']:.0f}x** its FLOPs (on all 50,000 images, "
        f"as the reference trained, "
        f"~{ratio['econas_full_data_vs_vote_s_extrapolated']:.0f}x and "
        f"~{ratio['econas_full_data_vs_vote_flops_extrapolated']:.0f}x, extrapolated "
        "linearly from the measured subset runs). Best zero-cost proxy on "
        f"these architectures: {zc_best} (ρ = {test_rho.loc[zc_best]:.3f})."
    )
