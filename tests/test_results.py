"""Shipped tables + partial add-ons: only real gaps are computed; records round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zclib import records, results, scoring, space


@pytest.fixture
def fake_shipped(tmp_path, monkeypatch):
    archs = space.benchmark_order()
    main = pd.DataFrame(
        {
            "arch_str": archs,
            "index": np.arange(len(archs)),
            "seed": 0,
            "batch_size": 64,
            "snip": np.arange(len(archs), dtype=float),
        }
    )
    main.loc[5, "snip"] = np.nan  # a real NaN score, not a gap
    main.to_parquet(tmp_path / "nb201_cifar10.parquet")
    perm = space.sample(None, 0)
    add = pd.DataFrame({"arch_str": perm[:3], "fisher": [1.0, np.nan, 3.0]})
    add.to_parquet(tmp_path / "nb201_cifar10_fisher.parquet")
    monkeypatch.setattr(results, "SCORES_DIR", tmp_path)
    monkeypatch.setattr(results, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(results, "VARIANTS_DIR", tmp_path / "variants")
    calls = []

    def fake_score(archs, ds, names, **kw):
        calls.append((list(archs), list(names)))
        fake_score.variant = kw.get("variant")
        return pd.DataFrame({"arch_str": archs, **{n: 7.0 for n in names}})

    monkeypatch.setattr(scoring, "score_archs", fake_score)
    return calls


def test_sample_prefixes_are_nested():
    assert space.sample(10, 0) == space.sample(100, 0)[:10]
    assert len(set(space.sample(100, 0))) == 100


def test_only_uncovered_archs_of_add_on_columns_are_computed(fake_shipped):
    t = results.shipped("cifar10")
    assert t.attrs["coverage"] == {"snip": 15625, "fisher": 3}
    df = results.compute_scores("cifar10", ["snip"], n_archs=10)
    assert df.attrs["origin"] == "shipped" and not fake_shipped  # NaN snip is real
    df = results.compute_scores("cifar10", ["snip", "fisher"], n_archs=5)
    archs, names = fake_shipped[-1]
    assert names == ["fisher"] and archs == space.sample(5, 0)[3:]
    assert df["fisher"].iloc[0] == 1.0 and np.isnan(df["fisher"].iloc[1])
    assert (df["fisher"].iloc[3:] == 7.0).all()


def test_record_and_load_records(tmp_path):
    rows = [
        {
            "experiment": "e",
            "metric": "m",
            "dataset": "cifar10",
            "value": np.float64(0.5),
            "published": 0.6,
        }
    ]
    records.record("nb", rows, {"SEED": 0}, results_dir=tmp_path / "nb")
    df = records.load_records(tmp_path)
    assert df.loc[0, "value"] == 0.5 and df.loc[0, "notebook"] == "nb"
    # plain-float NaN/inf become null: numbers.json stays strict JSON
    rows[0]["value"] = float("inf")
    path = records.record("nb", rows, {}, results_dir=tmp_path / "nb")
    import json

    assert (
        json.loads(path.read_text(), parse_constant=pytest.fail)["numbers"][0]["value"]
        is None
    )
    with pytest.raises(ValueError, match="lacks"):
        records.record("nb", [{"experiment": "e"}], {}, results_dir=tmp_path / "nb")


def test_shipped_scores_are_not_used_for_another_batch_size(fake_shipped):
    df = results.compute_scores("cifar10", ["snip"], n_archs=2, batch_size=32)
    assert fake_shipped[-1] == (space.sample(2, 0), ["snip"])
    assert df.attrs["origin"] == "computed" and (df["snip"] == 7.0).all()


def test_variant_scores_come_from_their_own_tables(fake_shipped, tmp_path):
    """A foresight-network score never mixes with the official tables, and its
    shipped partial table serves the archs it covers."""
    perm = space.sample(None, 0)
    (tmp_path / "variants").mkdir()
    pd.DataFrame({"arch_str": perm[:2], "fisher": [10.0, 20.0]}).to_parquet(
        tmp_path
        / "variants"
        / results._cache_name("cifar10", "shipped", 0, 64, ["fisher"], "foresight")
    )
    df = results.compute_scores("cifar10", ["fisher"], n_archs=4, variant="foresight")
    archs, names = fake_shipped[-1]
    assert archs == perm[2:4] and names == ["fisher"]
    assert scoring.score_archs.variant == "foresight"
    assert list(df["fisher"]) == [10.0, 20.0, 7.0, 7.0]
    assert df.attrs["variant"] == "foresight"
    # the official fisher ignores the variant table: shipped add-on + computed gaps
    df = results.compute_scores("cifar10", ["fisher"], n_archs=4)
    assert df["fisher"].iloc[0] == 1.0 and df["fisher"].iloc[3] == 7.0
    assert scoring.score_archs.variant == "official"


def test_a_variant_column_of_the_main_table_is_read_as_that_variant(
    fake_shipped, tmp_path
):
    """The clean tables hold fisher on the reference network as a column
    (``fisher_foresight``): it serves ``variant="foresight"`` and only that."""
    main = pd.read_parquet(tmp_path / "nb201_cifar10.parquet")
    main["fisher_foresight"] = -np.arange(len(main), dtype=float)
    main.to_parquet(tmp_path / "nb201_cifar10.parquet")
    assert results.variant_coverage("cifar10", "fisher", "foresight") == len(main)
    assert results.variant_coverage("cifar10", "fisher", "foresight", seed=1) == 0
    want = -main.set_index("arch_str").loc[space.sample(4, 0), "index"].to_numpy()
    df = results.load_scores("cifar10", ["fisher"], n_archs=4, variant="foresight")
    assert df.attrs["origin"] == "shipped" and not fake_shipped
    assert list(df["fisher"]) == list(want.astype(float))
    assert (df["variant"] == "foresight").all()
    # the official fisher is still the add-on's (and computed where it has gaps)
    df = results.compute_scores("cifar10", ["fisher"], n_archs=4)
    assert df["fisher"].iloc[0] == 1.0 and df["fisher"].iloc[3] == 7.0
    # a proxy the table has no variant column of is computed on that variant
    df = results.compute_scores("cifar10", ["snip"], n_archs=2, variant="foresight")
    assert fake_shipped[-1] == (space.sample(2, 0), ["snip"])
    assert scoring.score_archs.variant == "foresight" and (df["snip"] == 7.0).all()


@pytest.mark.parametrize(
    "meta",
    [
        {"norm": "foresight_exact", "augment": False},
        {"norm": "foresight", "augment": True},
    ],
)
def test_caches_of_another_batch_protocol_are_not_mixed_in(
    fake_shipped, tmp_path, meta
):
    archs = space.sample(4, 0)
    cache = tmp_path / "cache"
    cache.mkdir()
    name = results._cache_name("cifar10", "n4", 0, 64, ["zico"])
    pd.DataFrame({"arch_str": archs, "zico": 1.0, **meta}).to_parquet(cache / name)
    df = results.compute_scores("cifar10", ["zico"], n_archs=4)
    assert fake_shipped[-1] == (archs, ["zico"])  # recomputed, not read
    assert (df["zico"] == 7.0).all()
    pd.DataFrame(
        {"arch_str": archs, "zico": 1.0, "norm": "foresight", "augment": False}
    ).to_parquet(cache / name)
    n_calls = len(fake_shipped)
    df = results.compute_scores("cifar10", ["zico"], n_archs=4)
    assert len(fake_shipped) == n_calls and (df["zico"] == 1.0).all()  # the default


def test_variant_coverage_counts_the_shipped_variant_table(tmp_path, monkeypatch):
    import pandas as pd

    from zclib import results

    monkeypatch.setattr(results, "VARIANTS_DIR", tmp_path)
    monkeypatch.setattr(results, "SCORES_DIR", tmp_path / "none")  # no main table
    assert results.variant_coverage("cifar100", "fisher", "foresight") == 0
    name = results._cache_name("cifar100", "shipped", 0, 64, ["fisher"], "foresight")
    pd.DataFrame({"arch_str": ["a", "b", "c"], "fisher": [1.0, 2.0, 3.0]}).to_parquet(
        tmp_path / name
    )
    assert results.variant_coverage("CIFAR-100", "fisher", "foresight") == 3
    assert results.variant_coverage("cifar100", "fisher", "foresight", seed=1) == 0


# -------------------------------------------- read vs compute (issue 13: explicit cost)


def test_load_scores_never_computes_and_names_what_is_missing(fake_shipped):
    with pytest.raises(results.MissingScoresError) as e:
        results.load_scores("cifar10", ["snip", "fisher"], n_archs=5)
    msg = str(e.value)
    assert not fake_shipped  # nothing was scored
    # the proxy, how many cells, the settings and the call that computes them
    assert "fisher for 2 of the 5 cells" in msg and "cifar10, seed 0, batch 64" in msg
    assert space.sample(5, 0)[3] in msg
    assert (
        "results.compute_scores('cifar10', ['fisher'], n_archs=5, seed=0, "
        "batch_size=64)"
    ) in msg
    assert isinstance(e.value, FileNotFoundError)
    with pytest.raises(results.MissingScoresError, match="variant='foresight'"):
        results.load_scores("cifar10", ["fisher"], n_archs=2, variant="foresight")
    # what is on disk is read: shipped columns, and add-on cells it covers
    assert results.load_scores("cifar10", ["snip"], n_archs=5).attrs["origin"] == (
        "shipped"
    )
    assert list(results.load_scores("cifar10", ["fisher"], n_archs=1)["fisher"]) == [
        1.0
    ]


def test_what_compute_scores_caches_load_scores_reads(
    tiny_imagenet16, tmp_path, monkeypatch
):
    """The compute path writes its resumable cache; the read then finds every cell
    there (no shipped table in this test) without scoring again. Data: the tiny
    ImageNet16-120 fixture (no ../shared needed)."""
    monkeypatch.setattr(results, "SCORES_DIR", tmp_path / "none")
    monkeypatch.setattr(results, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(results, "VARIANTS_DIR", tmp_path / "none")
    with pytest.raises(results.MissingScoresError, match="params for 3 of the 3"):
        results.load_scores("ImageNet16-120", ["params"], n_archs=3)
    computed = results.compute_scores(
        "ImageNet16-120", ["params"], n_archs=3, progress=False
    )
    assert computed.attrs["origin"] == "computed"
    assert list((tmp_path / "cache").glob("ImageNet16-120_n3_s0_b64_params.parquet"))

    def fail(*a, **k):
        raise AssertionError("load_scores scored")

    monkeypatch.setattr(scoring, "score_archs", fail)
    read = results.load_scores("ImageNet16-120", ["params"], n_archs=3)
    pd.testing.assert_frame_equal(read, computed)
    # a larger sample resumes from the smaller one's cells: only the new one is scored
    calls = []
    monkeypatch.setattr(
        scoring,
        "score_archs",
        lambda archs, ds, names, **kw: (
            calls.append(list(archs))
            or pd.DataFrame({"arch_str": archs, "params": 0.0})
        ),
    )
    bigger = results.compute_scores(
        "ImageNet16-120", ["params"], n_archs=4, progress=False
    )
    assert calls == [space.sample(4, 0)[3:]]
    assert list(bigger["params"].iloc[:3]) == list(computed["params"])


@pytest.mark.parametrize(
    ("ours", "published", "tol", "checked", "expected"),
    [
        (0.62, 0.64, 0.03, True, True),
        (0.5, 0.75, 0.25, True, True),  # |delta| == tol (exact in binary) is within
        (0.60, 0.64, 0.03, True, False),
        (0.60, 0.64, 0.03, False, "n/a"),  # e.g. stand-in images
        (0.60, 0.64, None, True, "n/a"),  # no tolerance stated
        (0.60, 0.64, float("nan"), True, "n/a"),  # a recorded null tolerance
        (float("nan"), 0.64, 0.03, True, False),
    ],
)
def test_compare_scalars(ours, published, tol, checked, expected):
    assert results.compare(ours, published, tol, checked) == expected
    assert type(results.compare(ours, published, tol, checked)) is type(expected)


def test_compare_elementwise():
    ours = pd.Series([0.5, 0.7, 0.9], index=list("abc"))
    pub = np.array([0.52, 0.6, np.nan])
    got = results.compare(ours, pub, 0.05)
    assert got.dtype == bool and list(got) == [True, False, False]
    assert list(got.index) == list("abc")
    got = results.compare(ours, pub, 0.05, checked=[True, False, True])
    assert list(got) == [True, "n/a", False]


def test_is_stand_in():
    assert results.is_stand_in("ImageNet16-120") and results.is_stand_in("imagenet16")
    assert not results.is_stand_in("cifar10") and not results.is_stand_in("CIFAR-100")
