"""Notebook 04: the course project's own tabulation, "all evaluated cells".

    from zclib.exhibits import course_tabulation as ct
    tab = ct.tabulate(data, ct.Protocol(), seed=0)     # one row per table and reading
    cmp = ct.versus_course(tab, ["cifar10"])           # beside the published means
    rec = ct.records(cmp, tolerance=1.5, smoke=False)  # numbers.json rows

The course project (its public code, ``nicodimo/NAS_MachineLearningDeepLearning`` at
commit :data:`COMMIT`, 2022-09, the version matching the report; notebooks
``NASWOT_Project8.ipynb`` and ``NaswotREA.ipynb``) reports in its Tables I-V the
**mean and sd of the 12-epoch validation accuracy (and of the score) over every cell
a search scored**, not the accuracy of the cell each run returns:

* random search: each of 30 runs scores N cells drawn **without replacement**
  (``random.sample``) and keeps all N rows; the table pools the 30 x N rows;
* REA: 10 runs; 64 random cells (drawn with replacement, ``random.choice``), then
  1,000 children: a tournament of 20 *distinct* members (``random.sample``), the
  fittest is the parent, the child is one of its 24 one-edge mutations at random,
  the oldest member dies; the table pools the 1,000 children of each run (the
  initial 64 are not in the run's history);
* NASWOT and synflow are read from fixed score tables (no fresh minibatch per
  network); synflow is shown as ln(score).

So a random search's tabulated accuracy is the space mean whatever N and whatever
proxy: Tables I-III differ only by sampling error. The best-cell rows of
:mod:`zclib.exhibits.course_search` (what a search returns) stay beside these.

Deviations (also in the notebook): our scores are the shipped tables (batch 64;
NASWOT's scale differs from the project's batch 128, so score means are not
comparable in value); the project's history table also holds one placeholder row
(accuracy 0) per REA run, which would lower a pooled mean by about 0.1 points: not
modelled; Tables II and III do not state N: we tabulate N = 10, 100 and 1,000 and
compare :attr:`Protocol.rs_n_unstated` (the readings differ by sampling error only).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from zclib import reference, results, search
from zclib.exhibits.course_search import display_score
from zclib.search import lookup

REPO = "nicodimo/NAS_MachineLearningDeepLearning"
COMMIT = "5a6f12092b0cffc492a1c73ecd320910b853da50"  # 2022-09, matches the report
TABULATION = "course tabulation: all evaluated cells"
BEST_CELL = "best cell per run"
# where the notebook measures these rows (pointer of every status that needs one)
CHECK = "notebooks/04_search_course_project.ipynb#course-tabulation"
PUBLISHED_RS_RUNS = 30  # random-search runs behind each published mean (their code)


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The course project's searches as its code runs them (see the module doc)."""

    rs_runs: int = 30  # random-search runs per table
    rea_runs: int = 10  # REA runs per table
    rs_n: tuple = (10, 100, 1000)  # Table I's N; also the candidate N of II and III
    rs_n_unstated: int = 100  # the reading of Tables II-III's N that is compared
    population: int = 64  # REA's initial random cells and members kept ("pool")
    sample: int = 20  # REA tournament, distinct members
    children: int = 1000  # REA children per run (the tabulated cells)
    accuracy: str = "valid_acc_12ep"  # the project's "valid-accuracy" (12 epochs)


def rs_cells(n: int, runs: int, seed) -> np.ndarray:
    """(runs, n) benchmark indices: each run's N cells, drawn without replacement.

    Args:
        n: cells per run.
        runs: runs.
        seed: base seed; run r draws with ``(seed, r)``.

    Returns:
        Integer array of shape (runs, n).
    """
    return np.stack(
        [search.random_draws(n, (seed, r), replace=False) for r in range(runs)]
    )


def rea_children(proxy: np.ndarray, proto: Protocol, seed) -> np.ndarray:
    """(runs, children) benchmark indices of the children each REA run scored.

    Args:
        proxy: oriented fitness by benchmark index (:func:`zclib.search.proxy_fitness`).
        proto: population, tournament, children and runs.
        seed: base seed; run r uses ``(seed, r)``.

    Returns:
        Integer array of shape (rea_runs, children): each trace after its initial
        population (:func:`zclib.search.rea` draws that with replacement, picks
        distinct tournament members and kills the oldest, as the project does).
    """
    out = []
    for r in range(proto.rea_runs):
        ev = search.Evaluator(proxy, max_models=proto.population + proto.children)
        t = search.rea(ev, (seed, r), population=proto.population, sample=proto.sample)
        out.append(t.idx[proto.population :])
    return np.stack(out)


