"""Notebook 07's figures: correlation against cost, reduced vs 200-epoch accuracy,
the sanity run's training curve.

    from zclib.exhibits import econas_figures as figs
    fig = figs.correlation_vs_cost(table, plan)   # table: econas_costs.costs(...)

No figure reads a clock: the seconds plotted are recorded ones (``plot_seconds``
of :func:`zclib.exhibits.econas_costs.costs`).
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np

from zclib import plotting


def colors(plan) -> dict:
    return {s.name: f"C{i}" for i, s in enumerate(plan.settings)}


def _yerr(d) -> np.ndarray:
    """(2, n) error bar lengths below / above rho, as arrays (a one-row Series
    makes matplotlib warn: float() of a Series is deprecated)."""
    return np.vstack([(d["rho"] - d["lo"]).to_numpy(), (d["hi"] - d["rho"]).to_numpy()])


def _label(ax, placed: list, text: str, xy, **kw) -> None:
    """Annotate ``xy`` to its right, or to its left when an earlier label of this
    panel (``placed``, appended to) sits within a label's height and a factor 1.6
    in x (log axis): neighbouring points such as snip and grad_norm then stay
    readable."""
    x, y = float(xy[0]), float(xy[1])
    near = any(abs(np.log10(x / px)) < 0.2 and abs(y - py) < 0.05 for px, py in placed)
    placed.append((x, y))
    ax.annotate(
        text,
        (x, y),
        textcoords="offset points",
        xytext=(-5, -3) if near else (5, -3),
        ha="right" if near else "left",
        fontsize=8,
        **kw,
    )


def correlation_vs_cost(table, plan, ref=None):
    """ρ vs 200-epoch test accuracy against seconds (left) and FLOPs (right) per
    architecture; lines join one setting's epoch budgets.

    The seconds are ``plot_seconds``: the recorded runs' CPU seconds (reduced
    training), the committed speed benchmark's (zero-cost; 2 threads, wall) and
    the benchmark's GPU seconds (12 epochs), never the timing of this run.

    Args:
        table: :func:`zclib.exhibits.econas_costs.costs`.
        plan: the notebook's plan.
        ref: issue 17's reference-recipe runs,
            :func:`zclib.exhibits.econas.reference_correlations` (its test-accuracy
            rows are drawn, one dashed line per setting, at their recorded CPU
            seconds and FLOPs per cell); None or empty: none.

    Returns:
        The figure.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    col = colors(plan)
    ref = None if ref is None or not len(ref) else ref[ref["target"] == "test_acc"]
    ref_x = {"plot_seconds": "cpu_s_per_cell", "flops": "flops_per_cell"}
    for ax, xcol in zip(axes, ["plot_seconds", "flops"], strict=True):
        placed: list[tuple[float, float]] = []  # this panel's labels so far
        for i, (name, d) in enumerate(() if ref is None else ref.groupby("setting")):
            d = d.sort_values("budget")
            c = f"C{len(plan.settings) + i}"
            ax.errorbar(
                d[ref_x[xcol]],
                d["rho"],
                yerr=_yerr(d),
                fmt="--D",
                color=c,
                capsize=3,
                ms=5,
                label=f"{name}, reference recipe (n={int(d['n'].max())})",
            )
            for _, r in d[d["budget"] == d["budget"].max()].iterrows():
                _label(
                    ax, placed, f"@{r['budget']}", (r[ref_x[xcol]], r["rho"]), color=c
                )
        for s in plan.settings:
            d = table[table["proxy"].str.startswith(s.name + "@")].copy()
            d = d.assign(b=d["proxy"].str.split("@").str[1].astype(int)).sort_values(
                "b"
            )
            ax.errorbar(
                d[xcol],
                d["rho"],
                yerr=_yerr(d),
                fmt="-o",
                color=col[s.name],
                capsize=3,
                ms=5,
                label=f"{s.name} (n={int(d['n'].max())})",
            )
            last = d.iloc[-1]
            _label(
                ax,
                placed,
                f"@{last['proxy'].split('@')[1]}",
                (last[xcol], last["rho"]),
                color=col[s.name],
            )
        z = table[table["kind"] == "zero-cost"]
        ax.errorbar(
            z[xcol],
            z["rho"],
            yerr=_yerr(z),
            fmt="*",
            color="k",
            ms=9,
            capsize=3,
            label=f"zero-cost (n={len(plan.archs)})"
            + (", s: speed bench" if xcol == "plot_seconds" else ""),
        )
        for _, r in z.iterrows():  # by name on the seconds panel only (FLOPs coincide)
            if xcol == "plot_seconds" or r["proxy"] == "vote":
                name = plotting.PROXY_LABELS.get(r["proxy"], r["proxy"])
                _label(ax, placed, name, (r[xcol], r["rho"]))
        b = table[table["kind"] == "benchmark 12 epochs"].iloc[0]
        bx = b["gpu_seconds"] if xcol == "plot_seconds" else b["flops"]
        ax.errorbar(
            [bx],
            [b["rho"]],
            yerr=[[b["rho"] - b["lo"]], [b["hi"] - b["rho"]]],
            fmt="s",
            mfc="none" if xcol == "plot_seconds" else "C7",
            mec="C7",
            color="C7",
            capsize=3,
            label="NB201 12 epochs" + (" (GPU s)" if xcol == "plot_seconds" else ""),
        )
        ax.set_xscale("log")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xlabel(
            "seconds per architecture (training: CPU s, 1 thread)"
            if xcol == "plot_seconds"
            else "FLOPs per architecture"
        )
    axes[0].set_ylabel("Spearman ρ vs 200-epoch test accuracy")
    for ax in axes:  # the paper's two values, named in the legend (no text to collide)
        ax.axhline(0.61, color="C3", ls=":", lw=1, label="paper: EcoNAS 0.61")
        ax.axhline(0.82, color="k", ls=":", lw=1, label="paper: best zero-cost 0.82")
    axes[0].legend(fontsize=8, loc="lower left")  # the empty corner
    fig.suptitle(
        "Reduced training vs zero-cost proxies, NAS-Bench-201 CIFAR-10 "
        f"(K = {len(plan.archs)} / {plan.n_other})"
    )
    fig.tight_layout()
    return fig


def reduced_vs_200(bud, corr_df, plan):
    """Accuracy after reduced training vs after 200 epochs, per setting."""
    test_corr = corr_df[corr_df["target"] == "test_acc"].set_index("proxy")
    col = colors(plan)
    fig, axes = plt.subplots(
        1, len(plan.settings), figsize=(3.3 * len(plan.settings), 3.2), squeeze=False
    )
    for ax, s in zip(axes[0], plan.settings, strict=True):
        d = bud[bud["proxy"] == f"{s.name}@{s.epochs}"]
        ax.scatter(d["acc"], d["test_acc_200"], s=14, color=col[s.name])
        r = test_corr.loc[f"{s.name}@{s.epochs}"]
        ax.set_title(f"{s.name}: ρ = {r['rho']:.2f}", fontsize=10)
        ax.set_xlabel("test acc after reduced training (%)")
    axes[0, 0].set_ylabel("test acc, 200 epochs (%)")
    fig.tight_layout()
    return fig


def sanity_curve(best, sanity, setting: str):
    """Test accuracy after every epoch of the sanity run."""
    curve = {int(k): v for k, v in json.loads(sanity["curve"]).items()}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(list(curve), list(curve.values()), "-o", label=setting)
    ax.axhline(10, color="0.4", ls="--", lw=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"best cell (200-ep test {best['test_acc']:.1f}%)", fontsize=10)
    ax.legend()
    fig.tight_layout()
    return fig
