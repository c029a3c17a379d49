"""Smoke runs of the search notebooks 04, 05 and 06, and checks of what they record.

    .venv/bin/python -m pytest -q tests/test_nb_04_05_06.py

Each notebook runs at the tiny size (:data:`zclib.notebooks.SMOKE`: 3 runs per
setting, 20 bootstrap resamples) into a temporary results root (06 also with 100
trained models per run instead of 300), then 99 summarises that root. About a
minute on 2 CPU cores; needs ../shared (benchmark tables, references).
"""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from zclib import notebooks, records

NAMES = (
    "04_search_course_project",
    "05_search_baselines_time_budget",
    "06_search_zero_cost_speedup",
)
REQUIRED_PARAMS = {"SEED", "DATASETS", "RESULTS_DIR", "N_RUNS", "SMOKE"}
STAND_IN = "ImageNet16-120"


# ------------------------------------------------------------- stored notebooks


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_parameters_and_stays_thin(name):
    """Common stored form: test_notebooks_stored.py; here the parameters these need,
    and no search algorithm written in a notebook (they live in zclib.search)."""
    path = notebooks.NOTEBOOK_DIR / f"{name}.ipynb"
    declared = notebooks.declared_parameters(path)
    assert REQUIRED_PARAMS <= declared, REQUIRED_PARAMS - declared
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "def rea" not in code and "deque" not in code


# ------------------------------------------------------------------ smoke runs


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, shared_dir):
    root = tmp_path_factory.mktemp("nb_search_smoke")
    notebooks.run("04_search_course_project", smoke=True, results_dir=root)
    notebooks.run("05_search_baselines_time_budget", smoke=True, results_dir=root)
    notebooks.run(
        "06_search_zero_cost_speedup",
        smoke=True,
        results_dir=root,
        params={"MAX_MODELS": 100},
    )
    notebooks.run("99_summary", smoke=True, results_dir=root)
    return root


def numbers(root, name) -> tuple[dict, pd.DataFrame]:
    return records.read_numbers(name, root)


def figures(root, name, stems):
    for stem in stems:
        for ext in ("png", "pdf"):
            assert (root / name / f"{stem}.{ext}").stat().st_size > 0, stem


def test_04_numbers(smoke_root):
    prov, df = numbers(smoke_root, "04_search_course_project")
    assert prov["N_RUNS"] == 3 and prov["SMOKE"] is True
    assert prov["REA_POPULATION"] == 64 and prov["REA_SAMPLE"] == 20
    assert prov["REA_MODELS"] == 1000
    course = df[df["experiment"].str.startswith("cossu_course/table")]
    means = course[course["metric"].str.startswith("valid_acc_12ep_mean(")]
    assert means["tabulation"].eq("best cell per run").all()
    # Table I: 3 N x 3 datasets; Tables II-V: 1 row x 3 datasets each
    assert len(means) == 3 * 3 + 4 * 3
    assert means["value"].between(0, 100).all()
    assert means["published"].notna().all() and means["tolerance"].eq(2.0).all()
    acc = df[df["metric"].str.contains("acc_mean")]
    assert acc["value"].between(0, 100).all()
    si = course["dataset"] == STAND_IN
    assert course.loc[si, "stand_in"].all() and not course.loc[~si, "stand_in"].any()
    assert course.loc[si, "note"].str.contains("stand-in").all()
    # REA with NASWOT at the paper's settings lands near the paper on CIFAR-10
    # (a wide band: 3 runs; the paper's run-to-run sd is 3.7 points)
    rea = means[
        (means["metric"] == "valid_acc_12ep_mean(rea_naswot)")
        & (means["dataset"] == "cifar10")
    ].iloc[0]
    assert rea["published"] == pytest.approx(75.374)
    assert abs(rea["value"] - rea["published"]) < 10
    # the course tabulation: one mean and one sd per published row, both errors
    cells = course[course["tabulation"] == "course tabulation: all evaluated cells"]
    all_means = cells[cells["metric"].str.startswith("valid_acc_12ep_mean_all")]
    assert len(all_means) == len(means) and all_means["se"].gt(0).all()
    assert all_means["tolerance"].eq(1.5).all() and all_means["check"].notna().all()
    t1 = all_means["experiment"] == "cossu_course/table1_rs_naswot"
    assert all_means.loc[t1, "se_published"].gt(0).all()
    assert (
        all_means.loc[~t1 & ~all_means["experiment"].str.contains("table1")]["note"]
        .str.contains("5a6f120")
        .all()
    )
    unstated = means[
        means["experiment"].isin(
            ["cossu_course/table2_rs_naswot", "cossu_course/table3_rs_synflow"]
        )
    ]
    assert unstated["note"].str.contains("N not printed").all()
    mel = df[df["experiment"] == "mellor2021_naswot/table2a_nb201_search"]
    # naswot N10/100/1000, random, optimal N10/N100 x valid/test x 3 datasets
    assert len(mel) == 6 * 2 * 3
    assert mel["value"].between(0, 100).all() and mel["published"].notna().all()
    assert not mel["stand_in"].any()  # CIFAR-10 scores; benchmark accuracies
    assert mel["se"].gt(0).all() and mel["n_runs"].eq(3).all()  # MELLOR_RUNS smoke
    n1000 = mel[mel["metric"] == "test_acc_mean(naswot_N1000)"].set_index("dataset")
    assert abs(n1000.loc["cifar10", "value"] - 92.96) < 3
    figures(
        smoke_root,
        "04_search_course_project",
        [
            "course_tables_published_vs_ours",
            "accuracy_distributions",
            "mellor_table2a_published_vs_ours",
        ],
    )