def _pooled(lk: lookup.Lookup, proxy: str, cells: np.ndarray, acc: str) -> dict:
    """Mean/sd over all cells, and the standard error from the run means."""
    a = lk.acc(acc)[cells]  # (runs, cells)
    s = display_score(proxy, lk.raw[proxy][cells])
    s = np.where(np.isfinite(s), s, np.nan)
    run_means = a.mean(axis=1)
    return {
        "acc_mean": float(a.mean()),
        "acc_sd": float(a.std(ddof=1)),
        "acc_se": float(run_means.std(ddof=1) / np.sqrt(len(run_means))),
        "score_mean": float(np.nanmean(s)),
        "score_sd": float(np.nanstd(s, ddof=1)),
        "runs": int(cells.shape[0]),
        "cells": int(cells.size),
    }


def tabulate(data: dict, proto: Protocol, seed: int = 0) -> pd.DataFrame:
    """Every course table tabulated over all evaluated cells, per dataset.

    Args:
        data: dataset -> :func:`zclib.search.lookup.load` (NASWOT and synflow).
        proto: the protocol.
        seed: base seed (random search and REA runs as in :func:`rs_cells`).

    Returns:
        One row per dataset, exhibit, method and ``reading``: for Tables II-III
        every candidate N of ``proto.rs_n`` (``compared`` True on
        :attr:`Protocol.rs_n_unstated`); for Table V also REA driven by each
        other dataset's synflow table (the project's notebooks load the synflow
        table of a hard-coded dataset in places; ``compared`` True on the
        dataset's own). Columns: n, acc_mean, acc_sd, acc_se (from the run
        means), score_mean, score_sd, runs, cells.
    """
    rows = []
    for ds, lk in data.items():
        for n in proto.rs_n:
            cells = rs_cells(n, proto.rs_runs, seed)
            for exhibit, method, proxy in (
                ("table1_rs_naswot", f"rs_naswot_N{n}", "naswot"),
                ("table2_rs_naswot", "rs_naswot", "naswot"),
                ("table3_rs_synflow", "rs_synflow", "synflow"),
            ):
                compared = exhibit == "table1_rs_naswot" or n == proto.rs_n_unstated
                rows.append(
                    {
                        "dataset": ds,
                        "exhibit": exhibit,
                        "method": method,
                        "n": n,
                        "reading": f"N={n}",
                        "compared": compared,
                        **_pooled(lk, proxy, cells, proto.accuracy),
                    }
                )
        for exhibit, proxy in (
            ("table4_rea_naswot", "naswot"),
            ("table5_rea_synflow", "synflow"),
        ):
            others = [o for o in data if o != ds] if proxy == "synflow" else []
            for fit in [ds, *others]:
                cells = rea_children(data[fit].proxy[proxy], proto, seed)
                rows.append(
                    {
                        "dataset": ds,
                        "exhibit": exhibit,
                        "method": f"rea_{proxy}",
                        "n": proto.children,
                        "reading": "own table" if fit == ds else f"{fit}'s table",
                        "compared": fit == ds,
                        **_pooled(lk, proxy, cells, proto.accuracy),
                    }
                )
    return pd.DataFrame(rows)


