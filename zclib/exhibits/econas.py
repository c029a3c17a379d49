"""Notebook 07: reduced training (EcoNAS-style) against zero-cost proxies
(Abdelfattah et al. 2021, Figure 1 and the abstract's numbers).

    from zclib.exhibits import econas as ex
    plan = ex.Plan.make(settings=["r8c4e20f0.1"], n_archs=60, ..., smoke=False, out=OUT)
    runs, n_new = ex.train_runs(plan, seed=0, device="cpu", threads=1)

Reduced-training runs come from the shipped sweep table and a resumable cache;
what they lack is trained (``train.sweep``). The zero-cost proxies are read from
the shipped score tables and timed here on a few cells (``train.time_zero_cost``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from zclib import proxies as zp
from zclib import results, space, stats, train
from zclib.paths import RESULTS_DIR as ROOT

TARGETS = {"test_acc": "test, 200 ep", "valid_acc": "valid, 200 ep (paper's)"}
EXPERIMENT = "abdelfattah2021/econas_vs_zero_cost"
NOTE_RED = (
    "reduced training measured here: 10% of the training images, batch 256, "
    "cosine over the setting's own epochs; K small, see CI"
)


@dataclasses.dataclass
class Plan:
    """Which runs and timings this notebook needs (the smoke sizes applied)."""

    settings: list  # train.Setting, the first is econas, the last econas+
    archs: list  # the sample, first setting and zero-cost rows
    n_other: int  # prefix of archs for the middle settings
    n_plus: int  # prefix of archs for the last setting
    n_time: int  # archs whose zero-cost scoring is timed
    zc_timed: list  # proxies timed
    eval_epochs: list
    sanity_setting: str
    sanity_eval_epochs: list
    scratch: Path  # where runs trained now are cached
    shipped: Path  # the shipped sweep table

    @classmethod
    def make(
        cls,
        settings,
        n_archs,
        n_other,
        n_plus,
        n_time,
        zc_proxies,
        eval_epochs,
        sanity_setting,
        sanity_eval_epochs,
        train_table,
        smoke: bool,
        out: Path,
        seed: int = 0,
    ) -> Plan:
        if smoke:  # tiny sizes; new runs go to the (temporary) output folder only
            settings = ["r8c4e1f0.01", "r8c8e1f0.01"]
            zc_timed = ["synflow"]
            eval_epochs, sanity_setting, sanity_eval_epochs = [], "r8c4e2f0.02", [1]
            n_archs, n_other, n_time = min(n_archs, 4), min(n_other, 3), 1
            n_plus = min(n_plus, 3)
            scratch = Path(out) / "train_runs.parquet"
        else:  # runs the shipped table lacks: cached (git-ignored) in results/cache
            scratch = ROOT / "cache" / "train" / "econas_cifar10.parquet"
            zc_timed = zc_proxies
        shipped = train.TABLE if train_table is None else Path(train_table)
        return cls(
            [train.Setting.parse(s) for s in settings],
            space.sample(n_archs, seed),
            min(n_other, n_archs),
            min(n_plus, n_archs),
            n_time,
            list(zc_timed),
            list(eval_epochs),
            sanity_setting,
            list(sanity_eval_epochs),
            scratch,
            shipped,
        )

    @property
    def read_from(self) -> list[Path]:
        """Tables read before anything is trained."""
        return [self.shipped] if self.shipped.exists() else []

    @property
    def econas(self) -> str:
        return self.settings[0].name

    @property
    def econas_full(self) -> str:
        """The econas setting at its full epoch budget."""
        return f"{self.settings[0].name}@{self.settings[0].epochs}"


def train_runs(
    plan: Plan, seed: int = 0, device: str = "cpu", threads: int = 1
) -> tuple[pd.DataFrame, int]:
    """(runs, how many were trained now): the first setting on every arch, the
    middle ones on the ``n_other`` prefix, the last on the ``n_plus`` prefix."""
    s, a = plan.settings, plan.archs
    kw = dict(
        seeds=[seed],
        out=plan.scratch,
        read_from=plan.read_from,
        device=device,
        threads=threads,
        eval_epochs=plan.eval_epochs,
    )
    runs = pd.concat(
        [
            train.sweep(a, s[:1], **kw),
            train.sweep(a[: plan.n_other], s[1:-1], **kw),
            train.sweep(a[: plan.n_plus], s[1:][-1:], **kw),
        ],
        ignore_index=True,
    )
    return runs, int((~runs["cached"].astype(bool)).sum())


def run_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting: archs, accuracy, cost per arch, images and epochs (ints: the
    runs table stores them as floats)."""
    df = runs.groupby("setting", sort=False).agg(
        archs=("arch_str", "size"),
        test_acc_mean=("test_acc", "mean"),
        test_acc_max=("test_acc", "max"),
        cpu_s_per_arch=("cpu_seconds", "mean"),
        wall_s_per_arch=("seconds", "mean"),
        train_flops_per_arch=("train_flops", "mean"),
        images=("n_train", "first"),
        epochs=("epochs", "first"),
    )
    return df.astype({"images": "Int64", "epochs": "Int64"})