def test_05_numbers(smoke_root):
    prov, df = numbers(smoke_root, "05_search_baselines_time_budget")
    assert prov["N_RUNS"] == 3 and prov["N_BOOT"] == 20
    assert prov["BUDGETS"] == {
        "cifar10": 20000.0,
        "cifar100": 40000.0,
        "ImageNet16-120": 120000.0,
    }
    tb = df[df["experiment"] == "dong2021_natsbench/time_budget"]
    assert len(tb) == 3 * 3 * 3  # datasets x algorithms x (test, valid, models)
    acc = tb[tb["metric"].str.contains("acc_mean")]
    assert acc["value"].between(0, 100).all()
    models = tb[tb["metric"].str.startswith("models_trained")]
    assert (models["value"] > 10).all()  # a budget buys tens of 12-epoch trainings
    assert not df["stand_in"].any()  # no proxy scores are used here
    vs = df[df["experiment"] == "dong2021_natsbench/rea_vs_rs"]
    assert len(vs) == 3 * 2 * 2  # datasets x (REA, REINFORCE) x (full, half budget)
    assert (vs["lo"] <= vs["hi"]).all() and vs["p_value"].between(0, 1).all()
    mel = df[df["experiment"] == "mellor2021_naswot/table2a_nb201_search"]
    assert len(mel) == 3 * 3 * 2 and mel["published"].notna().all()
    assert mel["value"].between(0, 100).all()
    rea = mel[mel["metric"] == "test_acc_mean(rea_12000s)"].set_index("dataset")
    assert abs(rea.loc["cifar10", "value"] - rea.loc["cifar10", "published"]) < 2
    figures(
        smoke_root,
        "05_search_baselines_time_budget",
        ["best_so_far_vs_time", "mellor_12000s_published_vs_ours"],
    )


def test_06_numbers(smoke_root):
    prov, df = numbers(smoke_root, "06_search_zero_cost_speedup")
    assert prov["N_RUNS"] == 3 and prov["MAX_MODELS"] == 100
    acc = df[df["metric"].str.startswith("test_acc_mean_at_")]
    # RS: 2 variants, others 4; at 10, 25, 50, 100 models; 3 datasets
    assert len(acc) == (2 + 4 * 3) * 4 * 3
    assert acc["value"].between(0, 100).all()
    si = df["dataset"] == STAND_IN
    assert df.loc[si, "stand_in"].all() and not df.loc[~si, "stand_in"].any()
    assert df.loc[si, "note"].str.contains("stand-in").all()
    at10 = acc[acc["dataset"] == "cifar100"].set_index("metric")["value"]
    # the warm-up starts REA from the proxy's best cells: better after 10 models
    assert (
        at10["test_acc_mean_at_10(REA, warm-up)"]
        > at10["test_acc_mean_at_10(REA, plain)"]
    )
    med = df[df["metric"].str.startswith("median_models_to_target")]
    finite = med["value"].dropna()  # a target never reached is recorded as null
    assert finite.between(1, 100).all()
    red = df[df["metric"].str.startswith("reduction_factor")]
    assert len(red) == (1 + 3 * 3) * 2 * 3  # variants x target quantiles x datasets
    figures(
        smoke_root,
        "06_search_zero_cost_speedup",
        ["best_so_far_vs_trained_models", "reduction_factors"],
    )


def test_99_summary_shows_search_numbers(smoke_root):
    summary = pd.read_csv(smoke_root / "99_summary" / "summary.csv")
    assert {"04_search_course_project", "05_search_baselines_time_budget"} <= set(
        summary["notebook"]
    )
    _, d04 = numbers(smoke_root, "04_search_course_project")
    _, d05 = numbers(smoke_root, "05_search_baselines_time_budget")
    n_pub = int(d04["published"].notna().sum() + d05["published"].notna().sum())
    assert len(summary) == n_pub
