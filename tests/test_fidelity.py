"""Statuses of a published number (zclib.fidelity.assess) and the course project's
all-cells tabulation (zclib.exhibits.course_tabulation), on hand-made inputs."""

import numpy as np
import pytest

from zclib import results, search
from zclib.exhibits import course_tabulation as ct


@pytest.mark.parametrize(
    "kwargs, status, pointer",
    [
        (dict(ours=1.0, published=1.5, tol=1.0), "within", None),
        # 2.0 > tol, but 2.0 <= 2 x sqrt(0.6^2 + 0.8^2) = 2.0
        (
            dict(ours=3.0, published=1.0, tol=1.0, se_ours=0.6, se_published=0.8),
            "consistent within sampling error",
            None,
        ),
        # one standard error known is enough
        (
            dict(ours=3.0, published=1.0, tol=1.0, se_ours=1.0),
            "consistent within sampling error",
            None,
        ),
        (
            dict(ours=3.0, published=1.0, tol=1.0, se_ours=0.1, check="c.py"),
            "outside",
            "c.py",
        ),
        (dict(ours=3.0, published=1.0, tol=1.0), "outside", None),
        (
            dict(ours=3.0, published=1.0, tol=1.0, explained="e.py", check="c.py"),
            "explained",
            "e.py",
        ),
        (
            dict(ours=3.0, published=1.0, tol=1.0, pending="issue 7"),
            "pending",
            "issue 7",
        ),
        (dict(ours=3.0, published=1.0, tol=None), "no tolerance", None),
        (dict(ours=3.0, published=1.0, tol=float("nan")), "no tolerance", None),
        (dict(ours=3.0, published=1.0, tol=1.0, checked=False), "no tolerance", None),
        # a NaN of ours is never within, nor consistent
        (dict(ours=float("nan"), published=1.0, tol=1.0, se_ours=9.0), "outside", None),
    ],
)
def test_assess_status(kwargs, status, pointer):
    got = results.assess(**kwargs)
    assert got["status"] == status
    assert got["pointer"] == pointer
    assert got["status"] in results.STATUSES


def test_assess_records_delta_tolerance_and_errors():
    got = results.assess(2.0, 1.5, 1.0, se_ours=0.2, se_published=None)
    assert got["abs_delta"] == pytest.approx(0.5)
    assert got["tolerance"] == 1.0
    assert got["se_ours"] == 0.2 and np.isnan(got["se_published"])
    # within the tolerance wins over the pointers: nothing to explain
    assert results.assess(2.0, 1.5, 1.0, explained="x")["pointer"] is None


def test_rs_cells_draw_without_replacement():
    cells = ct.rs_cells(1000, 3, seed=0)
    assert cells.shape == (3, 1000)
    assert all(len(np.unique(row)) == 1000 for row in cells)
    np.testing.assert_array_equal(cells, ct.rs_cells(1000, 3, seed=0))


def test_rea_children_follow_the_tournament():
    # fitness = number of edges with op 3: a child is a one-edge mutation of a fit
    # member, so late children are far fitter than the space's mean of 6/5
    proto = ct.Protocol(rea_runs=2, population=16, sample=4, children=200)
    fitness = (search.core.cells() == 3).sum(axis=1).astype(float)
    kids = ct.rea_children(fitness, proto, seed=0)
    assert kids.shape == (2, 200)
    assert fitness[kids[:, 100:]].mean() > 3.0
