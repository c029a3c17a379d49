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
