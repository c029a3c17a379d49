"""Notebook 07 (reduced training vs zero-cost): stored form and a smoke run.

    .venv/bin/python -m pytest -q tests/test_nb_07.py

The smoke run (:data:`zclib.notebooks.SMOKE`, which the notebook turns into 4 archs,
two 1-epoch settings on 1% of the images) trains into a temporary results root and
must leave the shipped table ``results/train/`` untouched. ~40 s on 2 CPU cores.
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from zclib import bench, notebooks, plotting, records, reference, stats, train
from zclib.exhibits import econas as ex
from zclib.exhibits import econas_costs as cx
from zclib.exhibits import econas_figures as figs
from zclib.search import lookup

NAME = "07_econas_reduced_training"
REQUIRED_PARAMS = {
    "SEED",
    "DATASETS",
    "N_ARCHS",
    "BATCH_SIZE",
    "DEVICE",
    "RESULTS_DIR",
    "N_BOOT",
    "SMOKE",
    "SETTINGS",
    "N_ARCHS_OTHER",
    "THREADS",
}


def test_parameters_declare_the_study_settings():
    """(The stored form is checked for every notebook in test_notebooks_stored.py.)"""
    path = notebooks.NOTEBOOK_DIR / f"{NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    params = nb.cells[1]
    declared = notebooks.declared_parameters(path)
    assert REQUIRED_PARAMS <= declared, REQUIRED_PARAMS - declared
    # the default settings parse, and the first is the paper's econas (r8c4, 20 ep)
    ns: dict = {}
    exec(params.source, ns)  # literal assignments only
    settings = [train.Setting.parse(s) for s in ns["SETTINGS"]]
    assert (settings[0].resolution, settings[0].C, settings[0].epochs) == (8, 4, 20)
    assert {(s.resolution, s.C) for s in settings} == {(8, 4), (8, 8), (16, 4), (16, 8)}
    assert ns["SMOKE"] is False


SMOKE_SETTINGS = {"r8c4e1f0.01", "r8c8e1f0.01", "r8c4e2f0.02"}  # the notebook's


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, shared_dir):
    root = tmp_path_factory.mktemp("nb07")
    notebooks.run(NAME, smoke=True, results_dir=root)
    # (a sweep may be adding to the shipped table meanwhile: check by setting)
    shipped = set(train.load_table(train.TABLE)["setting"])
    assert not shipped & SMOKE_SETTINGS, "the smoke run wrote into results/train/"
    payload = json.loads((root / NAME / "numbers.json").read_text())
    return root, payload


def test_smoke_numbers(smoke):
    root, payload = smoke
    assert payload["notebook"] == NAME
    prov = payload["provenance"]
    assert prov["SMOKE"] is True and prov["N_ARCHS"] == 4 and prov["N_BOOT"] == 20
    assert {"zclib_version", "git_commit", "git_dirty"} <= set(prov)
    assert prov["runs_trained_now"] >= 1
    assert prov["scratch"].startswith(str(root))  # trained into the tmp root
    # wall-clock rows (CPU seconds, ratios of them) live in timings.json
    timed = records.read_timings(NAME, root)
    assert (
        len(timed) and timed["metric"].map(lambda m: bool(records.TIMED.match(m))).all()
    )
    df = pd.concat([pd.DataFrame(payload["numbers"]), timed], ignore_index=True)
    corr = df[df["experiment"] == "abdelfattah2021/econas_vs_zero_cost"]
    sp = corr[corr["metric"].str.startswith("spearman(")]
    assert sp["value"].dropna().between(-1, 1).all()
    assert (sp["lo"].dropna() <= sp["hi"].dropna() + 1e-12).all()
    kinds = set(corr["kind"].dropna())
    assert kinds == {"reduced training", "zero-cost", "benchmark 12 epochs"}
    # the same K architectures for the first setting and every zero-cost proxy
    zc = corr[(corr["kind"] == "zero-cost") & (corr["accuracy"] == "test_acc")]
    assert zc["n"].max() == 4
    assert set(zc["proxy"]) >= {"synflow", "snip", "jacob_cov", "vote"}
    first = corr[corr["proxy"] == "r8c4e1f0.01@1"]
    assert list(first["n"]) == [4, 4]
    other = corr[corr["proxy"] == "r8c8e1f0.01@1"]
    assert list(other["n"]) == [3, 3]
    best = corr[corr["metric"] == "spearman(best zero-cost, test_acc)"].iloc[0]
    assert best["published"] == pytest.approx(0.82)
    assert best["value"] == pytest.approx(zc["value"].max())
    # costs: measured and positive; the recorded training FLOPs are the runs' mean
    cost = df[df["experiment"] == "abdelfattah2021/cost_per_arch"].set_index("metric")
    assert (cost["value"] > 0).all()
    assert cost.loc["cpu_seconds(synflow)", "value"] < 30
    runs = train.load_table(root / NAME / "train_runs.parquet")
    r = runs[runs["setting"] == "r8c4e1f0.01"]
    assert cost.loc["flops(r8c4e1f0.01@1)", "value"] == pytest.approx(
        r["train_flops"].mean()
    )
    # the 12-epoch benchmark trains the full network on 25,000 images x 12 epochs:
    # orders of magnitude above 1 epoch of 500 images at r8c4
    assert cost.loc["flops(NB201 12-epoch)", "value"] > 1e3 * r["train_flops"].mean()
    ratio = df[df["experiment"] == "abdelfattah2021/cost_ratio"].set_index("metric")
    assert (ratio["value"] > 0).all()
    sanity = df[df["experiment"] == "sanity/best_cell_training"].iloc[0]
    assert 0 <= sanity["value"] <= 100
    for f in (
        "fig1_correlation_vs_cost",
        "reduced_vs_200ep_accuracy",
        "sanity_training_curve",
    ):
        for ext in ("png", "pdf"):
            assert (root / NAME / f"{f}.{ext}").stat().st_size > 0


def test_smoke_training_runs_are_cached(smoke):
    root, _ = smoke
    runs = train.load_table(root / NAME / "train_runs.parquet")
    assert len(runs) == 4 + 3 + 1  # econas setting, other setting, sanity run
    assert set(runs["setting"]) == SMOKE_SETTINGS
    assert (runs["n_train"] == runs["fraction"] * 50_000).all()
    assert (
        runs["train_flops"] == 3 * runs["flops_fwd"] * runs["n_train"] * runs["epochs"]
    ).all()


def test_figure_and_numbers_do_not_read_the_clock(smoke, tmp_path, monkeypatch):
    """Issue 16: re-running 07 on the same inputs gives the same numbers.json and
    figure bytes. The smoke run's cached runs are read again (nothing trains) and
    the zero-cost timer is replaced by one reporting 1 s, then 1000 s per cell:
    only timings.json may change."""
    root, payload = smoke
    src = nbformat.read(notebooks.NOTEBOOK_DIR / f"{NAME}.ipynb", as_version=4)
    p: dict = {}
    exec(src.cells[1].source, p)  # the parameters cell: literal assignments
    p.update({k: v for k, v in notebooks.SMOKE.items() if k in p})
    plan = ex.Plan.make(
        p["SETTINGS"],
        p["N_ARCHS"],
        p["N_ARCHS_OTHER"],
        p["N_ARCHS_PLUS"],
        p["N_TIME"],
        p["ZC_PROXIES"],
        p["EVAL_EPOCHS"],
        p["SANITY_SETTING"],
        p["SANITY_EVAL_EPOCHS"],
        p["TRAIN_TABLE"],
        True,
        root / NAME,
        p["SEED"],
    )
    seed, boot, ci, zc_names = p["SEED"], p["N_BOOT"], p["CI"], [*p["ZC_PROXIES"]]
    runs, n_new = ex.train_runs(plan, seed, "cpu", 1)
    assert n_new == 0  # the smoke run's cache: the same runs, not trained again
    acc_table = bench.load_table("cifar10").set_index("index")
    bud, sample, zc = ex.inputs(runs, plan, acc_table, zc_names, seed, p["BATCH_SIZE"])
    corr_df = ex.correlations(bud, sample, zc, [*zc_names, "vote"], boot, seed, ci)
    best, sanity = ex.sanity_run(plan, acc_table, seed, "cpu", 1)
    pub = reference.published("abdelfattah2021", "abstract")
    pub = pub.set_index("method")["value"]
    plotting.setup()
    outs = []
    for clock in (1.0, 1000.0):

        def fake_timer(archs, proxies, clock=clock, **kw):
            rows = [(a, k) for a in archs for k in proxies]
            return pd.DataFrame(
                [
                    {"arch_str": a, "proxy": k, "seconds": clock, "cpu_seconds": clock}
                    for a, k in rows
                ]
            )

        monkeypatch.setattr(train, "time_zero_cost", fake_timer)
        table = cx.costs(plan, bud, sample, corr_df, p["BATCH_SIZE"], seed, 1)
        ratio, cheapest = cx.ratios(table, plan)
        out = tmp_path / f"clock{clock:.0f}"
        plotting.save(figs.correlation_vs_cost(table, plan), out, "fig1")
        plt.close("all")
        rec = ex.records(
            corr_df, table, ratio, cheapest, best, sanity, plan, pub,
            [*zc_names, "vote"], p["TOLERANCE"], ci, True,
        )  # fmt: skip
        records.record(NAME, rec, {"SEED": seed}, results_dir=out)
        outs.append(out)
    # issue 17's reference-recipe runs join the figure: one dashed line per
    # setting, at their recorded cost per cell (none drawn without runs)
    ref = pd.DataFrame(
        {
            "setting": ["econas-r8c4e40s20"] * 4,
            "budget": [10, 20, 10, 20],
            "target": ["test_acc"] * 2 + ["valid_acc"] * 2,
            "rho": [0.5, 0.6, 0.4, 0.5],
            "lo": [0.4, 0.5, 0.3, 0.4],
            "hi": [0.6, 0.7, 0.5, 0.6],
            "n": [300] * 4,
            "cpu_s_per_cell": [120.0, 240.0] * 2,
            "flops_per_cell": [3.5e11, 7e11] * 2,
        }
    )
    fig = figs.correlation_vs_cost(table, plan, ref)
    for ax, x in zip(fig.axes, ([120.0, 240.0], [3.5e11, 7e11]), strict=True):
        (line,) = [
            c.lines[0]
            for c in ax.containers
            if "reference recipe" in str(c.get_label())
        ]
        assert list(line.get_xdata()) == x and list(line.get_ydata()) == [0.5, 0.6]
    empty = figs.correlation_vs_cost(table, plan, ref.iloc[:0])
    assert not any("reference" in str(c.get_label()) for c in empty.axes[0].containers)
    plt.close("all")
    a, b = outs
    assert (a / "timings.json").read_text() != (b / "timings.json").read_text()
    for f in ("numbers.json", "fig1.png", "fig1.pdf"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    # and the notebook's own run (the real timer) recorded the same numbers
    assert (
        json.loads((a / "numbers.json").read_text())["numbers"] == (payload["numbers"])
    )


def test_zero_cost_seconds_plotted_are_the_committed_bench():
    singles = json.loads(lookup.SPEED_JSON.read_text())["singles"]
    assert cx.bench_seconds("synflow") == singles["synflow"]["median"] > 0
    assert cx.bench_seconds("vote") == pytest.approx(
        sum(singles[p]["median"] for p in stats.VOTE_MEMBERS)
    )
