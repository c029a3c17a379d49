"""Notebooks 01 and 02: the proxies added after the clean tables' job started
(NAS-Bench-Suite-Zero's l2_norm, plain, epe_nas, zen; MeCo; SWAP), on the first
cells of the full-space run, beside their published NB201 values.

    from zclib.exhibits import proxy_suite as ex
    tabs, missing = ex.load(["cifar10"], n_archs=1000)
    corr = ex.correlations(tabs, n_boot=1000, seed=0)
    cmp = ex.versus_published(corr)

The scores are the ``suite`` job of :mod:`zclib.fullspace.jobs` (one pass per cell
for all six, batch 64, seed 0, official network), read for the first ``n_archs``
cells of ``space.sample(15625, 0)`` while the rest of the space is still being
scored (:func:`zclib.fullspace.merge.read_prefix`). A dataset whose chunks are not
there yet is returned in ``missing`` with the command that makes them.

Targets. NAS-Bench-Suite-Zero (Krishnakumar et al. 2022, Fig. 2) correlates with
the 200-epoch validation accuracy (NASLib's ``VAL_ACCURACY``; for CIFAR-10 of the
``cifar10-valid`` model), 1,000 random cells, batch 64: our ``valid_acc``. ZiCo's
Table 3 (zen) and MeCo's code (``compute_rho.py``) correlate with test accuracy:
our ``test_acc`` (for CIFAR-10 the ``cifar10`` model's; see notebook 01). Signed
Spearman throughout: NAS-Bench-Suite-Zero prints plain's negative value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib import data, reference, results, stats
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


def suite_proxies() -> list[str]:
    """The proxies of the ``suite`` job (empty if none is registered)."""
    job = [j for j in fjobs.plan(["cifar10"]) if j.name == SUITE_JOB]
    return list(job[0].proxies) if job else []


def load(
    datasets, n_archs: int = 1000, root=fjobs.ROOT
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The suite's scores of the first ``n_archs`` cells joined with the accuracies.

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
    for source, exhibit, metric, method, proxy, target, stat, tol in PUBLISHED:
        pub = reference.published(source, exhibit, metric=metric, method=method)
        for r in pub.itertuples():
            key = (r.dataset, target, stat, proxy)
            if key not in at.index:
                continue
            ours = at.loc[key]
            rows.append(
                dict(
                    dataset=r.dataset,
                    proxy=proxy,
                    source=source,
                    target=target,
                    stat=stat,
                    published=float(r.value),
                    ours=ours["rho"],
                    ci=f"[{ours['lo']:+.3f}, {ours['hi']:+.3f}]",
                    delta=ours["rho"] - float(r.value),
                    tolerance=tol,
                    within=results.compare(
                        ours["rho"],
                        float(r.value),
                        tol,
                        not results.is_stand_in(r.dataset),
                    ),
                    n=int(ours["n"]),
                    images=ours["images"],
                    note=NOTES[source],
                )
            )
    return pd.DataFrame(rows)


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
        rows.append(row)
    return rows
