"""The seed spread (zclib.exhibits.score_spread): its configurations separate the
initialisation from the batch draw, seed 0 comes from the full-space job's chunks
when they are there, and its JSON round-trips."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from zclib import chunks, results, scoring, space, stats
from zclib.exhibits import score_spread as ss
from zclib.fullspace import jobs as fjobs

ARCH = space.sample(1, 0)[0]


def test_configs_vary_the_init_then_the_batch_draw():
    assert ss.seed_configs() == [
        {"seed": 0, "batch_seed": 0},
        {"seed": 1, "batch_seed": 0},
        {"seed": 2, "batch_seed": 0},
        {"seed": 0, "batch_seed": 1},
    ]
    assert ss.label({"seed": 1, "batch_seed": 0}) == "batch_seed=0,seed=1"


def test_batch_seed_draws_the_batches_and_leaves_the_init(shared_dir):
    default = scoring.Scorer("cifar10", ["snip"], seed=0)
    same = scoring.Scorer("cifar10", ["snip"], seed=0, batch_seed=0)
    drawn = scoring.Scorer("cifar10", ["snip"], seed=0, batch_seed=1)
    seed1 = scoring.Scorer("cifar10", ["snip"], seed=1)
    assert default.config() == same.config() and default.config()["batch_seed"] == 0
    assert drawn.config()["batch_seed"] == 1 and drawn.config()["seed"] == 0
    # the batches are seed 1's, the network seed 0's
    assert drawn.batches[0][0].equal(seed1.batches[0][0])
    assert not drawn.batches[0][0].equal(default.batches[0][0])
    snip = {
        k: s.score(ARCH)["snip"]
        for k, s in dict(default=default, same=same, drawn=drawn, seed1=seed1).items()
    }
    assert snip["same"] == snip["default"]
    assert len({snip["default"], snip["drawn"], snip["seed1"]}) == 3


def test_runs_from_before_batch_seed_resume_and_others_are_refused(
    shared_dir, tmp_path
):
    out = tmp_path / "s.parquet"
    archs = space.sample(2, 0)
    first = scoring.score_archs(archs, "cifar10", ["params"], out=out, progress=False)
    guard = chunks.parts_dir(out) / chunks.GUARD
    old = json.loads(guard.read_text())
    del old["batch_seed"]  # as written before the key existed
    guard.write_text(json.dumps(old))
    again = scoring.score_archs(archs, "cifar10", ["params"], out=out, progress=False)
    assert again["params"].tolist() == first["params"].tolist()
    with pytest.raises(ValueError, match="batch_seed"):
        scoring.score_archs(
            archs, "cifar10", ["params"], out=out, batch_seed=1, progress=False
        )


def test_seed_zero_is_read_from_the_fullspace_chunks(shared_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(fjobs, "TABLE_PROXIES", ("params",))
    job = fjobs.Job("cifar10", "all", fjobs.TABLE_PROXIES)
    with pytest.raises(scoring.Unfinished):  # the first chunk only
        scoring.score_archs(
            fjobs.archs(),
            "cifar10",
            ["params"],
            out=job.out(tmp_path),
            first=3,
            chunk_size=fjobs.CHUNK_SIZE,
            progress=False,
        )
    got = ss.from_fullspace(
        "cifar10", {"seed": 0, "batch_seed": 0}, ["params"], 3, root=tmp_path
    )
    want = scoring.score_archs(
        space.sample(3, 0), "cifar10", ["params"], progress=False
    )
    assert got["arch_str"].tolist() == space.sample(3, 0)
    assert got["params"].tolist() == want["params"].tolist()
    assert (
        ss.from_fullspace("cifar10", {"seed": 0}, ["params"], 3, root=tmp_path)
        is not None
    )
    # another setting, proxy or a prefix the chunks do not hold: scored instead
    for cfg, proxies, n in [
        ({"seed": 1, "batch_seed": 0}, ["params"], 3),
        ({"seed": 0, "batch_seed": 1}, ["params"], 3),
        ({"seed": 0, "batch_seed": 0}, ["snip"], 3),
        ({"seed": 0, "batch_seed": 0}, ["params"], fjobs.CHUNK_SIZE + 1),
    ]:
        assert ss.from_fullspace("cifar10", cfg, proxies, n, root=tmp_path) is None


def test_interval_and_json_round_trip(shared_dir, tmp_path, monkeypatch):
    # #params does not depend on the scorer's seeds: zero spread, on 3 real cells
    monkeypatch.setattr(ss, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(ss, "from_fullspace", lambda *a, **k: None)
    rho = ss.rho_by_config("cifar10", ss.seed_configs((0, 1), (0, 1)), ["params"], n=3)
    assert len(rho) == 3 and rho["n_used"].eq(3).all()
    assert rho["batch_seed"].tolist() == [0, 0, 1]
    iv = ss.interval(rho)
    assert iv.loc["params", "sd"] == 0 and iv.loc["params", "configs"] == 3
    path = ss.write(rho, "seeds", "cifar10", out=tmp_path, n=3)
    pd.testing.assert_frame_equal(
        ss.read("seeds", "cifar10", tmp_path), rho, check_dtype=False
    )
    assert path.name == "seeds_cifar10.json"
    tab = ss.spread_table(["cifar10", "cifar100"], root=tmp_path)
    assert tab.set_index("dataset").loc["cifar100", "proxy"] == "(not run)"
    recs = ss.records(["cifar10", "cifar100"], root=tmp_path)
    assert [r["dataset"] for r in recs] == ["cifar10"]  # cifar100 not run
    assert (
        recs[0]["ci_lo"]
        == recs[0]["ci_hi"]
        == recs[0]["value"]
        == abs(rho["spearman"].iloc[0])
    )


def test_ranking_says_which_neighbours_are_within_the_noise():
    # a and b overlap (b's top reaches a's bottom); c sits clear below both
    tab = pd.DataFrame(
        {
            "dataset": ["x"] * 3 + ["y"],
            "proxy": ["c", "a", "b", "(not run)"],
            "mean": [0.50, 0.80, 0.78, None],
            "lo": [0.49, 0.79, 0.76, None],
            "hi": [0.51, 0.81, 0.79, None],
        }
    )
    assert ss.ranking(tab) == {"x": "a ≈ b > c"}
    tab.loc[2, "hi"] = 0.785  # no longer reaches a's range
    assert ss.ranking(tab) == {"x": "a > b > c"}


def test_against_fixed_says_whether_the_range_clears_the_fixed_proxy(
    shared_dir, tmp_path
):
    # a made-up spread of "zico" on the first 30 cells, against #params' real |rho|
    df = results.with_accuracy(
        results.load_scores("cifar10", ["params"], 30), "cifar10"
    )
    fixed = abs(stats.spearman(df["params"], df["test_acc"])[0])

    def verdict(lo, hi):
        rho = pd.DataFrame(
            {
                "config": ["a", "b"],
                "proxy": ["zico", "zico"],
                "spearman": [lo, hi],  # seed 0 first
                "n_used": [30, 30],
            }
        )
        ss.write(rho, "seeds", "cifar10", out=tmp_path)
        tab = ss.against_fixed(["cifar10", "cifar100"], "zico", "params", root=tmp_path)
        assert tab["dataset"].tolist() == ["cifar10"]  # cifar100 not run: left out
        assert tab["params"].iloc[0] == pytest.approx(fixed)
        return tab["verdict"].iloc[0]

    assert verdict(fixed + 0.01, fixed + 0.02) == "zico > params"
    assert verdict(-(fixed + 0.01), fixed + 0.02) == "zico > params"  # |rho|
    assert verdict(fixed - 0.01, fixed + 0.02) == "within the seed noise"
    assert verdict(fixed - 0.02, fixed - 0.01) == "params > zico"
