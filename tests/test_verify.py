"""The shipped-score verification: passes on a real sample, catches a corrupted
table."""

from __future__ import annotations

import pytest

from zclib import results, verify


@pytest.fixture
def stand_in_shipped(shared_dir):
    if results.shipped("ImageNet16-120") is None:
        pytest.skip("no shipped ImageNet16-120 scores")
    return "ImageNet16-120"


def test_recomputed_sample_matches_shipped(stand_in_shipped):
    df = verify.verify(
        stand_in_shipped,
        n=2,
        seed=5,
        proxies=["snip", "synflow", "naswot", "params"],
        progress=False,
    )
    assert len(df) == 8
    assert df["ok"].all(), df


def test_a_corrupted_table_is_caught(stand_in_shipped, monkeypatch):
    real = results.shipped

    def corrupted(ds):
        t = real(ds)
        t["synflow"] = t["synflow"] * 1.01
        return t

    monkeypatch.setattr(results, "shipped", corrupted)
    df = verify.verify(
        stand_in_shipped, n=2, seed=5, proxies=["synflow"], progress=False
    )
    assert not df["ok"].any()
