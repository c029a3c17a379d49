"""Notebook 06: zero-cost warm-up and move proposal in four searches (Abdelfattah
et al. 2021, the search speed-up experiment).

    from zclib.exhibits import search_speedup as ex
    cfg = ex.Config(max_models=300, fitness="valid_acc", accuracy="test_acc",
                    proxy="synflow", warmup_pool=3000, moves={"REA": 24, ...}, ...)
    curves, wall = ex.run(data, cfg, n_runs=100, seed=0)
    red = ex.reductions(curves, targets, cfg, n_boot=2000, seed=0, ci=0.95)
"""

from __future__ import annotations

import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import results, search
from zclib.results import ds_label

VARIANTS = ["plain", "warm-up", "move", "warm-up + move"]
EXPERIMENT = "abdelfattah2021/search_speedup"


@dataclasses.dataclass(frozen=True)
class Config:
    """The notebook's search settings (see its parameters cell)."""

    max_models: int
    fitness: str
    accuracy: str
    proxy: str
    warmup_pool: int
    move_rea: int
    move_rl: int
    move_pred: int
    rea_population: int
    rea_sample: int
    rl_lr: float
    pred_n_init: int
    pred_alpha: float
    target_quantiles: list

    def algorithms(self) -> dict:
        """name -> (search function, its settings, move-proposal size)."""
        return {
            "RS": (search.random_search, {}, 0),
            "REA": (
                search.rea,
                {"population": self.rea_population, "sample": self.rea_sample},
                self.move_rea,
            ),
            "REINFORCE": (search.reinforce, {"lr": self.rl_lr}, self.move_rl),
            "predictor": (
                search.predictor_search,
                {"n_init": self.pred_n_init, "alpha": self.pred_alpha},
                self.move_pred,
            ),
        }

    def variant_settings(self, variant: str, move: int) -> dict:
        kw = {}
        if "warm-up" in variant:
            kw["warmup"] = self.warmup_pool
        if "move" in variant:
            kw["move"] = move
        return kw

    def checkpoints(self) -> list[int]:
        """Trained-model counts at which the mean best-so-far is recorded."""
        return sorted(
            {n for n in (10, 25, 50, 100, 200, self.max_models) if n <= self.max_models}
        )


def targets(data, cfg: Config) -> dict:
    """(dataset, quantile) -> the accuracy of that quantile of all cells."""
    return {
        (ds, q): float(np.quantile(lk.acc(cfg.accuracy), q))
        for ds, lk in data.items()
        for q in cfg.target_quantiles
    }


def overview(data, cfg: Config, tgt: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": ds_label(ds),
                "scores": lk.source,
                f"NaN {cfg.proxy}": int(np.isnan(lk.raw[cfg.proxy]).sum()),
                **{f"target q={q}": tgt[ds, q] for q in cfg.target_quantiles},
                f"best {cfg.accuracy}": lk.acc(cfg.accuracy).max(),
            }
            for ds, lk in data.items()
        ]
    ).set_index("dataset")


def run(data, cfg: Config, n_runs: int, seed: int = 0) -> tuple[dict, dict]:
    """(curves, wall): best-so-far accuracy curves (runs x models) and seconds per
    (dataset, algorithm, variant)."""
    curves, wall = {}, {}
    for ds, lk in data.items():
        ev = search.Evaluator(lk.acc(cfg.fitness), max_models=cfg.max_models)
        for algo, (fn, kw, move) in cfg.algorithms().items():
            for variant in VARIANTS:
                if "move" in variant and not move:
                    continue  # random search has no proposal step
                t0 = time.perf_counter()
                tr = search.run_many(
                    fn,
                    ev,
                    n_runs,
                    seed,
                    proxy=lk.proxy[cfg.proxy],
                    **kw,
                    **cfg.variant_settings(variant, move),
                )
                wall[ds, algo, variant] = time.perf_counter() - t0
                curves[ds, algo, variant] = search.curve_by_models(
                    tr, lk.acc(cfg.accuracy), cfg.max_models
                )
    return curves, wall


