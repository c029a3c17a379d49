"""Notebook 04: training-free search with NASWOT and synflow (course project
Tables I-V) and Mellor et al.'s Table 2a.

    from zclib.exhibits import course_search as ex
    cfg = ex.Settings(rs_n=[10, 100, 1000], rs_n_unstated=100, population=64,
                      sample=20, models=1000, accuracy="valid_acc_12ep")
    runs, timing = ex.run_searches(data, cfg, n_runs=200, seed=0)
    agg, table = ex.versus_course(runs, timing, cfg, datasets)

``data``: :func:`zclib.search.lookup.load` per dataset. Searches are table lookups;
their wall-clock time is recorded as such, and an estimated real cost beside it.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from zclib import reference, results, search
from zclib.results import ds_label
from zclib.search import lookup

PROXIES = ["naswot", "synflow"]
ACC_LABEL = {
    "valid_acc_12ep": "valid acc, 12 ep",
    "test_acc": "test acc, 200 ep",
    "valid_acc": "valid acc, 200 ep",
}
ORACLE_N = [10, 100]  # Mellor et al.'s "optimal (N)" rows
MELLOR_PAPER_RUNS = 500  # runs behind each Table 2a mean (their text)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The searches of the course project's tables, as we read them."""

    rs_n: list  # random-search N of Table I
    rs_n_unstated: int  # N of Tables II and III (not printed)
    population: int  # REA members kept ("pool")
    sample: int  # REA tournament size ("tournament")
    models: int  # cells scored per REA run ("maximum population")
    accuracy: str  # the course project's accuracy column

    def searches(self) -> list[tuple[str, str, int]]:
        """(method, proxy, n) of every setting, without repeats."""
        s = [("rs", "naswot", n) for n in self.rs_n] + [
            ("rs", "naswot", self.rs_n_unstated),
            ("rs", "synflow", self.rs_n_unstated),
            ("rea", "naswot", self.models),
            ("rea", "synflow", self.models),
        ]
        return list(dict.fromkeys(s))  # rs_n_unstated may repeat a Table I setting

    def label(self, method: str, proxy: str, n: int) -> str:
        return (
            f"RS {proxy} N={n}"
            if method == "rs"
            else f"REA {proxy} ({n} cells, P={self.population}, S={self.sample})"
        )

    def exhibits(self) -> dict:
        """Course-project exhibit -> its setting (None: Table I, N in the method)."""
        return {
            "table1_rs_naswot": None,
            "table2_rs_naswot": ("rs", "naswot", self.rs_n_unstated),
            "table3_rs_synflow": ("rs", "synflow", self.rs_n_unstated),
            "table4_rea_naswot": ("rea", "naswot", self.models),
            "table5_rea_synflow": ("rea", "synflow", self.models),
        }


def overview(data) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": ds_label(ds),
                "scores": lk.source,
                **{f"NaN {p}": int(np.isnan(lk.raw[p]).sum()) for p in PROXIES},
                "CPU s/cell (bench)": ", ".join(
                    f"{p} {lookup.scoring_seconds(p):.3f}" for p in PROXIES
                ),
            }
            for ds, lk in data.items()
        ]
    ).set_index("dataset")


def display_score(proxy: str, raw):
    with np.errstate(divide="ignore"):
        return np.log(raw) if proxy == "synflow" else raw  # synflow as ln(score)


