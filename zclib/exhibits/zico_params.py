"""Notebook 02: ZiCo vs #params on NATS-Bench-TSS (Li et al. 2023, Table 3).

    from zclib.exhibits import zico_params as ex
    data = ex.load(["cifar10"], n_archs=None, seed=0)
    corr = ex.correlations(data)                 # ours beside the published values
    pb = ex.paired_bootstraps(data, n_boot=1000, seed=0, ci=0.95)

``data[ds]``: shipped scores of :data:`PROXIES` (the clean fp32 full-space tables,
the reference fisher included) with the benchmark accuracies.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import plotting, reference, results, stats
from zclib.results import ds_label

# our columns, in the order of the paper's table
PROXIES = [
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "synflow",
    "naswot",
    "flops",
    "params",
    "zico",
    "jacob_cov",
]
ACCS = {"test_acc": "test, 200 ep", "valid_acc": "valid, 200 ep"}
METRICS = {"kendall_tau": "kendall", "spearman": "spearman"}  # published -> stats
METRIC_LABEL = {"kendall_tau": "Kendall τ", "spearman": "Spearman ρ"}
SOURCE, EXHIBIT = "li2023_zico", "table3_nats_tss"
FIGURE_ORDER = [
    "zico",
    "params",
    "flops",
    "naswot",
    "synflow",
    "snip",
    "grad_norm",
    "grasp",
    "fisher",
    "jacob_cov",
]


def load(datasets, n_archs: int | None, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Per dataset, the shipped scores of :data:`PROXIES` with the accuracies."""
    return {
        ds: results.with_accuracy(
            results.load_scores(ds, PROXIES, n_archs=n_archs, seed=seed), ds
        )
        for ds in datasets
    }


def provenance(data) -> pd.DataFrame:
    """Where the scores came from and their NaN counts (columns with any)."""
    prov = pd.DataFrame(
        [
            {
                "dataset": ds_label(ds),
                "archs": len(df),
                "origin": df.attrs.get("origin"),
                "seed": results.distinct(df, "seed"),
                "batch": results.distinct(df, "batch_size"),
                "device": results.distinct(df, "device"),
                **{f"NaN {p}": int(df[p].isna().sum()) for p in PROXIES},
            }
            for ds, df in data.items()
        ]
    ).set_index("dataset")
    return prov.loc[:, (prov != 0).any()]


def correlations(data) -> pd.DataFrame:
    """Kendall τ and Spearman ρ of every proxy per (dataset, accuracy), with the
    published value (set against test_acc only) and Δ = ours - published."""
    rows = []
    for ds, df in data.items():
        for acc in ACCS:
            for metric, method in METRICS.items():
                t = stats.correlation_table(
                    df, df[acc].to_numpy(), PROXIES, method=method
                )
                rows.append(t.assign(dataset=ds, accuracy=acc, metric=metric))
    corr = pd.concat(rows, ignore_index=True).rename(columns={"rho": "ours"})
    corr = corr.merge(published(), on=["dataset", "metric", "proxy"], how="left")
    corr.loc[corr["accuracy"] != "test_acc", "published"] = np.nan  # vs test_acc
    corr["delta"] = corr["ours"] - corr["published"]
    return corr


def published() -> pd.DataFrame:
    """The paper's Table 3: dataset, metric, proxy, published."""
    pub = reference.published(SOURCE, EXHIBIT)
    return pub[["dataset", "metric", "method", "value"]].rename(
        columns={"method": "proxy", "value": "published"}
    )


def paper_layout(corr: pd.DataFrame, metric: str, datasets) -> pd.DataFrame:
    """The paper's rows in its order (jacob_cov, not in the paper, last); per
    dataset: paper, ours test, Δ, ours valid."""
    wide = reference.published_wide(SOURCE, EXHIBIT, metric=metric)
    order = [*wide.index, "jacob_cov"]
    c = corr[corr["metric"] == metric]
    ours = c.pivot_table(index="proxy", columns=["dataset", "accuracy"], values="ours")
    cols = {}
    for ds in datasets:
        p = wide[ds] if ds in wide else pd.Series(dtype=float)
        t = ours.get((ds, "test_acc"), pd.Series(dtype=float))
        v = ours.get((ds, "valid_acc"), pd.Series(dtype=float))
        cols[(ds_label(ds), "paper")] = p.reindex(order)
        cols[(ds_label(ds), "ours test")] = t.reindex(order)
        cols[(ds_label(ds), "Δ")] = t.reindex(order) - p.reindex(order)
        cols[(ds_label(ds), "ours valid")] = v.reindex(order)
    table = pd.DataFrame(cols)
    table.index = [plotting.PROXY_LABELS.get(m, m) for m in order]
    return table


