"""Notebook 07 (reduced training vs zero-cost): stored form and a smoke run.

    .venv/bin/python -m pytest -q tests/test_nb_07.py

The smoke run (:data:`zclib.notebooks.SMOKE`, which the notebook turns into 4 archs,
two 1-epoch settings on 1% of the images) trains into a temporary results root and
must leave the shipped table ``results/train/`` untouched. ~40 s on 2 CPU cores.
"""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from zclib import notebooks, records, train

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