def inputs(
    runs, plan: Plan, acc_table, zc_proxies, seed: int = 0, batch_size: int = 64
):
    """(bud, sample, zc): reduced-training accuracy per epoch budget with the
    200-epoch accuracies, the benchmark rows of the sample, and the shipped
    zero-cost scores (oriented: higher predicts better) with their vote."""
    bud = train.budgets(runs).join(
        acc_table[["test_acc", "valid_acc"]].add_suffix("_200"), on="index"
    )
    sample = acc_table.reset_index().set_index("arch_str").loc[plan.archs].reset_index()
    zc = results.load_scores(
        "cifar10", zc_proxies, n_archs=len(plan.archs), seed=seed, batch_size=batch_size
    )
    zc = zc.set_index("arch_str").loc[plan.archs].reset_index()
    for p in zc_proxies:
        zc[p] = zc[p] * zp.get(p).direction
    zc["vote"] = stats.vote_score(zc)
    return bud, sample, zc


def corr(x, y, n_boot: int, seed: int = 0, ci: float = 0.95) -> dict:
    rho, lo, hi = stats.bootstrap_ci(
        np.asarray(x, float),
        np.asarray(y, float),
        "spearman",
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )
    return {
        "rho": rho,
        "lo": lo,
        "hi": hi,
        "n": int(np.isfinite(np.asarray(x, float)).sum()),
    }


