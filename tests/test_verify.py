"""The shipped-score verification: passes on a real sample, catches a corrupted
table."""

from __future__ import annotations

import pandas as pd
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


def test_an_unfinished_run_is_verified_from_its_chunks(shared_dir, tmp_path):
    from zclib import space
    from zclib.scoring import score_archs

    out = tmp_path / "t.parquet"
    archs = space.sample(2, seed=0)
    score_archs(
        archs,
        "ImageNet16-120",
        "snip,naswot",
        batch_size=8,
        out=out,
        chunk_size=1,
        progress=False,
        pack=2,
    )
    out.unlink()  # as if the run were still going: only its chunks exist
    table = verify.load_table(out)
    assert list(table["arch_str"]) == archs and table.attrs["coverage"]["snip"] == 2
    assert (table["batch_size"] == 8).all()
    df = verify.verify(
        "ImageNet16-120",
        n=3,
        seed=0,
        proxies=["snip", "naswot"],
        progress=False,
        table=out,
    )
    assert len(df) == 4 and df["ok"].all(), df
    with pytest.raises(FileNotFoundError):
        verify.load_table(tmp_path / "none.parquet")


def test_a_variant_column_is_recomputed_on_its_network(shared_dir, tmp_path):
    """``fisher_foresight`` is checked against fisher on the foresight network: the
    official network's fisher put in that column fails."""
    from zclib import space
    from zclib.scoring import score_archs

    archs, path = space.sample(2, seed=0), tmp_path / "t.parquet"
    kw = dict(batch_size=8, progress=False)
    score_archs(archs, "ImageNet16-120", "fisher", out=path, **kw)
    fs = score_archs(archs, "ImageNet16-120", "fisher", variant="foresight", **kw)
    table = pd.read_parquet(path).assign(fisher_foresight=fs["fisher"].to_numpy())
    table.to_parquet(path)
    check = dict(n=2, seed=0, proxies=["fisher"], progress=False, table=path)
    df = verify.verify("ImageNet16-120", **check)
    assert sorted(df["proxy"]) == ["fisher"] * 2 + ["fisher_foresight"] * 2
    assert df["ok"].all(), df
    table.assign(fisher_foresight=table["fisher"]).to_parquet(path)
    df = verify.verify("ImageNet16-120", **check)
    assert not df.loc[df["proxy"] == "fisher_foresight", "ok"].all(), df


def test_every_registered_proxy_has_a_tolerance():
    # a proxy without one would be left out of verify-scores without a word (the
    # suite's six were, until its first full table)
    from zclib import proxies

    assert set(proxies.names()) <= set(verify.RTOL)
    assert set(verify.ATOL_IQR) <= set(verify.RTOL)
