"""Notebook 01's figures: heat map, scatter grid, reproduced vs published.

from zclib.exhibits import spearman_nb201_figures as figs
fig = figs.heatmap(corr)   # corr: spearman_nb201.correlations(...)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import plotting, results
from zclib.exhibits.spearman_nb201 import FISH, LABELS, PAPER, SCORES, TARGETS

BOUNDED = {"vote", "valid_acc_12ep"}  # scores on a fixed scale: always a linear axis


def heatmap(corr: pd.DataFrame):
    """Signed ρ vs test accuracy of every score, all cells and top-10%."""
    datasets = list(corr["dataset"].cat.categories)
    heat = corr[corr["target"] == "test_acc"].pivot(
        index="proxy", columns=["dataset", "subset"], values="rho"
    )
    heat = heat.reindex(
        columns=pd.MultiIndex.from_product([datasets, ["all", "top10"]])
    )
    heat.index = [LABELS.get(p, p) for p in heat.index]
    heat.columns = [
        f"{d}\n{'(stand-in)' if results.is_stand_in(d) else ''}\n{s}"
        for d, s in heat.columns
    ]
    return plotting.rho_heatmap(
        heat,
        "Spearman ρ vs 200-epoch test acc",
        "Spearman ρ over all cells and the top-10% by test accuracy",
    )


def scatter(ds: str, tabs, fish, corr: pd.DataFrame):
    """One hexbin panel per score against 200-epoch test accuracy."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    ncol = 5
    nrow = -(-len(SCORES) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol, 2.7 * nrow), sharey=True)
    for ax, p in zip(axes.flat, SCORES, strict=False):
        src = fish[ds] if p in FISH else tabs[ds]
        r = allc.loc[(ds, "test_acc", p)]
        x, y = src[p].to_numpy(dtype=float), src["test_acc"].to_numpy(dtype=float)
        plotting.hexpanel(ax, x, y, p, r["rho"], int(r["n"]), LABELS.get(p, p), BOUNDED)
    for ax in axes.flat[len(SCORES) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("test acc, 200 ep (%)")
    title = f"{ds}: scores vs 200-epoch test accuracy"
    stand_in = results.is_stand_in(ds)
    if stand_in:
        title += " — proxies computed on STAND-IN images"
    fig.suptitle(title, y=1.0, color="crimson" if stand_in else "black")
    fig.tight_layout()
    return fig


def published_figure(
    corr: pd.DataFrame,
    vote_table: pd.DataFrame,
    pub_wide: pd.DataFrame,
    pub_vote: pd.Series,
    tolerance: float,
    n_fisher: int,
):
    """|ρ| of the paper's proxies and the vote agreement, ours (both targets, 95%
    CIs) against the published value and its ±tolerance band, per dataset."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    datasets = list(corr["dataset"].cat.categories)
    items = PAPER + ["vote"]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(5.2 * len(datasets), 4.2), sharey=True, squeeze=False
    )
    xs = np.arange(len(items))
    for ax, ds in zip(axes[0], datasets, strict=True):
        stand_in = results.is_stand_in(ds)
        pubs = [pub_wide.loc[p, ds] for p in PAPER] + [pub_vote.get(ds, np.nan)]
        plotting.published_band(
            ax,
            xs,
            pubs,
            None if stand_in else tolerance,
            label="published" + ("" if stand_in else f" (±{tolerance} band)"),
        )
        for k, (target, colour) in enumerate((("test_acc", "C0"), ("valid_acc", "C1"))):
            vals, los, his = [], [], []
            for p in PAPER:
                r = allc.loc[(ds, target, p)]
                vals.append(r["abs_rho"])
                los.append(r["abs_rho"] - r["abs_lo"])
                his.append(r["abs_hi"] - r["abs_rho"])
            vals.append(vote_table.loc[(ds, target), "vote (abdelfattah)"])
            los.append(0)
            his.append(0)
            ax.errorbar(
                xs + (k - 0.5) * 0.22,
                vals,
                yerr=[los, his],
                fmt="o",
                ms=5,
                color=colour,
                capsize=3,
                zorder=4,
                label=f"ours vs {TARGETS[target]}",
            )
        ax.axvline(len(PAPER) - 0.5, color="0.4", ls="--", lw=1)
        ax.set_xticks(
            xs,
            [LABELS.get(p, p) if p != "vote" else "vote\n(agreement)" for p in items],
            rotation=35,
            ha="right",
        )
        ax.set_title(
            ds + (" (stand-in images)" if stand_in else ""),
            color="crimson" if stand_in else "black",
        )
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("|Spearman ρ|  /  pairwise agreement")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        bbox_to_anchor=(0.5, -0.12),
        frameon=False,
    )
    fig.suptitle(
        "Abdelfattah et al. 2021, NB201 Spearman table: reproduced vs "
        f"published (fisher on the foresight network: {n_fisher:,} cells)",
        y=1.02,
    )
    fig.tight_layout()
    return fig
