"""Shipped tables + partial add-ons: only real gaps are computed; records round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zclib import results, scoring, space


@pytest.fixture
def fake_shipped(tmp_path, monkeypatch):
    archs = space.benchmark_order()
    main = pd.DataFrame({"arch_str": archs, "index": np.arange(len(archs)),
                         "seed": 0, "batch_size": 64,
                         "snip": np.arange(len(archs), dtype=float)})
    main.loc[5, "snip"] = np.nan  # a real NaN score, not a gap
    main.to_parquet(tmp_path / "nb201_cifar10.parquet")
    perm = results.sample_archs(None, 0)
    add = pd.DataFrame({"arch_str": perm[:3], "fisher": [1.0, np.nan, 3.0]})
    add.to_parquet(tmp_path / "nb201_cifar10_fisher.parquet")
    monkeypatch.setattr(results, "SCORES_DIR", tmp_path)
    monkeypatch.setattr(results, "CACHE_DIR", tmp_path / "cache")
    calls = []

    def fake_score(archs, ds, names, **kw):
        calls.append((list(archs), list(names)))
        return pd.DataFrame({"arch_str": archs, **{n: 7.0 for n in names}})

    monkeypatch.setattr(scoring, "score_archs", fake_score)
    return calls


def test_sample_prefixes_are_nested():
    assert results.sample_archs(10, 0) == results.sample_archs(100, 0)[:10]
    assert len(set(results.sample_archs(100, 0))) == 100


def test_only_uncovered_archs_of_add_on_columns_are_computed(fake_shipped):
    t = results.shipped("cifar10")
    assert t.attrs["coverage"] == {"snip": 15625, "fisher": 3}
    df = results.load_scores("cifar10", ["snip"], n_archs=10)
    assert df.attrs["origin"] == "shipped" and not fake_shipped  # NaN snip is real
    df = results.load_scores("cifar10", ["snip", "fisher"], n_archs=5)
    archs, names = fake_shipped[-1]
    assert names == ["fisher"] and archs == results.sample_archs(5, 0)[3:]
    assert df["fisher"].iloc[0] == 1.0 and np.isnan(df["fisher"].iloc[1])
    assert (df["fisher"].iloc[3:] == 7.0).all()


def test_record_and_load_records(tmp_path):
    rows = [{"experiment": "e", "metric": "m", "dataset": "cifar10",
             "value": np.float64(0.5), "published": 0.6}]
    results.record("nb", rows, {"SEED": 0}, results_dir=tmp_path / "nb")
    df = results.load_records(tmp_path)
    assert df.loc[0, "value"] == 0.5 and df.loc[0, "notebook"] == "nb"
    with pytest.raises(ValueError, match="lacks"):
        results.record("nb", [{"experiment": "e"}], {}, results_dir=tmp_path / "nb")


def test_shipped_scores_are_not_used_for_another_batch_size(fake_shipped):
    df = results.load_scores("cifar10", ["snip"], n_archs=2, batch_size=32)
    assert fake_shipped[-1] == (results.sample_archs(2, 0), ["snip"])
    assert df.attrs["origin"] == "computed" and (df["snip"] == 7.0).all()