def summary(corr: pd.DataFrame, tolerance: float) -> str:
    """How many published correlations are within the tolerance; the worst."""
    cmp = corr.dropna(subset=["published"])
    within = results.compare(cmp["ours"], cmp["published"], tolerance)
    worst = cmp.loc[cmp["delta"].abs().idxmax()] if len(cmp) else None
    text = (
        f"{int(within.sum())} of {len(cmp)} published correlations are reproduced "
        f"within ±{tolerance} (ours vs test accuracy). "
    )
    if worst is not None:
        text += (
            f"Largest difference: {worst['proxy']} {worst['metric']} on "
            f"{ds_label(worst['dataset'])}: ours {worst['ours']:.3f} vs "
            f"{worst['published']:.2f}."
        )
    return text


def paired_bootstraps(
    data, n_boot: int, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """Δ = stat(ZiCo) - stat(#params) on the same resamples, per (dataset, accuracy,
    metric), with the published Δ (the two printed values' difference; test_acc)."""
    rows = []
    for ds, df in data.items():
        for acc in ACCS:
            for metric, method in METRICS.items():
                r = stats.paired_bootstrap(
                    df["zico"].to_numpy(),
                    df["params"].to_numpy(),
                    df[acc].to_numpy(),
                    stat=method,
                    n_boot=n_boot,
                    seed=seed,
                    ci=ci,
                )
                rows.append({"dataset": ds, "accuracy": acc, "metric": metric, **r})
    pb = pd.DataFrame(rows).rename(columns={"stat1": "zico", "stat2": "params"})
    pw = published().pivot_table(
        index=["dataset", "metric"], columns="proxy", values="published"
    )
    pb = pb.join(
        (pw["zico"] - pw["params"]).rename("published_delta"), on=["dataset", "metric"]
    )
    pb.loc[pb["accuracy"] != "test_acc", "published_delta"] = np.nan
    return pb


def bootstrap_table(pb: pd.DataFrame) -> pd.DataFrame:
    show = pb.assign(
        dataset=pb["dataset"].map(ds_label), metric=pb["metric"].map(METRIC_LABEL)
    )
    return show[
        [
            "dataset",
            "metric",
            "accuracy",
            "zico",
            "params",
            "delta",
            "lo",
            "hi",
            "p_value",
            "published_delta",
            "n",
            "n_boot",
        ]
    ]


def verdicts(pb: pd.DataFrame) -> str:
    """One Markdown line per (dataset, metric) against the test accuracy."""
    lines = []
    for _, r in pb[pb["accuracy"] == "test_acc"].iterrows():
        verdict = stats.ci_verdict(r["lo"], r["hi"])
        lines.append(
            f"* {ds_label(r['dataset'])}, {METRIC_LABEL[r['metric']]}: ZiCo "
            f"{verdict} #params, Δ = {r['delta']:+.3f} "
            f"[{r['lo']:+.3f}, {r['hi']:+.3f}], p = {r['p_value']:.3g} "
            f"(paper Δ = {r['published_delta']:+.2f})."
        )
    head = "Against the 200-epoch test accuracy ('ties': the interval holds 0):"
    return head + "\n\n" + "\n".join(lines)


def records(
    corr: pd.DataFrame, pb: pd.DataFrame, tolerance: float, ci: float
) -> list[dict]:
    """numbers.json rows: every correlation, then every paired-bootstrap Δ."""
    rows = []
    for _, r in corr.iterrows():
        has_pub = bool(np.isfinite(r["published"]))
        si = results.is_stand_in(r["dataset"])
        note = results.stand_in_caveat(r["dataset"])
        if has_pub:
            note += (
                "paper's accuracy split not stated; ours vs 200-epoch test accuracy."
            )
        rows.append(
            {
                "experiment": f"{SOURCE}/{EXHIBIT}",
                "metric": f"{r['metric']}({r['proxy']}, {r['accuracy']})",
                "dataset": r["dataset"],
                "value": r["ours"],
                "published": r["published"] if has_pub else None,
                "tolerance": tolerance if has_pub else None,
                "stand_in": si,
                "note": note.strip(),
                "proxy": r["proxy"],
                "accuracy": r["accuracy"],
                "n": r["n"],
                "n_nan": r["n_nan"],
            }
        )
    for _, r in pb.iterrows():
        has_pub = bool(np.isfinite(r["published_delta"]))
        si = results.is_stand_in(r["dataset"])
        rows.append(
            {
                "experiment": f"{SOURCE}/zico_vs_params_paired_bootstrap",
                "metric": f"delta_{r['metric']}(zico - params, {r['accuracy']})",
                "dataset": r["dataset"],
                "value": r["delta"],
                "published": r["published_delta"] if has_pub else None,
                "tolerance": tolerance if has_pub else None,
                "stand_in": si,
                "note": (
                    results.stand_in_caveat(r["dataset"])
                    + f"{ci:.0%} CI [{r['lo']:.3f}, {r['hi']:.3f}], one-sided p = "
                    f"{r['p_value']:.3g}, {r['n_boot']} paired resamples"
                    + (
                        "; published = difference of the two printed values"
                        if has_pub
                        else ""
                    )
                ),
                "lo": r["lo"],
                "hi": r["hi"],
                "p_value": r["p_value"],
                "n": r["n"],
                "n_boot": r["n_boot"],
                "accuracy": r["accuracy"],
            }
        )
    return rows


# -- figures ---------------------------------------------------------------------------


def table3_figure(corr: pd.DataFrame, datasets):
    """Per metric and dataset: paper (open circle), ours vs test (dot) and vs
    valid (triangle) for every proxy."""
    order = [p for p in FIGURE_ORDER if p in set(corr["proxy"])]
    fig, axes = plt.subplots(
        2,
        len(datasets),
        figsize=(4.2 * len(datasets), 8.5),
        sharex="row",
        sharey=True,
        squeeze=False,
    )
    for i, metric in enumerate(METRICS):
        for j, ds in enumerate(datasets):
            ax = axes[i, j]
            c = corr[(corr["metric"] == metric) & (corr["dataset"] == ds)]
            for y, p in enumerate(order):
                t = c[(c["proxy"] == p) & (c["accuracy"] == "test_acc")]
                v = c[(c["proxy"] == p) & (c["accuracy"] == "valid_acc")]
                pv = t["published"].iloc[0] if len(t) else np.nan
                if len(t) and np.isfinite(pv):
                    ax.plot(
                        [pv, t["ours"].iloc[0]], [y, y], color="0.6", lw=1, zorder=1
                    )
                    ax.scatter(
                        pv,
                        y,
                        s=60,
                        facecolors="none",
                        edgecolors="k",
                        zorder=3,
                        label="paper" if y == 0 else None,
                    )
                if len(t):
                    ax.scatter(
                        t["ours"],
                        [y],
                        s=45,
                        color="C0",
                        zorder=4,
                        label="ours, test" if y == 0 else None,
                    )
                if len(v):
                    ax.scatter(
                        v["ours"],
                        [y],
                        s=25,
                        marker="^",
                        color="0.35",
                        zorder=2,
                        label="ours, valid" if y == 0 else None,
                    )
            ax.set_yticks(
                range(len(order)), [plotting.PROXY_LABELS.get(p, p) for p in order]
            )
            ax.set_title(f"{ds_label(ds)}: {METRIC_LABEL[metric]}", fontsize=11)
            ax.set_xlabel(METRIC_LABEL[metric])
    axes[0, 0].invert_yaxis()  # shared: first method on top everywhere
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(0.5, -0.02),
    )
    fig.suptitle("Li et al. 2023, Table 3 (NATS-Bench-TSS): published vs reproduced")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def bootstrap_figure(pb: pd.DataFrame, ci: float):
    """Δ (ZiCo - #params) with its CI per dataset, both targets, and the paper's."""
    fig, axes = plt.subplots(
        1, len(METRICS), figsize=(5.2 * len(METRICS), 4.2), sharey=True, squeeze=False
    )
    offsets = {"test_acc": -0.12, "valid_acc": 0.12}
    acc_colors = {"test_acc": "C0", "valid_acc": "C1"}
    for ax, metric in zip(axes[0], METRICS, strict=True):
        for acc, dx in offsets.items():
            d = pb[(pb["metric"] == metric) & (pb["accuracy"] == acc)]
            x = np.arange(len(d)) + dx
            ax.errorbar(
                x,
                d["delta"],
                yerr=[d["delta"] - d["lo"], d["hi"] - d["delta"]],
                fmt="o",
                capsize=4,
                color=acc_colors[acc],
                label=f"ours ({ACCS[acc]}), {ci:.0%} CI",
            )
        d = pb[(pb["metric"] == metric) & (pb["accuracy"] == "test_acc")]
        ax.scatter(
            np.arange(len(d)) - 0.12,
            d["published_delta"],
            marker="D",
            facecolors="none",
            edgecolors="k",
            s=55,
            zorder=5,
            label="paper",
        )
        ax.axhline(0, color="0.3", lw=1, ls="--")
        ax.set_xticks(
            range(len(d)), [ds_label(ds).replace(" (", "\n(") for ds in d["dataset"]]
        )
        ax.set_title(f"Δ {METRIC_LABEL[metric]} = ZiCo − #params")
    axes[0, 0].set_ylabel("Δ = stat(ZiCo) − stat(#params)")
    axes[0, 0].legend(loc="best", fontsize=9)
    fig.tight_layout()
    return fig