def run_searches(
    data, cfg: Settings, n_runs: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, timing): one row per run and setting (the chosen cell, its accuracies
    and proxy score); lookup time per run per setting."""
    frames, timing = [], []
    acc = cfg.accuracy
    for ds, lk in data.items():
        for method, proxy, n in cfg.searches():
            t0 = time.perf_counter()
            if method == "rs":
                picks = np.array(
                    [
                        search.proxy_random_search(lk.proxy[proxy], n, (seed, r))[0]
                        for r in range(n_runs)
                    ]
                )
                scored = np.full(n_runs, n)
            else:
                ev = search.Evaluator(lk.proxy[proxy], max_models=n)
                traces = search.run_many(
                    search.rea,
                    ev,
                    n_runs,
                    seed,
                    population=cfg.population,
                    sample=cfg.sample,
                )
                picks = np.array([t.best() for t in traces])
                scored = np.array([len(np.unique(t.idx)) for t in traces])  # distinct
            wall = (time.perf_counter() - t0) / n_runs
            frames.append(
                pd.DataFrame(
                    {
                        "dataset": ds,
                        "method": method,
                        "proxy": proxy,
                        "n": n,
                        "setting": cfg.label(method, proxy, n),
                        "run": np.arange(n_runs),
                        "index": picks,
                        acc: lk.acc(acc)[picks],
                        "test_acc": lk.acc("test_acc")[picks],
                        "score": display_score(proxy, lk.raw[proxy][picks]),
                        "cells_scored": scored,
                        "est_cpu_s": scored * lookup.scoring_seconds(proxy),
                    }
                )
            )
            timing.append(
                {
                    "dataset": ds,
                    "method": method,
                    "proxy": proxy,
                    "n": n,
                    "lookup_ms_per_run": 1000 * wall,
                }
            )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(timing)


def versus_course(
    runs: pd.DataFrame, timing: pd.DataFrame, cfg: Settings, datasets
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(agg, table): per setting mean/sd of accuracies, score and cost; the course
    project's table rows beside ours."""
    acc = cfg.accuracy
    exhibits = cfg.exhibits()
    pub = reference.published("cossu_course", list(exhibits), dataset=datasets)
    agg = (
        runs.groupby(["dataset", "method", "proxy", "n"])
        .agg(
            acc_mean=(acc, "mean"),
            acc_std=(acc, "std"),
            test_mean=("test_acc", "mean"),
            test_std=("test_acc", "std"),
            score_mean=("score", "mean"),
            score_std=("score", "std"),
            est_cpu_s=("est_cpu_s", "mean"),
            runs=("run", "size"),
        )
        .reset_index()
    )
    agg = agg.merge(timing, on=["dataset", "method", "proxy", "n"])
    rows = []
    for _, p in pub.iterrows():
        key = exhibits[p["exhibit"]] or (
            "rs",
            "naswot",
            int(p["method"].rsplit("_N", 1)[1]),
        )  # rs_naswot_N10
        a = agg[
            (agg["dataset"] == p["dataset"])
            & (agg["method"] == key[0])
            & (agg["proxy"] == key[1])
            & (agg["n"] == key[2])
        ]
        if a.empty:
            continue  # a setting this run did not include (e.g. RS_N changed)
        a = a.iloc[0]
        rows.append(
            {
                "exhibit": p["exhibit"],
                "method": p["method"],
                "dataset": p["dataset"],
                "setting": cfg.label(*key),
                "n_stated": exhibits[p["exhibit"]] is None or key[0] == "rea",
                "published": p["value"],
                "published_std": lookup.note_number(p["notes"], "std"),
                "ours": a["acc_mean"],
                "ours_std": a["acc_std"],
                "delta": a["acc_mean"] - p["value"],
                "ours_test_200ep": a["test_mean"],
                "ours_test_std": a["test_std"],
                "published_score": lookup.note_number(
                    p["notes"], "score mean", "score (log)", "score"
                ),
                "ours_score": a["score_mean"],
                "published_s": lookup.note_number(p["notes"], "elapsed", "time"),
                "ours_lookup_ms": a["lookup_ms_per_run"],
                "est_cpu_s": a["est_cpu_s"],
                "runs": a["runs"],
            }
        )
    return agg, pd.DataFrame(rows)


def summary(table: pd.DataFrame, tolerance: float, accuracy: str) -> str:
    within = results.compare(table["ours"], table["published"], tolerance)
    lines = [
        f"* {r['setting']} on {ds_label(r['dataset'])}: ours {r['ours']:.2f} "
        f"(sd {r['ours_std']:.2f}) vs published {r['published']:.2f} "
        f"(sd {r['published_std']:.2f}), Δ = {r['delta']:+.2f}"
        for _, r in table.iterrows()
    ]
    return (
        f"{int(within.sum())} of {len(table)} published means reproduced within "
        f"±{tolerance} points ({ACC_LABEL[accuracy]}).\n\n" + "\n".join(lines)
    )


