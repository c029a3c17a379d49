"""Functional tier: our own recorded numbers, recomputed from the shipped tables.

    .venv/bin/python -m pytest -q tests/test_functional.py      # ~10 s, in `make test`
    .venv/bin/python -m pytest -q -m functional                 # this tier alone

Recomputes the key correlations of notebooks 01 (Spearman table: |ρ| of every
score but the vote, all cells and top-10%, both targets; fisher_fs on its 3,000
shipped cells), 02 (ZiCo Table 3: Kendall τ and Spearman ρ of every
proxy) and 03 (NASWOT: Pearson, Spearman, Kendall against four accuracies) from
``results/scores/fp32/`` and the benchmark tables, and compares each with the committed
``results/<notebook>/numbers.json`` to 1e-6 (absolute). No scoring, no bootstrap:
only the point estimates, which are exact functions of the shipped tables. A test
here fails when a committed number drifts by 1e-4 (checked by
:func:`test_the_tier_sees_a_1e_4_change`).
"""

from __future__ import annotations

import numpy as np
import pytest

from zclib import records, results, stats
from zclib.exhibits import spearman_nb201

pytestmark = pytest.mark.functional

ABS = 1e-6  # committed vs recomputed
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NB02_PROXIES = (
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "synflow",
    "naswot",
    "flops",
    "params",
    "zico",
    "jacob_cov",
)  # notebook 02's table rows
NB03_ACCS = ("valid_acc", "test_acc", "valid_acc_12ep", "test_acc_12ep")


@pytest.fixture(scope="module")
def tables(shared_dir):  # benchmark accuracies come from ../shared (or data/)
    """Every shipped score column + benchmark accuracies, per dataset."""
    return {
        ds: results.with_accuracy(results.load_scores(ds, spearman_nb201.SHIPPED), ds)
        for ds in DATASETS
    }


def committed(name: str) -> dict:
    """(experiment, metric, dataset) -> value of a committed numbers.json."""
    _, numbers = records.read_numbers(name)
    return {(r.experiment, r.metric, r.dataset): r.value for r in numbers.itertuples()}


def mismatches(ours: dict, recorded: dict) -> list[str]:
    """Keys of ``ours`` whose committed value is missing or off by more than ABS."""
    assert ours, "nothing recomputed"
    bad = []
    for key, value in ours.items():
        if key not in recorded:
            bad.append(f"{key}: not recorded")
        elif recorded[key] is None or not np.isfinite(recorded[key]):
            if np.isfinite(value):  # NaN is recorded as null
                bad.append(f"{key}: recorded null, recomputed {value}")
        elif recorded[key] != pytest.approx(value, rel=0, abs=ABS):
            bad.append(f"{key}: recorded {recorded[key]!r}, recomputed {value!r}")
    return bad


def nb01_values(tables) -> dict:
    ex = spearman_nb201
    out = {}
    for ds, tab in tables.items():
        fish = ex.fisher_scores(ds, n_archs=None, fisher_n=None, seed=0)
        for target in ex.TARGETS:
            for subset, frac in (("all", None), ("top10", 0.1)):
                for src, cols in (
                    (tab, [*ex.SHIPPED, "valid_acc_12ep"]),
                    (fish, ex.FISH),
                ):
                    t = stats.correlation_table(
                        src, src[target].to_numpy(), cols, top_frac=frac, absolute=True
                    )
                    for r in t.itertuples():
                        key = (
                            ex.EXPERIMENT,
                            f"{r.proxy}:abs_spearman_{subset}_{target}",
                            ds,
                        )
                        out[key] = r.rho
    return out


def nb02_values(tables) -> dict:
    out = {}
    for ds, tab in tables.items():
        for acc in ("test_acc", "valid_acc"):
            for metric, method in (
                ("kendall_tau", "kendall"),
                ("spearman", "spearman"),
            ):
                t = stats.correlation_table(
                    tab, tab[acc].to_numpy(), NB02_PROXIES, method=method
                )
                for r in t.itertuples():
                    key = (
                        "li2023_zico/table3_nats_tss",
                        f"{metric}({r.proxy}, {acc})",
                        ds,
                    )
                    out[key] = r.rho
    return out


def nb03_values(tables) -> dict:
    out = {}
    for ds, tab in tables.items():
        for acc in NB03_ACCS:
            for st in ("pearson", "spearman", "kendall"):
                value, _ = getattr(stats, st)(tab["naswot"], tab[acc])
                out[("naswot_correlation", f"{st}(naswot, {acc})", ds)] = value
    return out


def test_notebook_01_spearman_table(tables):
    ours = nb01_values(tables)
    # datasets x targets x subsets x scores (every score of the table but the vote)
    assert len(ours) == 3 * 2 * 2 * (len(spearman_nb201.SCORES) - 1)
    assert mismatches(ours, committed("01_table_spearman_nb201")) == []


def test_notebook_02_zico_table3(tables):
    ours = nb02_values(tables)
    assert len(ours) == 3 * 2 * 2 * len(NB02_PROXIES)
    assert mismatches(ours, committed("02_zico_vs_params")) == []


def test_notebook_03_naswot_correlations(tables):
    ours = nb03_values(tables)
    assert len(ours) == 3 * len(NB03_ACCS) * 3
    assert mismatches(ours, committed("03_naswot_correlation")) == []


@pytest.mark.parametrize(
    "notebook",
    ["01_table_spearman_nb201", "02_zico_vs_params", "03_naswot_correlation"],
)
def test_the_tier_sees_a_1e_4_change(tables, notebook):
    """Each notebook's comparison flags one committed number moved by 1e-4."""
    ours = {
        "01_table_spearman_nb201": nb01_values,
        "02_zico_vs_params": nb02_values,
        "03_naswot_correlation": nb03_values,
    }[notebook](tables)
    recorded = committed(notebook)
    key = next(k for k in ours if np.isfinite(ours[k]))
    recorded[key] += 1e-4
    (only,) = mismatches(ours, recorded)
    assert only.startswith(f"{key}: recorded")
