"""Smoke runs of notebooks 02, 03 and 99, and checks of the numbers they record.

    .venv/bin/python -m pytest -q tests/test_nb_02_03_99.py

02 and 03 run at the tiny size (:data:`zclib.notebooks.SMOKE`: 40 cells, 20
bootstrap resamples) into a temporary results root, then 99 summarises that root.
02 also scores the reference fisher on 2 cells per dataset (CPU, cached under
``results/cache/scores/`` after the first run). About 1-3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zclib import notebooks, records, results

NAMES = ("02_zico_vs_params", "03_naswot_correlation", "99_summary")
# the parameters each uses (99 only reads recorded numbers: no size knob)
REQUIRED_PARAMS = {
    "02_zico_vs_params": {
        "SEED",
        "DATASETS",
        "N_ARCHS",
        "RESULTS_DIR",
        "N_BOOT",
    },
    "03_naswot_correlation": {
        "SEED",
        "DATASETS",
        "N_ARCHS",
        "BATCH_SIZE",
        "DEVICE",
        "RESULTS_DIR",
        "N_BOOT",
    },
    "99_summary": {"SEED", "DATASETS", "RESULTS_ROOT", "RESULTS_DIR"},
}
STAND_IN = "ImageNet16-120"


# ------------------------------------------------------------- stored notebooks


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_parameters(name):
    """Common stored form: test_notebooks_stored.py; here the parameters these need."""
    declared = notebooks.declared_parameters(notebooks.NOTEBOOK_DIR / f"{name}.ipynb")
    assert REQUIRED_PARAMS[name] <= declared, REQUIRED_PARAMS[name] - declared


# ------------------------------------------------------------------ smoke runs


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, shared_dir):
    root = tmp_path_factory.mktemp("nb_smoke")
    notebooks.run("02_zico_vs_params", smoke=True, results_dir=root)
    notebooks.run("03_naswot_correlation", smoke=True, results_dir=root)
    notebooks.run("99_summary", smoke=True, results_dir=root)
    return root


def numbers(root, name) -> tuple[dict, pd.DataFrame]:
    return records.read_numbers(name, root)


def check_stand_in(df: pd.DataFrame) -> None:
    real = df[df["dataset"].isin(["cifar10", "cifar100"])]
    assert df.loc[df["dataset"] == STAND_IN, "stand_in"].eq(True).all()
    assert real["stand_in"].eq(False).all()
    assert df.loc[df["dataset"] == STAND_IN, "note"].str.contains("stand-in").all()


def test_02_numbers(smoke_root):
    prov, df = numbers(smoke_root, "02_zico_vs_params")
    assert prov["N_ARCHS"] == 40 and prov["N_BOOT"] == 20 and "FISHER_N" not in prov
    assert {"zclib_version", "git_commit", "git_dirty"} <= set(prov)
    corr = df[df["experiment"] == "li2023_zico/table3_nats_tss"]
    # 10 proxies (the reference fisher among them) x 2 statistics x 2 accuracies x 3
    assert len(corr) == 10 * 2 * 2 * 3
    assert corr["value"].dropna().between(-1, 1).all()
    assert corr.loc[corr["proxy"] == "zico", "value"].notna().all()
    # published values sit on the test_acc rows of the paper's proxies, nowhere else
    has_pub = corr["published"].notna()
    assert set(corr.loc[has_pub, "accuracy"]) == {"test_acc"}
    assert set(corr.loc[has_pub, "proxy"]) == {
        "zico",
        "params",
        "flops",
        "naswot",
        "synflow",
        "snip",
        "grad_norm",
        "grasp",
        "fisher",
    }
    assert corr.loc[has_pub, "tolerance"].notna().all()
    z = corr[(corr["metric"] == "kendall_tau(zico, test_acc)")].set_index("dataset")
    assert z.loc["cifar10", "published"] == pytest.approx(0.61)
    # fisher is over the same 40 cells as the rest (the full-space table has it)
    assert (
        (
            corr.loc[corr["proxy"] == "fisher", "n"]
            + corr.loc[corr["proxy"] == "fisher", "n_nan"]
        )
        .eq(40)
        .all()
    )
    check_stand_in(corr)
    pb = df[df["experiment"] == "li2023_zico/zico_vs_params_paired_bootstrap"]
    assert len(pb) == 3 * 2 * 2
    assert (pb["lo"] <= pb["hi"]).all()  # (a percentile CI need not hold the estimate)
    assert pb["p_value"].between(0, 1).all()
    assert pb.loc[pb["accuracy"] == "test_acc", "published"].notna().all()
    check_stand_in(pb)
    # the later proxies vs #params, on every dataset whose suite prefix is there
    vs = df[df["experiment"] == "proxy_suite_vs_params"]
    have = set(prov["DATASETS"]) - set(prov["suite_missing"])
    assert prov["SUITE_N"] == 50 and have and set(vs["dataset"]) == have
    assert len(vs) == len(have) * 2 * 6 and vs["n"].le(50).all()
    assert (vs["ci_lo"] <= vs["ci_hi"]).all()
    gap = vs["proxy_value"] - vs["params_value"] - vs["value"]
    assert gap.abs().max() < 1e-12
    figures = ["table3_published_vs_ours", "zico_minus_params_bootstrap"]
    for f in figures + ["suite_minus_params_bootstrap"]:
        for ext in ("png", "pdf"):
            assert (smoke_root / "02_zico_vs_params" / f"{f}.{ext}").stat().st_size > 0


def test_03_numbers(smoke_root):
    prov, df = numbers(smoke_root, "03_naswot_correlation")
    assert prov["N_ARCHS"] == 40
    corr = df[df["experiment"] == "naswot_correlation"]
    assert len(corr) == 3 * 4 * 3  # datasets x accuracies x statistics
    assert corr["value"].between(-1, 1).all()
    # the smoke sample still ranks cells: NASWOT correlates positively everywhere
    assert (corr.loc[corr["accuracy"] == "test_acc", "value"] > 0).all()
    pub = corr[corr["published"].notna()].set_index(["metric", "dataset"])
    assert len(pub) == 6
    assert pub.loc[
        ("pearson(naswot, valid_acc_12ep)", "cifar10"), "published"
    ] == pytest.approx(0.7357)
    assert pub.loc[
        ("kendall(naswot, test_acc)", "cifar100"), "published"
    ] == pytest.approx(0.611)
    check_stand_in(corr)
    kern = df[df["experiment"] == "naswot_kernel"]
    assert len(kern) == 6
    # the recomputed kernel gives the table's score (both fp32)
    rel = (kern["value"] - kern["table_score"]).abs() / kern["table_score"].abs()
    assert rel.max() < 1e-5
    for f in ("naswot_vs_accuracy", "naswot_kernels"):
        assert (smoke_root / "03_naswot_correlation" / f"{f}.png").stat().st_size > 0


def test_99_summary(smoke_root):
    out = smoke_root / "99_summary"
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["notebook"]) == {"02_zico_vs_params", "03_naswot_correlation"}
    assert len(summary) == 9 * 3 * 2 + 3 * 2 + 6  # 02 table + 02 deltas + 03
    assert summary["published"].notna().all() and summary["reproduced"].notna().all()
    delta = summary["reproduced"] - summary["published"]
    assert (delta - summary["delta"]).abs().max() < 1e-9
    within = summary["within"].astype(str).str.lower() == "true"
    assert (within == (summary["delta"].abs() <= summary["tolerance"])).all()
    si = summary["dataset"] == STAND_IN
    assert summary.loc[si, "stand_in"].astype(bool).all()
    assert not summary.loc[~si, "stand_in"].astype(bool).any()
    assert summary.loc[si, "note"].str.contains("stand-in", case=False).all()
    assert set(summary["status"]) <= set(results.STATUSES)
    good = {"within", "consistent within sampling error", "no tolerance"}
    # explained and pending carry their pointer; an outside row without one (at
    # the smoke size, 02's correlations over 40 cells) is counted on the page
    dev = summary[~summary["status"].isin(good)]
    assert dev.loc[dev["status"] != "outside", "pointer"].notna().all()
    bare = int(((dev["status"] == "outside") & dev["pointer"].isna()).sum())
    md = (out / "summary.md").read_text()
    assert bare == 0 or f"**{bare} outside without a pointer to a check.**" in md
    assert "## Per exhibit" in md and "## Deviations, worst first" in md
    head = md.split("## Per exhibit")[0]
    for status in results.STATUSES:
        assert f"{int((summary['status'] == status).sum())} {status}" in head
    dev_table = md.split("## Deviations, worst first")[1]
    assert dev_table.count("\n| 0") == len(dev)  # one row per deviation
    _, rec = numbers(smoke_root, "99_summary")
    counts = rec.set_index("metric")["value"]
    assert counts["n_compared"] == len(summary)
    assert sum(counts[f"n_status[{s}]"] for s in results.STATUSES) == len(summary)
    assert counts["n_within_tolerance"] == int(within.sum())
    missing = set(notebooks.notebook_names()) - {*NAMES}
    assert counts["n_notebooks_missing"] == len(missing)
    assert (out / "published_vs_reproduced.png").stat().st_size > 0


def test_99_with_nothing_run(tmp_path, shared_dir):
    """The summary must run (and say so) when no notebook has recorded anything."""
    notebooks.run("99_summary", smoke=True, results_dir=tmp_path)
    summary = pd.read_csv(tmp_path / "99_summary" / "summary.csv")
    assert len(summary) == 0
    _, rec = numbers(tmp_path, "99_summary")
    counts = rec.set_index("metric")["value"]
    assert counts["n_compared"] == 0
    assert counts["n_notebooks_missing"] == len(notebooks.notebook_names()) - 1
    assert not math.isnan(counts["n_within_tolerance"])