def mellor_searches(data, c10, rs_n, n_runs: int, seed: int = 0) -> pd.DataFrame:
    """Mellor et al. Table 2a: NASWOT random search on CIFAR-10 scores, evaluated
    on each dataset, with their "random" and "optimal (N)" rows; mean and sd."""
    mellor_n = [n for n in (10, 100, 1000) if n in rs_n]
    mel = []
    for r in range(n_runs):
        draws = {n: search.random_draws(n, (seed, r)) for n in set(mellor_n + ORACLE_N)}
        for ds, lk in data.items():
            va, te = lk.acc("valid_acc"), lk.acc("test_acc")
            picks = {
                f"naswot_N{n}": search.proxy_random_search(
                    c10.proxy["naswot"], n, (seed, r)
                )[0]
                for n in mellor_n
            }
            picks["random"] = int(draws[max(draws)][0])
            for n in ORACLE_N:
                picks[f"optimal_N{n}"] = int(draws[n][np.argmax(va[draws[n]])])
            mel += [
                {
                    "dataset": ds,
                    "method": m,
                    "run": r,
                    "valid_acc": va[i],
                    "test_acc": te[i],
                }
                for m, i in picks.items()
            ]
    return (
        pd.DataFrame(mel)
        .groupby(["dataset", "method"])
        .agg(
            valid_mean=("valid_acc", "mean"),
            valid_std=("valid_acc", "std"),
            test_mean=("test_acc", "mean"),
            test_std=("test_acc", "std"),
        )
        .reset_index()
    )


def versus_mellor(mel_agg: pd.DataFrame, datasets) -> pd.DataFrame:
    mpub = reference.published(
        "mellor2021_naswot", "table2a_nb201_search", dataset=datasets
    )
    mpub = mpub[mpub["method"].isin(mel_agg["method"])]
    mcmp = []
    for _, p in mpub.iterrows():
        kind = p["metric"].split("_acc")[0]  # valid / test
        a = mel_agg[
            (mel_agg["dataset"] == p["dataset"]) & (mel_agg["method"] == p["method"])
        ].iloc[0]
        mcmp.append(
            {
                "dataset": p["dataset"],
                "method": p["method"],
                "accuracy": kind,
                "published": p["value"],
                "published_std": lookup.note_number(p["notes"], "std"),
                "ours": a[f"{kind}_mean"],
                "ours_std": a[f"{kind}_std"],
                "delta": a[f"{kind}_mean"] - p["value"],
            }
        )
    return pd.DataFrame(mcmp)


def mellor_wide(mcmp: pd.DataFrame) -> pd.DataFrame:
    wide = mcmp.pivot_table(
        index="method",
        columns=["dataset", "accuracy"],
        values=["published", "ours", "delta"],
    )
    return wide.reorder_levels([1, 2, 0], axis=1).sort_index(axis=1)


def mellor_summary(mcmp: pd.DataFrame, tolerance: float) -> str:
    mw = results.compare(mcmp["ours"], mcmp["published"], tolerance)
    return f"{int(mw.sum())} of {len(mcmp)} Table 2a means within ±{tolerance} points."