def correlations(
    bud, sample, zc, zc_names, n_boot: int, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """Spearman ρ (bootstrap CI) of every proxy with both 200-epoch targets."""
    rows = []
    for proxy, d in bud.groupby("proxy", sort=False):
        for t in TARGETS:
            rows.append(
                {
                    "proxy": proxy,
                    "kind": "reduced training",
                    "setting": d["setting"].iloc[0],
                    "budget": d["budget"].iloc[0],
                    "epochs": d["epochs"].iloc[0],
                    "target": t,
                    **corr(d["acc"], d[f"{t}_200"], n_boot, seed, ci),
                }
            )
    for t in TARGETS:
        rows.append(
            {
                "proxy": "NB201 12-epoch",
                "kind": "benchmark 12 epochs",
                "target": t,
                **corr(sample["valid_acc_12ep"], sample[t], n_boot, seed, ci),
            }
        )
        for p in zc_names:
            rows.append(
                {
                    "proxy": p,
                    "kind": "zero-cost",
                    "target": t,
                    **corr(zc[p], sample[t], n_boot, seed, ci),
                }
            )
    return pd.DataFrame(rows)


def correlation_table(corr_df: pd.DataFrame) -> pd.DataFrame:
    """:func:`correlations` wide, as the notebook shows it: rho, lo, hi, n per
    target, one row per (kind, proxy); ``n`` stays an int (a pivot's mean would
    turn it into a float).

    Args:
        corr_df: :func:`correlations`.

    Returns:
        Columns (statistic, target), index (kind, proxy) in corr_df's order.
    """
    wide = corr_df.pivot_table(
        index=["kind", "proxy"],
        columns="target",
        values=["rho", "lo", "hi", "n"],
        aggfunc="first",  # one row per (kind, proxy, target)
        sort=False,
    )
    return wide.astype({c: "Int64" for c in wide.columns if c[0] == "n"})


def reference_correlations(
    runs: pd.DataFrame,
    acc_table: pd.DataFrame,
    n_boot: int,
    seed: int = 0,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Spearman ρ (bootstrap CI, its half-width) of every (reference-recipe
    setting, recorded epoch) of issue 17's job (``train.job``) with both 200-epoch
    targets; empty where the job has no runs yet.

    Args:
        runs: the job's runs (``train.load_table(train.job.OUT)``).
        acc_table: the benchmark table (``test_acc``, ``valid_acc`` by index).
        n_boot, seed, ci: the bootstrap.

    Returns:
        Rows proxy (``<setting>@<epoch>``), setting, budget, target, rho, lo, hi,
        n, half_width, cpu_s_per_cell and flops_per_cell (the cost of stopping at
        that epoch: :func:`zclib.train.budgets`).
    """
    if not len(runs):
        return pd.DataFrame(
            columns=["proxy", "setting", "budget", "target", "rho", "lo", "hi", "n"]
            + ["half_width", "cpu_s_per_cell", "flops_per_cell"]
        )
    bud = train.budgets(runs).join(
        acc_table[["test_acc", "valid_acc"]].add_suffix("_200"), on="index"
    )
    rows = []
    for proxy, d in bud.groupby("proxy", sort=False):
        for t in TARGETS:
            c = corr(d["acc"], d[f"{t}_200"], n_boot, seed, ci)
            rows.append(
                {
                    "proxy": proxy,
                    "setting": d["setting"].iloc[0],
                    "budget": int(d["budget"].iloc[0]),
                    "target": t,
                    **c,
                    "half_width": (c["hi"] - c["lo"]) / 2,
                    "cpu_s_per_cell": float(d["cpu_seconds"].mean()),
                    "flops_per_cell": float(d["train_flops"].mean()),
                }
            )
    return pd.DataFrame(rows)


def on_common(
    bud, sample, zc, zc_names, common, n_boot: int, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """ρ vs 200-epoch test accuracy of every proxy on the common prefix."""
    rows = []
    for proxy, d in bud[bud["arch_str"].isin(common)].groupby("proxy", sort=False):
        rows.append(
            {"proxy": proxy, **corr(d["acc"], d["test_acc_200"], n_boot, seed, ci)}
        )
    sc, zcc = sample[sample["arch_str"].isin(common)], zc[zc["arch_str"].isin(common)]
    rows.append(
        {
            "proxy": "NB201 12-epoch",
            **corr(sc["valid_acc_12ep"], sc["test_acc"], n_boot, seed, ci),
        }
    )
    for p in zc_names:
        rows.append({"proxy": p, **corr(zcc[p], sc["test_acc"], n_boot, seed, ci)})
    return pd.DataFrame(rows)


def sanity_run(
    plan: Plan, acc_table, seed: int = 0, device: str = "cpu", threads: int = 1
) -> tuple[pd.Series, pd.Series]:
    """(best cell's benchmark row, its run at the sanity setting)."""
    best = acc_table.loc[acc_table["test_acc"].idxmax()]
    sanity = train.sweep(
        [best["arch_str"]],
        [train.Setting.parse(plan.sanity_setting)],
        seeds=[seed],
        out=plan.scratch,
        read_from=plan.read_from,
        device=device,
        threads=threads,
        eval_epochs=plan.sanity_eval_epochs,
    ).iloc[0]
    return best, sanity


def records(
    corr_df,
    table,
    ratio: dict,
    cheapest,
    best,
    sanity,
    plan: Plan,
    published: pd.Series,
    zc_names,
    tolerance: float,
    ci: float,
    smoke: bool,
) -> list[dict]:
    """numbers.json rows: every ρ (the econas point and the best zero-cost proxy
    against the abstract's numbers), costs, cost ratios, the sanity run."""
    rec = []
    for _, r in corr_df.iterrows():
        is_econas = r["proxy"] == plan.econas_full and not smoke
        has_pub = is_econas and r["target"] == "test_acc"
        rec.append(
            {
                "experiment": EXPERIMENT,
                "metric": f"spearman({r['proxy']}, {r['target']})",
                "dataset": "cifar10",
                "value": r["rho"],
                "published": float(published["econas"]) if has_pub else None,
                "tolerance": tolerance if has_pub else None,
                "stand_in": False,
                "note": (
                    f"{ci:.0%} CI [{r['lo']:.3f}, {r['hi']:.3f}], K = {r['n']}; "
                    + (NOTE_RED if r["kind"] == "reduced training" else r["kind"])
                    + (
                        "; paper's econas point: r8c4, epoch 20 of 40, full data, "
                        "cifar10-valid target"
                        if has_pub
                        else ""
                    )
                ),
                "proxy": r["proxy"],
                "kind": r["kind"],
                "accuracy": r["target"],
                "lo": r["lo"],
                "hi": r["hi"],
                "n": r["n"],
            }
        )
    best_row = corr_df[
        (corr_df["target"] == "test_acc") & corr_df["proxy"].isin(zc_names)
    ]
    best_row = best_row.loc[best_row["rho"].idxmax()]
    rec.append(
        {
            "experiment": EXPERIMENT,
            "metric": "spearman(best zero-cost, test_acc)",
            "dataset": "cifar10",
            "value": best_row["rho"],
            "published": float(published["best_zero_cost"]),
            "tolerance": tolerance,
            "stand_in": False,
            "proxy": best_row["proxy"],
            "note": (
                f"best of {zc_names} on the same K = {best_row['n']} archs: "
                f"{best_row['proxy']}, {ci:.0%} CI [{best_row['lo']:.3f}, "
                f"{best_row['hi']:.3f}]; paper: full space, cifar10-valid target"
            ),
            "lo": best_row["lo"],
            "hi": best_row["hi"],
            "n": best_row["n"],
        }
    )
    for _, r in table.iterrows():
        for col, unit in [
            ("cpu_seconds", "CPU s"),
            ("flops", "FLOPs"),
            ("gpu_seconds", "GPU s (benchmark)"),
        ]:
            if col in r and pd.notna(r[col]):
                rec.append(
                    {
                        "experiment": "abdelfattah2021/cost_per_arch",
                        "metric": f"{col}({r['proxy']})",
                        "dataset": "cifar10",
                        "value": r[col],
                        "stand_in": False,
                        "kind": r["kind"],
                        "note": f"{unit} per architecture, mean over {r['n_timed']}",
                    }
                )
    for k, v in ratio.items():
        rec.append(
            {
                "experiment": "abdelfattah2021/cost_ratio",
                "metric": k,
                "dataset": "cifar10",
                "value": v,
                "stand_in": False,
                "note": "conventional / zero-cost cost per architecture, measured "
                f"here; cheapest conventional = {cheapest['proxy']}",
            }
        )
    rec.append(
        {
            "experiment": "sanity/best_cell_training",
            "dataset": "cifar10",
            "metric": f"test_acc({plan.sanity_setting})",
            "value": sanity["test_acc"],
            "stand_in": False,
            "note": f"{best['arch_str']}, chance 10%",
            "curve": sanity["curve"],
        }
    )
    return rec