def versus_course(tab: pd.DataFrame, datasets) -> pd.DataFrame:
    """The compared readings beside the published means, with standard errors.

    Args:
        tab: :func:`tabulate`.
        datasets: datasets to compare.

    Returns:
        One row per published number: exhibit, method, dataset, n, published,
        published_sd, published_se (random search: sd / sqrt(30 runs x N), cells
        independent; NaN where N is not printed or, for REA, where its children
        are correlated), ours, ours_sd, ours_se, delta, ours_score,
        published_score, readings (every candidate reading: "N=10 67.9, ..."
        for Tables II-III, "own table 49.7, cifar10's table 48.6, ..." for
        Table V).
    """
    pub = reference.published(
        "cossu_course",
        [
            "table1_rs_naswot",
            "table2_rs_naswot",
            "table3_rs_synflow",
            "table4_rea_naswot",
            "table5_rea_synflow",
        ],
        dataset=datasets,
    )
    rows = []
    for _, p in pub.iterrows():
        cand = tab[
            (tab["dataset"] == p["dataset"])
            & (tab["exhibit"] == p["exhibit"])
            & (tab["method"] == p["method"])
        ]
        if cand.empty:
            continue
        a = cand[cand["compared"]].iloc[0]
        sd_p = lookup.note_number(p["notes"], "std")
        n_stated = p["exhibit"] == "table1_rs_naswot"
        se_p = sd_p / np.sqrt(PUBLISHED_RS_RUNS * a["n"]) if n_stated else np.nan
        readings = (
            ", ".join(f"{c['reading']} {c['acc_mean']:.2f}" for _, c in cand.iterrows())
            if len(cand) > 1
            else ""
        )
        rows.append(
            {
                "exhibit": p["exhibit"],
                "method": p["method"],
                "dataset": p["dataset"],
                "n": int(a["n"]),
                "runs": int(a["runs"]),
                "published": p["value"],
                "published_sd": sd_p,
                "published_se": se_p,
                "ours": a["acc_mean"],
                "ours_sd": a["acc_sd"],
                "ours_se": a["acc_se"],
                "delta": a["acc_mean"] - p["value"],
                "ours_score": a["score_mean"],
                "published_score": lookup.note_number(
                    p["notes"], "score mean", "score (log)", "score"
                ),
                "readings": readings,
            }
        )
    return pd.DataFrame(rows)


def summary(cmp: pd.DataFrame, tolerance: float) -> str:
    """Markdown: how many course means the all-cells tabulation reproduces, and
    one line per row with Δ, both standard errors and the candidate readings."""
    st = [
        results.assess(
            r["ours"], r["published"], tolerance, r["ours_se"], r["published_se"]
        )["status"]
        for _, r in cmp.iterrows()
    ]
    lines = [
        f"* {r['exhibit']} {r['method']} on {r['dataset']}: ours {r['ours']:.2f} "
        f"(sd {r['ours_sd']:.2f}, se {r['ours_se']:.2f}) vs published "
        f"{r['published']:.2f} (sd {r['published_sd']:.2f}), Δ = {r['delta']:+.2f}"
        f": {s}" + (f"; readings {r['readings']}" if r["readings"] else "")
        for s, (_, r) in zip(st, cmp.iterrows(), strict=True)
    ]
    n_ok = sum(s != "outside" for s in st)
    return (
        f"{n_ok} of {len(cmp)} published means reproduced by the course tabulation "
        f"(±{tolerance} points, or within sampling error).\n\n" + "\n".join(lines)
    )


def records(cmp: pd.DataFrame, tolerance: float, smoke: bool) -> list[dict]:
    """numbers.json rows of the all-cells tabulation (mean with both standard
    errors, and sd), experiment ``cossu_course/<table>``, ``tabulation`` set."""
    smoke = "smoke run. " if smoke else ""
    rec = []
    for _, r in cmp.iterrows():
        note = results.stand_in_caveat(r["dataset"], "proxy scores") + smoke
        note += (
            f"{TABULATION} ({r['runs']} runs x {r['n']} cells; code of {REPO} at "
            f"{COMMIT[:7]}). "
        )
        if r["readings"]:
            unstated = r["exhibit"].startswith(("table2", "table3"))
            note += ("N not printed; " if unstated else "") + (
                f"candidate readings {r['readings']}. "
            )
        base = {
            "experiment": f"cossu_course/{r['exhibit']}",
            "dataset": r["dataset"],
            "stand_in": results.is_stand_in(r["dataset"]),
            "method": r["method"],
            "tabulation": TABULATION,
            "n_runs": int(r["runs"]),
            "check": CHECK,
        }
        rec.append(
            {
                **base,
                "metric": f"valid_acc_12ep_mean_all_cells({r['method']})",
                "value": r["ours"],
                "published": r["published"],
                "tolerance": tolerance,
                "se": r["ours_se"],
                "se_published": r["published_se"],
                "note": (
                    note + f"sd ours {r['ours_sd']:.2f}, published "
                    f"{r['published_sd']:.2f}"
                ).strip(),
            }
        )
        rec.append(
            {
                **base,
                "metric": f"valid_acc_12ep_sd_all_cells({r['method']})",
                "value": r["ours_sd"],
                "published": r["published_sd"],
                "note": (note + "sd over all cells; no tolerance stated").strip(),
            }
        )
    return rec
