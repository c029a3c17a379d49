"""Notebooks 01 and 02: the proxies added after the clean tables' job started
(NAS-Bench-Suite-Zero's l2_norm, plain, epe_nas, zen; MeCo; SWAP), over the whole
space (or its first ``n_archs`` cells), beside their published NB201 values.

    from zclib.exhibits import proxy_suite as ex
    tabs, missing = ex.load(["cifar10"], n_archs=None)  # None: all 15,625
    corr = ex.correlations(tabs, n_boot=1000, seed=0)
    cmp = ex.versus_published(corr)
    vs = ex.versus_params(tabs, n_boot=1000, seed=0)  # notebook 02: beat #params?

The scores are the ``suite`` job of :mod:`zclib.fullspace.jobs` (one pass per cell
for all six, batch 64, seed 0, official network), read for all cells or for the
first ``n_archs`` of ``space.sample(15625, 0)`` (a seeded uniform sample) from the
job's chunks (:func:`zclib.fullspace.merge.read_prefix`). A dataset whose chunks
are not there yet is returned in ``missing`` with the command that makes them.

Targets. NAS-Bench-Suite-Zero (Krishnakumar et al. 2022, Fig. 2) correlates with
the 200-epoch validation accuracy (NASLib's ``VAL_ACCURACY``; for CIFAR-10 of the
``cifar10-valid`` model), 1,000 random cells, batch 64: our ``valid_acc``, over
all 15,625 cells by default (the value their 1,000-cell sample estimates;
``n_archs=1000`` gives a 1,000-cell seeded sample like theirs). ZiCo's
Table 3 (zen) and MeCo's code (``compute_rho.py``) correlate with test accuracy:
our ``test_acc`` (for CIFAR-10 the ``cifar10`` model's; see notebook 01). Signed
Spearman throughout: NAS-Bench-Suite-Zero prints plain's negative value.

Against #params (notebook 02, the ZiCo question asked of the new proxies):
:func:`versus_params` bootstraps Δ = stat(proxy) − stat(#params) on shared resamples
of the same cells, against the 200-epoch test accuracy (ZiCo Table 3's target in
notebook 02). #params is zclib's ``params`` proxy (:func:`zclib.network.cost` of the
official network), not the benchmark's ``params_M``: that one differs by one 3x3
convolution per cell on ~1% of the cells (11 of the first 1,000), cells with an
edge whose output never reaches the cell's output, as if NATS-Bench had recorded one
cost per isomorphism class. Each proxy is taken in
its registered direction (higher is better for all six), so a negatively
correlated proxy (plain) loses to #params by more than its |ρ| would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import data, proxies, reference, results, stats
from zclib.fullspace import jobs as fjobs
from zclib.fullspace import merge as fmerge

SUITE_JOB = "suite"
TARGETS = {"valid_acc": "200-epoch valid acc", "test_acc": "200-epoch test acc"}
STATS = ("spearman", "kendall")
# (source, exhibit, metric, method, our proxy, our target, our statistic, tolerance)
PUBLISHED = [
    *[
        ("krishnakumar2022_nbsz", "fig2_spearman_nb201", "spearman", p, p)
        + ("valid_acc", "spearman", 0.05)
        for p in ("l2_norm", "plain", "epe_nas", "zen")
    ],
    ("li2023_zico", "table3_nats_tss", "spearman", "zen", "zen", "test_acc")
    + ("spearman", 0.05),
    ("li2023_zico", "table3_nats_tss", "kendall_tau", "zen", "zen", "test_acc")
    + ("kendall", 0.05),
    # the coefficient is not named in the second-hand quote; MeCo's code: Spearman
    ("jiang2023_meco", "table1_tss_secondary", "correlation_unnamed", "meco", "meco")
    + ("test_acc", "spearman", 0.03),
    # the REGULARISED score (ours is the plain SWAP score): a reference, not a target
    ("peng2024_swap", "abstract_nb201", "spearman", "swap_regularised", "swap")
    + ("valid_acc", "spearman", None),
]
NOTES = {
    "krishnakumar2022_nbsz": "NAS-Bench-Suite-Zero Fig. 2: 1,000 random cells, "
    "batch 64, vs 200-epoch validation accuracy (cifar10-valid for CIFAR-10)",
    "li2023_zico": "ZiCo Table 3 (NATS-Bench-TSS), vs test accuracy",
    "jiang2023_meco": "MeCo Table 1 as quoted second-hand (coefficient, split and "
    "batch not confirmed; its code: one random 64x64 input, Spearman vs test acc)",
    "peng2024_swap": "SWAP abstract: the regularised score vs CIFAR-100 validation "
    "accuracy; ours is unregularised (the regulariser's mu, sigma not published)",
}


# what each source's number was measured on, as far as the source says
PROTOCOL = {
    "krishnakumar2022_nbsz": dict(
        batch="64", cells="1,000 random", split="200-epoch valid (cifar10-valid)"
    ),
    "li2023_zico": dict(
        batch="not stated", cells="all 15,625", split="not stated (ours: test)"
    ),
    "jiang2023_meco": dict(
        batch="not confirmed (code default: 1)",
        cells="not confirmed",
        split="test (its compute_rho.py)",
    ),
    "peng2024_swap": dict(
        batch="not stated for NB201", cells="not stated", split="CIFAR-100 valid"
    ),
}


def targets() -> pd.DataFrame:
    """The published targets of :data:`PUBLISHED`: per row the source, the
    statistic, what it was measured on (:data:`PROTOCOL`), our target and the
    tolerance (None: shown, not checked)."""
    rows = [
        dict(
            proxy=p.proxy,
            dataset=p.dataset,
            published=p.value,
            source=p.source,
            published_as=f"{p.method}: {p.metric}",
            **PROTOCOL[p.source],
            ours_vs=f"{p.stat}, {TARGETS[p.target]}",
            tolerance=p.tol,
        )
        for p in published_values()
    ]
    return pd.DataFrame(rows)


class Published(NamedTuple):
    """One published value: its :data:`PUBLISHED` entry, dataset and value."""

    source: str
    metric: str
    method: str
    proxy: str
    target: str
    stat: str
    tol: float | None
    dataset: str
    value: float


def published_values() -> Iterator[Published]:
    """Every published value of :data:`PUBLISHED`, in its order (one loop for
    :func:`targets` and :func:`versus_published`)."""
    for source, exhibit, metric, method, proxy, target, stat, tol in PUBLISHED:
        pub = reference.published(source, exhibit, metric=metric, method=method)
        for r in pub.itertuples():
            spec = (source, metric, method, proxy, target, stat, tol)
            yield Published(*spec, r.dataset, float(r.value))


def suite_proxies() -> list[str]:
    """The proxies of the ``suite`` job (empty if none is registered)."""
    job = [j for j in fjobs.plan(["cifar10"]) if j.name == SUITE_JOB]
    return list(job[0].proxies) if job else []


def load(
    datasets, n_archs: int | None = None, root=fjobs.ROOT
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The suite's scores of the first ``n_archs`` cells (None: all) joined with the
    accuracies and with #params (the shipped table's ``params`` column, i.e.
    :func:`zclib.network.cost` of the official network; building each network to
    count it costs ~0.2 s, ~50 min for the space x 3).

    Returns:
        ``(tabs, missing)``: per dataset its table; per dataset whose chunks are
        missing, the message saying how to make them.
    """
    tabs, missing = {}, {}
    for ds in datasets:
        job = next(j for j in fjobs.plan([ds]) if j.name == SUITE_JOB)
        try:
            scores = fmerge.read_prefix(job, n_archs, root)
        except fmerge.Incomplete as exc:
            missing[job.dataset] = str(exc)
            continue
        params = results.shipped(job.dataset)[["arch_str", "params"]]
        scores = scores.merge(params, on="arch_str", how="left", validate="1:1")
        tab = results.with_accuracy(scores, job.dataset)
        tab.attrs["images"] = images(job, root)
        tabs[job.dataset] = tab
    return tabs, missing