def curve_table(curves: dict, wall: dict, cfg: Config) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": ds_label(ds),
                "algorithm": a,
                "variant": v,
                **{f"@{n}": c[:, n - 1].mean() for n in cfg.checkpoints()},
                "wall_s": wall[ds, a, v],
            }
            for (ds, a, v), c in curves.items()
        ]
    )


def reductions(
    curves: dict, tgt: dict, cfg: Config, n_boot: int, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """Models to reach each target per run; median(plain)/median(variant) with a
    bootstrap interval."""
    red = []
    for (ds, algo, v), c in curves.items():
        for q in cfg.target_quantiles:
            m = search.models_to_target(c, tgt[ds, q])
            base = search.models_to_target(curves[ds, algo, "plain"], tgt[ds, q])
            r = search.ratio_bootstrap(base, m, n_boot=n_boot, seed=seed, ci=ci)
            red.append(
                {
                    "dataset": ds,
                    "algorithm": algo,
                    "variant": v,
                    "quantile": q,
                    "target": tgt[ds, q],
                    "median_models": np.median(m),
                    "reached": np.isfinite(m).mean(),
                    "factor": r["ratio"],
                    "lo": r["lo"],
                    "hi": r["hi"],
                }
            )
    return pd.DataFrame(red)


def reduction_lines(red: pd.DataFrame, q0: float) -> str:
    d = red[(red["quantile"] == q0) & (red["variant"] != "plain")]
    lines = [
        f"* {ds_label(r['dataset'])}, {r['algorithm']} with {r['variant']}: "
        f"×{r['factor']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] "
        f"(median {r['median_models']:.0f} models; {r['reached']:.0%} of "
        "runs reach the target)"
        for _, r in d.iterrows()
    ]
    return f"Reduction factors, target = top {1 - q0:.0%}:\n\n" + "\n".join(lines)


def records(
    red: pd.DataFrame, curves: dict, cfg: Config, n_runs: int, ci: float, smoke: bool
) -> list[dict]:
    """numbers.json rows: models to target and reduction factors, then the mean
    best-so-far at the checkpoints."""
    smoke = "smoke run. " if smoke else ""
    rec = []
    for _, r in red.iterrows():
        si = results.is_stand_in(r["dataset"])
        note = results.stand_in_caveat(r["dataset"], "proxy scores") + smoke
        tag = f"{r['algorithm']}, {r['variant']}, top {1 - r['quantile']:.1%}"
        base = {
            "experiment": EXPERIMENT,
            "dataset": r["dataset"],
            "stand_in": si,
            "algorithm": r["algorithm"],
            "variant": r["variant"],
            "quantile": r["quantile"],
            "target": r["target"],
            "n_runs": n_runs,
        }
        rec.append(
            {
                **base,
                "metric": f"median_models_to_target({tag})",
                "value": r["median_models"],
                "reached": r["reached"],
                "note": (
                    note + f"target {cfg.accuracy} >= {r['target']:.2f}; "
                    f"{r['reached']:.0%} of runs reach it within "
                    f"{cfg.max_models} models; no published value"
                ).strip(),
            }
        )
        if r["variant"] != "plain":
            rec.append(
                {
                    **base,
                    "metric": f"reduction_factor({tag})",
                    "value": r["factor"],
                    "lo": r["lo"],
                    "hi": r["hi"],
                    "note": (
                        note + f"median(plain)/median({r['variant']}), "
                        f"{ci:.0%} bootstrap CI [{r['lo']:.2f}, "
                        f"{r['hi']:.2f}]; proxy {cfg.proxy}, pool "
                        f"{cfg.warmup_pool}"
                    ).strip(),
                }
            )
    for (ds, algo, v), c in curves.items():
        si = results.is_stand_in(ds)
        for n in cfg.checkpoints():
            rec.append(
                {
                    "experiment": EXPERIMENT,
                    "metric": f"{cfg.accuracy}_mean_at_{n}({algo}, {v})",
                    "dataset": ds,
                    "value": c[:, n - 1].mean(),
                    "stand_in": si,
                    "n_runs": n_runs,
                    "note": (
                        results.stand_in_caveat(ds, "proxy scores")
                        + smoke
                        + f"best-so-far after {n} trained models"
                    ).strip(),
                }
            )
    return rec


# -- figures ---------------------------------------------------------------------------


def curves_figure(curves: dict, data, tgt: dict, cfg: Config, datasets):
    """Mean best-so-far (25-75% band) per dataset (rows) and algorithm (columns)."""
    algos = cfg.algorithms()
    qs = cfg.target_quantiles
    fig, axes = plt.subplots(
        len(datasets),
        len(algos),
        figsize=(4.2 * len(algos), 3.3 * len(datasets)),
        sharex=True,
        squeeze=False,
    )
    x = np.arange(1, cfg.max_models + 1)
    for i, ds in enumerate(datasets):
        best = data[ds].acc(cfg.accuracy).max()
        lo = min(curves[ds, "RS", "plain"][:, 19].mean(), tgt[ds, qs[0]])
        for j, algo in enumerate(algos):
            ax = axes[i, j]
            for k, v in enumerate(VARIANTS):
                c = curves.get((ds, algo, v))
                if c is None:
                    continue
                ax.plot(x, c.mean(axis=0), color=f"C{k}", label=v)
                q25, q75 = np.percentile(c, [25, 75], axis=0)
                ax.fill_between(x, q25, q75, color=f"C{k}", alpha=0.12)
            for q in qs:
                ax.axhline(tgt[ds, q], color="0.4", ls=":", lw=1)
            ax.set_ylim(lo - 0.5, best + 0.2)
            ax.set_xscale("log")
            ax.set_title(f"{algo}: {ds_label(ds)}", fontsize=10)
            if i == len(datasets) - 1:
                ax.set_xlabel("trained models")
            if j == 0:
                ax.set_ylabel(f"{cfg.accuracy} of best-so-far (%)")
    axes[0, 1].legend(fontsize=8, title="mean, 25-75% band", title_fontsize=8)
    tops = ", ".join(f"{1 - q:.1%}" for q in qs)
    fig.suptitle(
        f"Zero-cost warm-up ({cfg.warmup_pool} cells) and move proposal with "
        f"{cfg.proxy}; dotted: targets (top {tops})"
    )
    fig.tight_layout()
    return fig


def reduction_figure(red: pd.DataFrame, cfg: Config, datasets, q0: float):
    """Reduction factor with its CI per algorithm and variant, target ``q0``."""
    d = red[(red["quantile"] == q0) & (red["variant"] != "plain")]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.8 * len(datasets), 3.8), sharey=True, squeeze=False
    )
    labels = [
        f"{a}: {v}"
        for a in cfg.algorithms()
        for v in VARIANTS[1:]
        if ((a, v) in set(zip(d["algorithm"], d["variant"], strict=True)))
    ]
    for ax, ds in zip(axes[0], datasets, strict=True):
        e = d[d["dataset"] == ds].set_index(["algorithm", "variant"])
        for y, lab in enumerate(labels):
            a, v = lab.split(": ")
            if (a, v) not in e.index:
                continue
            r = e.loc[(a, v)]
            if np.isfinite(r["factor"]):
                lo = r["lo"] if np.isfinite(r["lo"]) else r["factor"]
                hi = r["hi"] if np.isfinite(r["hi"]) else r["factor"]
                ax.errorbar(
                    r["factor"],
                    y,
                    xerr=[[r["factor"] - lo], [hi - r["factor"]]],
                    fmt="o",
                    color=f"C{VARIANTS.index(v)}",
                    capsize=3,
                )
        ax.axvline(1, color="0.4", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_title(f"{ds_label(ds)}: target top {1 - q0:.0%}", fontsize=10)
        ax.set_xlabel("reduction in trained models (×, median)")
    axes[0, 0].invert_yaxis()
    fig.tight_layout()
    return fig
