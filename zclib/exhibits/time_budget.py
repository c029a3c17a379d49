"""Notebook 05: REA, random search and REINFORCE under NATS-Bench's time budgets,
and Mellor et al.'s 12,000 s rows.

    from zclib.exhibits import time_budget as ex
    fig, curves = ex.curves_figure(traces, data, budgets, algos, n_grid=100)
    rec = ex.records(final, tests, mcmp, cfg, n_runs=300, ci=0.95, smoke=False)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from zclib import search


def curves_figure(traces: dict, data, budgets: dict, algos, n_grid: int):
    """(figure, curves): mean best-so-far test accuracy (25-75% band) against
    simulated training time, where at least half the runs have an answer."""
    datasets = list(budgets)
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(5.0 * len(datasets), 4.0), squeeze=False
    )
    curves = {}
    for ax, ds in zip(axes[0], datasets, strict=True):
        grid = np.linspace(0, budgets[ds], n_grid + 1)[1:]
        for k, algo in enumerate(algos):
            c = search.curve_by_time(traces[ds, algo], data[ds].acc("test_acc"), grid)
            curves[ds, algo] = c
            with np.errstate(all="ignore"):
                ok = np.isfinite(c).mean(axis=0) >= 0.5  # half the runs have an answer
                mean = np.nanmean(c, axis=0)
                q25, q75 = np.nanpercentile(c, [25, 75], axis=0)
            ax.plot(grid[ok], mean[ok], color=f"C{k}", label=algo)
            ax.fill_between(grid[ok], q25[ok], q75[ok], color=f"C{k}", alpha=0.15)
        ax.set_title(f"{ds} (budget {budgets[ds]:,.0f} s)")
        ax.set_xlabel("simulated training time (s)")
        ax.set_ylabel("test acc (200 ep) of best-so-far cell (%)")
        lo = np.nanpercentile(curves[ds, "RS"][:, n_grid // 10], 25)
        ax.set_ylim(lo, data[ds].acc("test_acc").max() + 0.3)
    axes[0, 0].legend(title="mean, 25-75% band")
    fig.tight_layout()
    return fig, curves


def records(
    final,
    tests,
    mcmp,
    fitness: str,
    cost: str,
    mellor_budget: float,
    tolerance: float,
    n_runs: int,
    ci: float,
    smoke: bool,
) -> list[dict]:
    """numbers.json rows: the budget runs, the REA/REINFORCE - RS differences,
    Mellor et al.'s rows beside ours. No proxy scores here: never a stand-in."""
    smoke = "smoke run. " if smoke else ""
    rec = []
    for _, r in final.iterrows():
        base = {
            "experiment": "dong2021_natsbench/time_budget",
            "dataset": r["dataset"],
            "stand_in": False,
            "algorithm": r["algorithm"],
            "budget_s": r["budget_s"],
            "n_runs": int(r["runs"]),
        }
        tag = f"{r['algorithm']}, {r['budget_s']:.0f}s"
        note = (
            smoke + f"fitness {fitness}, charged {cost}; sd "
            f"{r['test_std']:.2f}; no published value in the reference file"
        )
        rec.append(
            {
                **base,
                "metric": f"test_acc_mean({tag})",
                "value": r["test_mean"],
                "note": note,
            }
        )
        rec.append(
            {
                **base,
                "metric": f"valid_acc_mean({tag})",
                "value": r["valid_mean"],
                "note": smoke + "200-epoch validation accuracy of the answer",
            }
        )
        rec.append(
            {
                **base,
                "metric": f"models_trained_mean({tag})",
                "value": r["models_mean"],
                "note": smoke + "evaluations within budget",
            }
        )
    for _, r in tests.iterrows():
        rec.append(
            {
                "experiment": "dong2021_natsbench/rea_vs_rs",
                "metric": f"delta_test_acc({r['comparison']}, {r['budget_s']:.0f}s)",
                "dataset": r["dataset"],
                "value": r["diff"],
                "stand_in": False,
                "lo": r["lo"],
                "hi": r["hi"],
                "p_value": r["p_value"],
                "n_boot": r["n_boot"],
                "note": (
                    smoke + f"{ci:.0%} bootstrap CI [{r['lo']:.3f}, "
                    f"{r['hi']:.3f}], one-sided p = {r['p_value']:.3g}, "
                    f"{r['n_a']} vs {r['n_b']} runs"
                ),
            }
        )
    for _, r in mcmp.iterrows():
        has = bool(np.isfinite(r["published"]))
        rec.append(
            {
                "experiment": "mellor2021_naswot/table2a_nb201_search",
                "metric": f"{r['accuracy']}_acc_mean({r['method']})",
                "dataset": r["dataset"],
                "value": r["ours"],
                "published": r["published"] if has else None,
                "tolerance": tolerance if has else None,
                "stand_in": False,
                "n_runs": n_runs,
                "note": (
                    smoke + f"NATS-Bench-style {r['algorithm']} on CIFAR-10, "
                    f"{mellor_budget} s, evaluated on {r['dataset']}; the "
                    "published row is NAS-Bench-201's (older release, its "
                    f"own settings); sd ours {r['ours_std']:.2f} (se "
                    f"{r['ours_std'] / np.sqrt(n_runs):.2f}), published "
                    f"{r['published_std']:.2f}"
                ),
            }
        )
    return rec
