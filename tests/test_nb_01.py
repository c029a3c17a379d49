"""Notebooks 00 (data check) and 01 (NB201 Spearman table): stored form and smoke runs.

    .venv/bin/python -m pytest -q tests/test_nb_01.py

The smoke runs execute each notebook once with papermill at the SMOKE sizes of
:mod:`zclib.notebooks` (N_ARCHS=40, N_BOOT=20) into a temporary folder and check
the numbers it records. Notebook 01 scores the reference fisher on CPU for its 40
cells: ~1-3 min the first time, then read from results/cache/scores/.
"""

from __future__ import annotations

import json
import math

import pytest

from zclib import notebooks

NAMES = ("00_data_check", "01_table_spearman_nb201")
PAPER = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov")
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
STAND_IN = "ImageNet16-120"


# ------------------------------------------------------------ stored notebooks


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_parameters(name):
    """The common stored form is checked for every notebook in
    test_notebooks_stored.py; here, what these two need beyond it."""
    declared = notebooks.declared_parameters(notebooks.NOTEBOOK_DIR / f"{name}.ipynb")
    assert {"SEED", "N_ARCHS", "RESULTS_DIR", "DATASETS"} <= declared
    assert ("N_BOOT" in declared) is (name == "01_table_spearman_nb201")  # 00: no CIs


# ------------------------------------------------------------------ smoke runs


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, shared_dir):
    """Both notebooks executed once at SMOKE size; returns the results root."""
    root = tmp_path_factory.mktemp("nb_smoke")
    for name in NAMES:
        notebooks.run(name, smoke=True, results_dir=root)
    return root


def _numbers(root, name) -> dict:
    path = root / name / "numbers.json"
    assert path.exists(), f"{name} wrote no numbers.json"
    return json.loads(path.read_text())


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def test_data_check_records(smoke_root):
    payload = _numbers(smoke_root, "00_data_check")
    assert payload["provenance"]["N_ARCHS"] == 40  # the smoke size was applied
    rows = {(r["dataset"], r["metric"]): r for r in payload["numbers"]}
    for ds in DATASETS:
        assert rows[(ds, "n_archs_benchmark")]["value"] == 15_625
        assert rows[(ds, "n_train_images")]["value"] > 0
        mean = rows[(ds, "mean_test_acc_200ep")]["value"]
        best = rows[(ds, "max_test_acc_200ep")]["value"]
        assert 0 < mean <= best <= 100
        assert all(
            r["stand_in"] is (ds == STAND_IN) for (d, _), r in rows.items() if d == ds
        )
    for fig in ("accuracy_hist", "sample_images"):
        for ext in ("png", "pdf"):
            assert (smoke_root / "00_data_check" / f"{fig}.{ext}").stat().st_size > 0


def test_spearman_table_records(smoke_root):
    payload = _numbers(smoke_root, "01_table_spearman_nb201")
    prov = payload["provenance"]
    assert prov["N_ARCHS"] == 40 and prov["N_BOOT"] == 20
    assert prov["fisher_archs"] == {ds: 40 for ds in DATASETS}  # min(N_ARCHS, FISHER_N)
    rows = payload["numbers"]
    table = [r for r in rows if r["experiment"] == "table_spearman_nb201"]
    by_key = {(r["dataset"], r["method"], r["subset"], r["target"]): r for r in table}
    for r in rows:
        assert r["stand_in"] is (r["dataset"] == STAND_IN), r["metric"]
        low = -1 if r["experiment"] == "proxy_suite_nb201" else 0  # signed there
        if r["value"] is not None:  # top-10% of 40 cells may be undefined (NaN -> None)
            assert low <= r["value"] <= 1, r
    # the proxies added later, on the committed prefix of the full-space suite job
    assert prov["SUITE_N"] == 50
    suite = [r for r in rows if r["experiment"] == "proxy_suite_nb201"]
    have = {r["dataset"] for r in suite}
    assert have | set(prov["suite_missing"]) == set(DATASETS)
    for r in suite:
        assert r["n"] + r["n_nan"] == 50 and r["target"] in ("test_acc", "valid_acc")
    for ds in DATASETS:
        for p in PAPER:
            r = by_key[(ds, p, "all", "test_acc")]
            assert _finite(r["value"]), r
            assert _finite(r["published"]) and 0 < r["published"] < 1
            assert 0 <= r["ci_lo"] <= r["ci_hi"] <= 1
            # the tolerance applies to CIFAR only: ImageNet16-120 images are a stand-in
            assert ("tolerance" in r) is (ds != STAND_IN)
        for extra in ("valid_acc_12ep", "fisher", "vote", "naswot", "zico"):
            for target in ("test_acc", "valid_acc"):
                assert _finite(by_key[(ds, extra, "all", target)]["value"])
        assert (ds, "valid_acc_12ep", "top10", "test_acc") in by_key
    # CIFAR-10: the paper's target is between our two, so both carry the published value
    for p in PAPER:
        assert "published" in by_key[("cifar10", p, "all", "valid_acc")]
        assert "published" not in by_key[("cifar100", p, "all", "valid_acc")]
    votes = {
        (r["dataset"], r["target"]): r
        for r in rows
        if r["experiment"] == "vote_pairwise_agreement"
    }
    assert set(votes) == {(ds, t) for ds in DATASETS for t in ("test_acc", "valid_acc")}
    for ds, published in zip(DATASETS, (0.817, 0.832, 0.813), strict=True):
        r = votes[(ds, "test_acc")]
        assert r["published"] == pytest.approx(published)
        assert 0.5 < r["value"] <= 1  # 40 cells: well above chance, not exact
    for fig in (
        "reproduced_vs_published",
        "spearman_heatmap",
        *(f"scatter_{ds}" for ds in DATASETS),
    ):
        for ext in ("png", "pdf"):
            assert (smoke_root / "01_table_spearman_nb201" / f"{fig}.{ext}").exists()


def test_fisher_sample_effect_only_for_a_smaller_fisher_sample():
    """fisher_fs over the same cells as the rest (the default): nothing to show;
    over a sample: |rho| of the others on exactly those cells."""
    import numpy as np
    import pandas as pd

    from zclib.exhibits import spearman_nb201_fisher as fx

    rng = np.random.default_rng(0)
    n = 30
    tab = pd.DataFrame({"arch_str": [f"a{i}" for i in range(n)]})
    tab["test_acc"] = rng.normal(size=n)
    for p in ("fisher", "synflow", "snip"):
        tab[p] = tab["test_acc"] + rng.normal(size=n)
    fish = tab[["arch_str"]].assign(fisher_fs=tab["test_acc"] + rng.normal(size=n))
    corr = pd.DataFrame(
        [
            dict(
                dataset="d", target="test_acc", proxy=p, subset="all", abs_rho=0.5, n=n
            )
            for p in ("fisher_fs", "fisher", "synflow", "snip")
        ]
    )
    assert fx.fisher_sample_effect({"d": tab}, {"d": fish}, corr).empty
    got = fx.fisher_sample_effect({"d": tab}, {"d": fish.iloc[:12]}, corr)
    assert (got["n"] == 12).all() and (got["n all"] == n).all()
    assert len(got) == 4