def images(job: fjobs.Job, root=fjobs.ROOT) -> str:
    """``"real"``, or ``"STAND-IN: <which>"`` as the job's run records say."""
    if not results.is_stand_in(job.dataset):
        return "real"
    return f"STAND-IN: {data.stand_in_label(fmerge.stand_in_name(job, root))}"


def correlations(tabs, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Signed Spearman and Kendall with percentile-bootstrap 95% CIs, one row per
    (dataset, target, statistic, proxy)."""
    rows = []
    for ds, tab in tabs.items():
        for target in TARGETS:
            y = tab[target].to_numpy(dtype=float)
            for stat in STATS:
                for p in suite_proxies():
                    x = tab[p].to_numpy(dtype=float)
                    rho, lo, hi = stats.bootstrap_ci(
                        x, y, stat=stat, n_boot=n_boot, seed=seed
                    )
                    n = int(np.isfinite(x).sum())
                    rows.append(
                        dict(
                            dataset=ds,
                            target=target,
                            stat=stat,
                            proxy=p,
                            rho=rho,
                            lo=lo,
                            hi=hi,
                            n=n,
                            n_nan=len(x) - n,
                            images=tab.attrs["images"],
                        )
                    )
    corr = pd.DataFrame(rows)
    if not corr.empty:
        corr["rho [95% CI]"] = [
            f"{r.rho:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]" for r in corr.itertuples()
        ]
    return corr


def wide(corr: pd.DataFrame, stat: str = "spearman") -> pd.DataFrame:
    """ρ [95% CI] per proxy (rows) and (dataset, target) (columns)."""
    sub = corr[corr["stat"] == stat]
    return sub.pivot(
        index="proxy", columns=["dataset", "target"], values="rho [95% CI]"
    )


def versus_published(corr: pd.DataFrame) -> pd.DataFrame:
    """Each published value of :data:`PUBLISHED` for a dataset we have, beside ours
    on the same target and statistic, with Δ, the tolerance and
    :func:`zclib.results.compare` (not checked on a stand-in)."""
    at = corr.set_index(["dataset", "target", "stat", "proxy"])
    rows = []
    for p in published_values():
        key = (p.dataset, p.target, p.stat, p.proxy)
        if key not in at.index:
            continue
        ours = at.loc[key]
        rows.append(
            dict(
                dataset=p.dataset,
                proxy=p.proxy,
                source=p.source,
                target=p.target,
                stat=p.stat,
                published=p.value,
                ours=ours["rho"],
                ci=f"[{ours['lo']:+.3f}, {ours['hi']:+.3f}]",
                delta=ours["rho"] - p.value,
                tolerance=p.tol,
                within=results.compare(
                    ours["rho"], p.value, p.tol, not results.is_stand_in(p.dataset)
                ),
                n=int(ours["n"]),
                images=ours["images"],
                note=NOTES[p.source],
            )
        )
    return pd.DataFrame(rows)


# sources whose published value is itself a sample of cells like ours
SAMPLED_SOURCES = {"krishnakumar2022_nbsz": "1,000 random cells"}


def standard_errors(lo: float, hi: float, source: str) -> dict:
    """``se`` of our correlation (its bootstrap 95% interval / 3.92: the cells are
    a 1,000-cell sample of the space) and, for a source that also correlated a
    random sample of the same size (:data:`SAMPLED_SOURCES`), ``se_published``
    estimated by ours (same space, same n, a similar ρ); a source over the whole
    space (ZiCo) has no sampling error of its own."""
    se = (hi - lo) / (2 * 1.959964)
    out = {"se": se}
    if source in SAMPLED_SOURCES:
        out["se_published"] = se
    return out


def records(cmp: pd.DataFrame, corr: pd.DataFrame) -> list[dict]:
    """numbers.json rows: every correlation, ``published``/``tolerance`` where a
    row of :func:`versus_published` compares it."""
    pub = (
        {(r.dataset, r.target, r.stat, r.proxy): r for r in cmp.itertuples()}
        if not cmp.empty
        else {}
    )
    rows = []
    for r in corr.itertuples():
        row = {
            "experiment": "proxy_suite_nb201",
            "metric": f"{r.proxy}:{r.stat}_{r.target}",
            "dataset": r.dataset,
            "value": r.rho,
            "stand_in": results.is_stand_in(r.dataset),
            "method": r.proxy,
            "target": r.target,
            "ci_lo": r.lo,
            "ci_hi": r.hi,
            "n": r.n,
            "n_nan": r.n_nan,
            "note": f"suite job, first {r.n + r.n_nan} cells of the full-space run; "
            f"{TARGETS[r.target]}; {r.images}",
        }
        match = pub.get((r.dataset, r.target, r.stat, r.proxy))
        if match is not None:
            row["published"] = match.published
            row["note"] += f"; vs {match.source}: {match.note}"
            if match.tolerance is not None and not results.is_stand_in(r.dataset):
                row["tolerance"] = match.tolerance
            row.update(standard_errors(r.lo, r.hi, match.source))
        rows.append(row)
    return rows


PARAMS_TARGET = "test_acc"


def versus_params(
    tabs, n_boot: int = 1000, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """Δ = stat(proxy) − stat(#params) against the 200-epoch test accuracy, on
    shared bootstrap resamples (:func:`zclib.stats.paired_bootstrap`), one row per
    (dataset, statistic, proxy); cells where the proxy is NaN are dropped from both.

    Returns:
        columns dataset, stat, proxy, proxy_rho, params_rho, delta, lo, hi,
        p_value (fraction of resamples with Δ <= 0), n, n_boot, images.
    """
    rows = []
    for ds, tab in tabs.items():
        y = tab[PARAMS_TARGET].to_numpy(dtype=float)
        n_params = tab["params"].to_numpy(dtype=float)
        for stat in STATS:
            for p in suite_proxies():
                x = proxies.get(p).direction * tab[p].to_numpy(dtype=float)
                r = stats.paired_bootstrap(
                    x, n_params, y, stat=stat, n_boot=n_boot, seed=seed, ci=ci
                )
                r["proxy_rho"], r["params_rho"] = r.pop("stat1"), r.pop("stat2")
                rows.append(
                    dict(
                        dataset=ds, stat=stat, proxy=p, **r, images=tab.attrs["images"]
                    )
                )
    return pd.DataFrame(rows)


def params_verdicts(vs: pd.DataFrame, ci: float = 0.95) -> str:
    """One Markdown line per (dataset, proxy), Spearman and Kendall together."""
    lines = []
    for (ds, p), g in vs.groupby(["dataset", "proxy"], sort=False):
        parts = []
        for r in g.itertuples():
            verdict = stats.ci_verdict(r.lo, r.hi)
            parts.append(
                f"{r.stat} {verdict} #params (Δ = {r.delta:+.3f} "
                f"[{r.lo:+.3f}, {r.hi:+.3f}])"
            )
        lines.append(f"* {ds} ({g['images'].iloc[0]}), {p}: " + "; ".join(parts))
    head = (
        f"Against the 200-epoch test accuracy ({ci:.0%} paired-bootstrap CIs; "
        "'ties': the interval holds 0):"
    )
    return head + "\n\n" + "\n".join(lines)


def params_figure(vs: pd.DataFrame, ci: float = 0.95):
    """Δ = stat(proxy) − stat(#params) with its CI per proxy, a marker per dataset."""
    fig, axes = plt.subplots(
        1, len(STATS), figsize=(5.4 * len(STATS), 4.0), sharey=True, squeeze=False
    )
    names = suite_proxies()
    dss = list(dict.fromkeys(vs["dataset"]))
    width = 0.7 / max(len(dss), 1)
    for ax, stat in zip(axes[0], STATS, strict=True):
        for j, ds in enumerate(dss):
            d = vs[(vs["stat"] == stat) & (vs["dataset"] == ds)].set_index("proxy")
            d = d.reindex(names)
            x = np.arange(len(names)) + (j - (len(dss) - 1) / 2) * width
            ax.errorbar(
                x,
                d["delta"],
                yerr=[d["delta"] - d["lo"], d["hi"] - d["delta"]],
                fmt="o",
                capsize=3,
                color=f"C{j}",
                label=results.ds_label(ds),
            )
        ax.axhline(0, color="0.3", lw=1, ls="--")
        ax.set_xticks(range(len(names)), names, rotation=30)
        ax.set_title(f"Δ {stat} = proxy − #params ({ci:.0%} CI)")
    axes[0, 0].set_ylabel("Δ vs 200-epoch test accuracy")
    axes[0, 0].legend(loc="best", fontsize=9)
    fig.tight_layout()
    return fig


def params_records(vs: pd.DataFrame) -> list[dict]:
    """numbers.json rows of :func:`versus_params` (no published counterpart)."""
    return [
        {
            "experiment": "proxy_suite_vs_params",
            "metric": f"{r.stat}({r.proxy}) - {r.stat}(params), test_acc",
            "dataset": r.dataset,
            "value": r.delta,
            "stand_in": results.is_stand_in(r.dataset),
            "method": r.proxy,
            "ci_lo": r.lo,
            "ci_hi": r.hi,
            "p_value": r.p_value,
            "proxy_value": r.proxy_rho,
            "params_value": r.params_rho,
            "n": r.n,
            "n_boot": r.n_boot,
            "note": f"paired bootstrap, suite job's first cells; {r.images}",
        }
        for r in vs.itertuples()
    ]
