"""Notebook 04's figures: course tables beside ours, accuracy spread, Mellor rows.

from zclib.exhibits import course_search_figures as figs
fig = figs.course_figure(agg, table, cfg, datasets)  # agg, table: versus_course
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from zclib import plotting
from zclib.exhibits.course_search import ACC_LABEL, Settings, ds_label


def course_figure(agg, table, cfg: Settings, datasets):
    """Mean ± sd of the chosen cells' accuracies per setting, with the course
    project's published mean ± sd."""
    order = [cfg.label(*s) for s in cfg.searches()]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(5.0 * len(datasets), 4.6), sharey=True, squeeze=False
    )
    for ax, ds in zip(axes[0], datasets, strict=True):
        a = agg[agg["dataset"] == ds].copy()
        a["y"] = [
            order.index(cfg.label(m, p, n))
            for m, p, n in zip(a["method"], a["proxy"], a["n"], strict=True)
        ]
        ax.errorbar(
            a["acc_mean"],
            a["y"] - 0.12,
            xerr=a["acc_std"],
            fmt="o",
            color="C0",
            capsize=3,
            label=f"ours ({ACC_LABEL[cfg.accuracy]}), ±1 sd",
        )
        ax.errorbar(
            a["test_mean"],
            a["y"] + 0.12,
            xerr=a["test_std"],
            fmt="s",
            ms=4,
            color="C2",
            capsize=3,
            alpha=0.7,
            label=f"ours ({ACC_LABEL['test_acc']}), ±1 sd",
        )
        t = table[table["dataset"] == ds]
        ty = [order.index(s) for s in t["setting"]]
        ax.errorbar(
            t["published"],
            np.array(ty, float) - 0.3,
            xerr=t["published_std"],
            fmt="o",
            mfc="none",
            mec="k",
            ecolor="0.5",
            capsize=3,
            label="course project, ±1 sd",
        )
        ax.set_yticks(range(len(order)), order)
        ax.set_title(ds_label(ds))
        ax.set_xlabel("accuracy of the chosen cell (%)")
    axes[0, 0].invert_yaxis()
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(),
        loc="lower center",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(0.5, -0.04),
    )
    fig.suptitle("Training-free search (course project Tables I-V): published vs ours")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def spread_figure(runs, data, cfg: Settings, datasets, n_runs: int):
    """Box plots of the chosen cells' accuracy per setting, with the space's median
    and best."""
    order = [cfg.label(*s) for s in cfg.searches()]
    acc = cfg.accuracy
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(5.0 * len(datasets), 4.6), sharey=True, squeeze=False
    )
    for ax, ds in zip(axes[0], datasets, strict=True):
        d = runs[runs["dataset"] == ds]
        ax.boxplot(
            [d.loc[d["setting"] == s, acc] for s in order],
            vert=False,
            tick_labels=order,
            showfliers=False,
        )
        allacc = data[ds].acc(acc)
        ax.axvline(np.median(allacc), color="0.5", ls=":", label="median of the space")
        ax.axvline(allacc.max(), color="0.3", ls="--", label="best of the space")
        ax.set_title(ds_label(ds))
        ax.set_xlabel(f"{ACC_LABEL[acc]} of the chosen cell (%)")
    axes[0, 0].invert_yaxis()
    axes[0, 0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"Spread over {n_runs} runs")
    fig.tight_layout()
    return fig


def mellor_figure(mcmp, datasets):
    """Table 2a test accuracies: ours ± sd beside Mellor et al.'s."""
    methods = list(dict.fromkeys(mcmp["method"]))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.6 * len(datasets), 3.8), squeeze=False
    )
    for ax, ds in zip(axes[0], datasets, strict=True):
        d = (
            mcmp[(mcmp["dataset"] == ds) & (mcmp["accuracy"] == "test")]
            .set_index("method")
            .reindex(methods)
        )
        y = np.arange(len(methods))
        plotting.ours_beside_published(
            ax,
            y,
            d["ours"],
            d["ours_std"],
            d["published"],
            d["published_std"],
            "Mellor et al., ±1 sd",
        )
        ax.set_yticks(y, methods)
        ax.set_title(f"{ds}: test acc (200 ep)")
        ax.set_xlabel("accuracy (%)")
    axes[0, 0].invert_yaxis()
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Mellor et al. Table 2a (search on CIFAR-10 NASWOT scores)")
    fig.tight_layout()
    return fig