def records(
    table,
    agg,
    mcmp,
    cfg: Settings,
    tolerance: float,
    tolerance_mellor: float,
    n_runs: int,
    smoke: bool,
    mellor_runs: int | None = None,
) -> list[dict]:
    """numbers.json rows: the course tables (mean, sd, 200-epoch test), the search
    costs, Mellor et al.'s Table 2a.

    The course means here are the best cell of each run (``tabulation``
    :data:`zclib.exhibits.course_tabulation.BEST_CELL`); the published ones pool
    every evaluated cell, so a deviation is ``explained`` by the all-cells rows
    (:mod:`zclib.exhibits.course_tabulation`). Mellor et al.'s rows carry both
    standard errors (sd / sqrt(runs); theirs over 500 runs).

    Args:
        mellor_runs: runs of the Table 2a searches (None: ``n_runs``).
    """
    from zclib.exhibits import course_tabulation as ct  # (imports this module)

    mellor_runs = n_runs if mellor_runs is None else mellor_runs
    smoke = "smoke run. " if smoke else ""
    acc = cfg.accuracy
    rec = []
    for _, r in table.iterrows():
        si = results.is_stand_in(r["dataset"])
        note = results.stand_in_caveat(r["dataset"], "proxy scores") + smoke
        if not r["n_stated"]:
            note += f"N not printed by the course project; ours N={cfg.rs_n_unstated}. "
        if r["exhibit"].startswith(("table4", "table5")):
            note += (
                f"read as P={cfg.population} (pool), S={cfg.sample} (tournament), "
                f"{cfg.models} cells scored (max population). "
            )
        base = {
            "experiment": f"cossu_course/{r['exhibit']}",
            "dataset": r["dataset"],
            "stand_in": si,
            "method": r["method"],
            "setting": r["setting"],
            "n_runs": int(r["runs"]),
        }
        rec.append(
            {
                **base,
                "metric": f"{acc}_mean({r['method']})",
                "value": r["ours"],
                "published": r["published"],
                "tolerance": tolerance,
                "tabulation": ct.BEST_CELL,
                "explained": ct.CHECK,
                "se": r["ours_std"] / np.sqrt(r["runs"]),
                "note": (
                    note + f"sd ours {r['ours_std']:.2f}, published "
                    f"{r['published_std']:.2f}"
                ).strip(),
            }
        )
        rec.append(
            {
                **base,
                "metric": f"{acc}_std({r['method']})",
                "value": r["ours_std"],
                "published": r["published_std"],
                "note": (note + "run-to-run sd; no tolerance stated").strip(),
            }
        )
        rec.append(
            {
                **base,
                "metric": f"test_acc_mean({r['method']})",
                "value": r["ours_test_200ep"],
                "note": (note + "200-epoch test accuracy; not in the paper").strip(),
            }
        )
    for _, a in agg.iterrows():
        si = results.is_stand_in(a["dataset"])
        base = {
            "experiment": "cossu_course/search_cost",
            "dataset": a["dataset"],
            "stand_in": si,
            "setting": cfg.label(a["method"], a["proxy"], a["n"]),
        }
        rec.append(
            {
                **base,
                "metric": f"lookup_ms_per_run({base['setting']})",
                "value": a["lookup_ms_per_run"],
                "note": (
                    results.stand_in_caveat(a["dataset"], "proxy scores")
                    + smoke
                    + "wall-clock of our table-lookup search"
                ).strip(),
            }
        )
        rec.append(
            {
                **base,
                "metric": f"est_cpu_s_per_run({base['setting']})",
                "value": a["est_cpu_s"],
                "note": (
                    results.stand_in_caveat(a["dataset"], "proxy scores")
                    + smoke
                    + "distinct cells scored x median CPU s/cell of the "
                    "speed benchmark"
                ).strip(),
            }
        )
    for _, r in mcmp.iterrows():
        se = r["ours_std"] / np.sqrt(mellor_runs)
        rec.append(
            {
                "experiment": "mellor2021_naswot/table2a_nb201_search",
                "metric": f"{r['accuracy']}_acc_mean({r['method']})",
                "dataset": r["dataset"],
                "value": r["ours"],
                "published": r["published"],
                "tolerance": tolerance_mellor,
                "se": se,
                "se_published": r["published_std"] / np.sqrt(MELLOR_PAPER_RUNS),
                "stand_in": False,
                "n_runs": mellor_runs,
                "note": (
                    smoke + "search on CIFAR-10 NASWOT scores (real images, "
                    f"batch 64; paper 128), evaluated on {r['dataset']}; sd "
                    f"ours {r['ours_std']:.2f} (se {se:.2f}), "
                    f"published {r['published_std']:.2f}"
                    + (
                        "; optimal = best of the N draws by this dataset's "
                        "200-epoch validation accuracy"
                        if r["method"].startswith("optimal")
                        else ""
                    )
                ),
            }
        )
    return rec
