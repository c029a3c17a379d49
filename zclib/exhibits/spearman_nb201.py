"""Notebook 01: the NB201 Spearman table of Abdelfattah et al. 2021 (+ the vote).

    from zclib.exhibits import spearman_nb201 as ex
    tabs, fish = ex.load(["cifar10"], n_archs=None, fisher_n=None, seed=0)
    corr = ex.correlations(tabs, fish, top_frac=0.1, n_boot=1000, seed=0)
    cmp = ex.versus_published(corr, pub_wide, tolerance=0.03)

``tabs[ds]``: the shipped scores of every proxy (the clean fp32 full-space tables,
reference ``fisher`` included, + the Copeland ``vote``) joined with the benchmark
accuracies; ``fish[ds]``: ``fisher_fs`` (fisher on the foresight network variant)
over the first ``fisher_n`` cells of the sample, from the full-space job's
``fisher_foresight`` chunks (:func:`fisher_scores`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib import data, plotting, proxies, results, stats
from zclib.fullspace import jobs as fjobs
from zclib.fullspace import merge as fmerge

PAPER = list(proxies.ABDELFATTAH)  # grad_norm, snip, grasp, fisher, synflow, jacob_cov
SHIPPED = [
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "synflow",
    "jacob_cov",
    "naswot",
    "zico",
    "params",
    "flops",
]  # columns of the shipped tables
FISH = ["fisher_fs"]  # scored over the fisher sample only
FS_JOB = "fisher_foresight"  # the full-space job (and column) fisher_fs comes from
# every score correlated, in table order
SCORES = PAPER + [
    "fisher_fs",
    "vote",
    "naswot",
    "zico",
    "params",
    "flops",
    "valid_acc_12ep",
]
LABELS = {
    **plotting.PROXY_LABELS,
    "fisher_fs": "fisher (foresight network)",
    "vote": "vote (Copeland score)",
    "valid_acc_12ep": "12-epoch valid acc",
}
TARGETS = {"test_acc": "200-epoch test acc", "valid_acc": "200-epoch valid acc"}
PUB_OF = {"fisher_fs": "fisher"}  # the reference network's fisher: same published value
EXPERIMENT = "table_spearman_nb201"
TARGET_NOTE = {
    ("cifar10", "test_acc"): "test acc of the cifar10 model (train+valid); the paper "
    "used the cifar10-valid model's test acc, not in our tables",
    ("cifar10", "valid_acc"): "valid acc of the cifar10-valid model (the paper's "
    "model, but its validation split, not its test split)",
}
SCORE_NOTE = {
    "fisher_fs": "fisher on the foresight network variant (the reference code's: conv "
    "bias, affine-free cell BN), over {n} cells of the sample; compared "
    "with the published fisher",
    "vote": "Spearman of stats.vote_score (Copeland score of the synflow/jacob_cov/"
    "snip majority), not the paper's pairwise statistic",
    "valid_acc_12ep": "conventional reduced-training proxy: the benchmark's 12-epoch "
    "validation accuracy",
}


def compared(ds: str, target: str) -> bool:
    """Whether the paper's number is set against this target: test_acc, and for
    CIFAR-10 also valid_acc (its target lies between our two)."""
    return target == "test_acc" or ds == "cifar10"


def checked(ds: str, target: str) -> bool:
    """Compared and held to the tolerance (never on stand-in images)."""
    return not results.is_stand_in(ds) and compared(ds, target)


def fisher_size(fisher_n: int | None, n_archs: int | None) -> int | None:
    """Cells of the fisher sample: ``fisher_n`` (None: ``n_archs``), at most
    ``n_archs`` (None: the whole space)."""
    if fisher_n is None:
        return n_archs
    return fisher_n if n_archs is None else min(fisher_n, n_archs)


def fisher_scores(
    ds: str, n_archs: int | None, fisher_n: int | None, seed: int = 0
) -> pd.DataFrame:
    """fisher on the foresight network (``fisher_fs``) with accuracies, over the first
    :func:`fisher_size` cells of the sample.

    Seed 0 (the full-space job's) is read from the ``fisher_foresight`` job's chunks
    (:func:`zclib.fullspace.merge.read_prefix`: they may still be filling; it says how
    to make missing ones); another seed from :func:`zclib.results.load_scores`
    (caches, else the call that scores them).
    """
    n = fisher_size(fisher_n, n_archs)
    if seed == fjobs.SEED:
        job = next(j for j in fjobs.plan([ds]) if j.name == FS_JOB)
        fs = fmerge.read_prefix(job, n or fjobs.N_ARCHS)
    else:
        fs = results.load_scores(
            ds, ["fisher"], n_archs=n, seed=seed, variant="foresight"
        )
    df = fs[["arch_str", "index"]].assign(fisher_fs=fs["fisher"].to_numpy())
    out = results.with_accuracy(df, ds)
    # plain frame: attrs holding arrays (coverage masks) break pandas merges
    out.attrs = {}
    return out


def load(
    datasets, n_archs: int | None, fisher_n: int | None, seed: int = 0
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """(tabs, fish) per dataset: shipped scores + vote + accuracies, and the fisher
    sample (:func:`fisher_scores`)."""
    tabs, fish = {}, {}
    for ds in datasets:
        scores = results.load_scores(ds, SHIPPED, n_archs=n_archs, seed=seed)
        tab = results.with_accuracy(scores, ds)
        tab["vote"] = stats.vote_score(tab).to_numpy()
        tabs[ds] = tab
        fish[ds] = fisher_scores(ds, n_archs, fisher_n, seed)
    return tabs, fish


def overview(tabs, fish) -> pd.DataFrame:
    """Where each dataset's scores came from, and how many cells."""
    return pd.DataFrame(
        [
            {
                "dataset": ds,
                "archs": len(tab),
                "scores": tab.attrs.get("origin"),
                "scored on": ", ".join(sorted(set(tab["device"].astype(str))))
                if "device" in tab
                else "",
                "images": "STAND-IN" if results.is_stand_in(ds) else "real",
                "fisher archs": len(fish[ds]),
                "fisher cells ⊆ loaded": set(fish[ds]["arch_str"])
                <= set(tab["arch_str"]),
            }
            for ds, tab in tabs.items()
        ]
    ).set_index("dataset")


def nan_counts(tabs, fish) -> pd.DataFrame:
    """NaN scores per score (rows) and dataset (columns), and the cells loaded."""
    counts = pd.DataFrame(
        {
            ds: {
                **{p: int(tabs[ds][p].isna().sum()) for p in SCORES if p not in FISH},
                **{p: int(fish[ds][p].isna().sum()) for p in FISH},
            }
            for ds in tabs
        }
    ).loc[SCORES]
    counts.loc["(cells loaded)"] = [len(t) for t in tabs.values()]
    counts.loc["(fisher cells)"] = [len(f) for f in fish.values()]
    return counts


def abs_ci(rho: float, lo: float, hi: float) -> tuple[float, float, float]:
    """|rho| and its CI from a signed CI (a CI straddling 0 starts at 0)."""
    if not np.isfinite(rho):
        return np.nan, np.nan, np.nan
    if lo >= 0:
        return rho, lo, hi
    if hi <= 0:
        return -rho, -hi, -lo
    return abs(rho), 0.0, max(-lo, hi)


def correlations(
    tabs, fish, top_frac: float, n_boot: int, seed: int = 0
) -> pd.DataFrame:
    """Signed and absolute Spearman ρ with percentile-bootstrap CIs, one row per
    (dataset, target, subset "all"/"top10", score); top-10% fixed from the accuracy
    alone (for fisher: of its own sample)."""
    rows = []
    for ds in tabs:
        for target in TARGETS:
            for subset, frac in (("all", None), ("top10", top_frac)):
                for src, cols in (
                    (tabs[ds], [p for p in SCORES if p not in FISH]),
                    (fish[ds], FISH),
                ):
                    y = src[target].to_numpy(dtype=float)
                    keep = np.isfinite(y) if frac is None else stats.top_mask(y, frac)
                    table = stats.correlation_table(src, y, cols, top_frac=frac)
                    for r in table.itertuples():
                        x = src[r.proxy].to_numpy(dtype=float)[keep]
                        _, lo, hi = stats.bootstrap_ci(
                            x, y[keep], n_boot=n_boot, seed=seed
                        )
                        a, alo, ahi = abs_ci(r.rho, lo, hi)
                        rows.append(
                            {
                                "dataset": ds,
                                "target": target,
                                "subset": subset,
                                "proxy": r.proxy,
                                "rho": r.rho,
                                "lo": lo,
                                "hi": hi,
                                "abs_rho": a,
                                "abs_lo": alo,
                                "abs_hi": ahi,
                                "n": r.n,
                                "n_nan": r.n_nan,
                            }
                        )
    corr = pd.DataFrame(rows)
    corr["dataset"] = pd.Categorical(corr["dataset"], list(tabs), ordered=True)
    corr["proxy"] = pd.Categorical(corr["proxy"], SCORES, ordered=True)
    corr = corr.sort_values(["dataset", "target", "subset", "proxy"])
    corr = corr.reset_index(drop=True)
    corr["rho [95% CI]"] = [
        f"{r.rho:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]" if np.isfinite(r.rho) else "NaN"
        for r in corr.itertuples()
    ]
    return corr


def signed_table(corr: pd.DataFrame, target: str) -> pd.DataFrame:
    """ρ [95% CI] per score (rows) and (dataset, subset) (columns) for one target."""
    datasets = list(corr["dataset"].cat.categories)
    wide = corr[corr["target"] == target].pivot(
        index="proxy", columns=["dataset", "subset"], values="rho [95% CI]"
    )
    wide = wide.reindex(
        columns=pd.MultiIndex.from_product([datasets, ["all", "top10"]])
    )
    return wide.rename(index=LABELS)


def versus_published(
    corr: pd.DataFrame, pub_wide: pd.DataFrame, tolerance: float
) -> pd.DataFrame:
    """|ρ| over all cells of the paper's proxies (+ fisher_fs) beside the published
    value, with Δ and :func:`zclib.results.compare` per target."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    rows = []
    for ds in corr["dataset"].cat.categories:
        for p in PAPER + ["fisher_fs"]:
            published = pub_wide.loc[PUB_OF.get(p, p), ds]
            row = {"dataset": ds, "proxy": p, "published": published}
            for target, short in (("test_acc", "test"), ("valid_acc", "valid")):
                r = allc.loc[(ds, target, p)]
                row[f"|rho| {short}"] = r["abs_rho"]
                row[f"CI {short}"] = f"[{r['abs_lo']:.3f}, {r['abs_hi']:.3f}]"
                row[f"delta {short}"] = r["abs_rho"] - published
                row[f"within {short}"] = results.compare(
                    r["abs_rho"], published, tolerance, checked(ds, target)
                )
            row["n"] = int(allc.loc[(ds, "test_acc", p), "n"])
            row["images"] = "STAND-IN" if results.is_stand_in(ds) else "real"
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "proxy"])


def summary(cmp: pd.DataFrame, tolerance: float) -> str:
    """Markdown bullets: per checked dataset and target, how many are within."""
    lines = []
    for ds in cmp.index.unique("dataset"):
        if results.is_stand_in(ds):
            continue
        sub = cmp.xs(ds, level="dataset")
        for short in ("test", "valid"):
            flags = sub[f"within {short}"]
            if (flags == results.NOT_CHECKED).all():
                continue
            ok = [p for p, f in flags.items() if f is True]
            off = [
                f"{p} (Δ {sub.loc[p, f'delta {short}']:+.3f})"
                for p, f in flags.items()
                if f is False
            ]
            lines.append(
                f"- **{ds}, vs {TARGETS[short + '_acc']}**: {len(ok)} of {len(flags)} "
                f"within ±{tolerance}" + (f"; outside: {', '.join(off)}" if off else "")
            )
    return "\n".join(lines)


def votes(
    tabs, corr: pd.DataFrame, pub_vote: pd.Series, tolerance: float
) -> pd.DataFrame:
    """The paper's pairwise vote agreement (and each member alone, the majority
    rule, the Spearman of the rankable vote) per (dataset, target)."""
    allc = corr[corr["subset"] == "all"].set_index(["dataset", "target", "proxy"])
    rows = []
    for ds, tab in tabs.items():
        for target in TARGETS:
            y = tab[target].to_numpy(dtype=float)
            va = stats.vote_agreement(tab, y, rule="abdelfattah")
            vm = stats.vote_agreement(tab, y, rule="majority")
            published = pub_vote.get(ds, np.nan)
            rows.append(
                {
                    "dataset": ds,
                    "target": target,
                    "images": "STAND-IN" if results.is_stand_in(ds) else "real",
                    "vote (abdelfattah)": va["vote"],
                    "published": published,
                    "delta": va["vote"] - published,
                    "within": results.compare(
                        va["vote"], published, tolerance, checked(ds, target)
                    ),
                    **{f"{m} alone": va[m] for m in stats.VOTE_MEMBERS},
                    "vote (majority)": vm["vote"],
                    "pairs (ordered)": va["n_pairs"],
                    "NaN cells": va["n_nan"],
                    "vote_score rho": allc.loc[(ds, target, "vote"), "rho"],
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "target"])


def note_for(ds: str, target: str, n_fisher: int, proxy: str | None = None) -> str:
    """The note a recorded number carries: its target, score and images."""
    parts = [TARGET_NOTE.get((ds, target), TARGETS[target])]
    if proxy in SCORE_NOTE:
        parts.append(SCORE_NOTE[proxy].format(n=n_fisher))
    if results.is_stand_in(ds):
        label = data.stand_in_label(results.score_stand_in(ds))
        parts.append(f"STAND-IN: proxies computed on {label} images (accuracies real)")
    return "; ".join(parts)


def records(
    corr: pd.DataFrame,
    vote_table: pd.DataFrame,
    tabs,
    fish,
    pub_wide: pd.DataFrame,
    tolerance: float,
) -> list[dict]:
    """numbers.json rows: one per (dataset, target, subset, score), value |ρ|, and
    one per (dataset, target) for the vote agreement; ``published`` where the paper
    set its number against that target, ``tolerance`` where also not a stand-in."""
    rows = []
    for r in corr.itertuples():
        row = {
            "experiment": EXPERIMENT,
            "metric": f"{r.proxy}:abs_spearman_{r.subset}_{r.target}",
            "dataset": r.dataset,
            "value": r.abs_rho,
            "stand_in": results.is_stand_in(r.dataset),
            "note": note_for(r.dataset, r.target, len(fish[r.dataset]), r.proxy),
            "method": r.proxy,
            "target": r.target,
            "subset": r.subset,
            "rho": r.rho,
            "ci_lo": r.abs_lo,
            "ci_hi": r.abs_hi,
            "n": r.n,
            "n_nan": r.n_nan,
        }
        if (
            r.proxy in [*PAPER, "fisher_fs"]
            and r.subset == "all"
            and compared(r.dataset, r.target)
        ):
            row["published"] = float(
                pub_wide.loc[PUB_OF.get(r.proxy, r.proxy), r.dataset]
            )
            if not results.is_stand_in(r.dataset):
                row["tolerance"] = tolerance
        rows.append(row)
    for (ds, target), v in vote_table.iterrows():
        row = {
            "experiment": "vote_pairwise_agreement",
            "metric": f"vote:pairwise_agreement_{target}",
            "dataset": ds,
            "value": v["vote (abdelfattah)"],
            "stand_in": results.is_stand_in(ds),
            "note": note_for(ds, target, len(fish[ds]))
            + "; rule='abdelfattah', exact over all ordered pairs; "
            f"majority rule gives {v['vote (majority)']:.3f}",
            "method": "vote",
            "target": target,
            "subset": "all",
            "n": len(tabs[ds]),
        }
        if compared(ds, target) and np.isfinite(v["published"]):
            row["published"] = float(v["published"])
            if not results.is_stand_in(ds):
                row["tolerance"] = tolerance
        rows.append(row)
    return rows
