"""zclib.stats: hand-checkable cases, and the vectorised code against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from zclib import stats

UP = {"a": 1, "b": 1, "c": 1}  # explicit directions: no registry (torch) needed


# ---------------------------------------------------------------- correlations


def test_correlations_drop_non_finite_pairs():
    x = [1, 2, 3, 4, np.nan, 7]
    y = [1, 2, 3, 5, 1, np.inf]
    assert stats.spearman(x, y) == (pytest.approx(1.0), 4)
    assert stats.kendall(x, y) == (pytest.approx(1.0), 4)
    rho, n = stats.pearson([1, 2, 3, np.nan], [2, 4, 6, 1])
    assert (rho, n) == (pytest.approx(1.0), 3)


def test_correlation_undefined_is_nan():
    rho, n = stats.spearman([1, 1, 1], [1, 2, 3])  # constant side
    assert math.isnan(rho) and n == 3
    rho, n = stats.kendall([1, np.nan], [1, 2])
    assert math.isnan(rho) and n == 1


def test_kendall_is_tau_b():
    x, y = [1, 1, 2, 3], [1, 2, 2, 3]
    assert stats.kendall(x, y)[0] == pytest.approx(
        scipy.stats.kendalltau(x, y, variant="b").statistic
    )


def test_top_mask_by_accuracy_with_boundary_ties():
    acc = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, np.nan, 10.0])
    # 10 finite accuracies, 20% -> k = 2: the 10 and the 9
    assert np.flatnonzero(stats.top_mask(acc, 0.2)).tolist() == [8, 10]
    # ties at the k-th value are all kept
    tied = np.array([5, 5, 5, 1, 2.0])
    assert stats.top_mask(tied, 0.2).tolist() == [True, True, True, False, False]
    with pytest.raises(ValueError):
        stats.top_mask(acc, 0)


def test_correlation_table_top_frac_and_nan_counts():
    acc = np.arange(10, dtype=float)  # top-50% = rows 5..9
    scores = pd.DataFrame(
        {
            "a": [9, 8, 7, 6, 5, 1, 2, 3, 4, np.nan],  # increasing on 5..8
            "b": -acc,
        }
    )
    full = stats.correlation_table(scores, acc, ["a", "b"])
    assert full.columns.tolist() == ["proxy", "rho", "n", "n_nan"]
    assert full.set_index("proxy").loc["b", "rho"] == pytest.approx(-1.0)
    assert full.set_index("proxy").loc["a", ["n", "n_nan"]].tolist() == [9, 1]
    top = stats.correlation_table(
        scores, acc, ["a", "b"], top_frac=0.5, absolute=True
    ).set_index("proxy")
    # subset fixed by accuracy first (5 rows), then a's NaN dropped inside it
    assert top.loc["a"].tolist() == [pytest.approx(1.0), 4, 1]
    assert top.loc["b"].tolist() == [pytest.approx(1.0), 5, 0]


def test_correlation_table_refuses_misaligned_series():
    scores = pd.DataFrame({"a": [1.0, 2, 3]}, index=[10, 11, 12])
    with pytest.raises(ValueError, match="align"):
        stats.correlation_table(scores, pd.Series([1.0, 2, 3]), ["a"])
    ok = stats.correlation_table(
        scores, pd.Series([1.0, 2, 3], index=[10, 11, 12]), ["a"]
    )
    assert ok.rho.iloc[0] == pytest.approx(1.0)


# ------------------------------------------------------------------- bootstrap


def test_resample_ranks_equal_rankdata_within_each_resample():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 8, size=50).astype(float)  # many ties
    idx = rng.integers(0, 50, size=(7, 50))
    got = stats.bootstrap.resample_ranks(*stats.bootstrap.dense_codes(v), idx)
    np.testing.assert_allclose(got, scipy.stats.rankdata(v[idx], axis=1))


@pytest.mark.parametrize("stat", stats.STATS)
def test_boot_stats_equal_scipy_on_each_resample(stat):
    rng = np.random.default_rng(2)
    x = rng.normal(size=80).round(1)  # ties
    y = x + rng.normal(size=80)
    idx = rng.integers(0, 80, size=(5, 80))
    got = stats.bootstrap.boot_stats(stat, x, y, idx)
    fn = {
        "spearman": scipy.stats.spearmanr,
        "kendall": scipy.stats.kendalltau,
        "pearson": scipy.stats.pearsonr,
    }[stat]
    want = [fn(x[r], y[r]).statistic for r in idx]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_bootstrap_ci_contains_estimate_and_is_seeded():
    rng = np.random.default_rng(3)
    acc = rng.normal(size=300)
    score = acc + rng.normal(size=300)
    score[:5] = np.nan
    est, lo, hi = stats.bootstrap_ci(score, acc, n_boot=300, seed=7)
    assert est == pytest.approx(stats.spearman(score, acc)[0])
    assert lo < est < hi
    assert stats.bootstrap_ci(score, acc, n_boot=300, seed=7) == (est, lo, hi)
    assert stats.bootstrap_ci(score, acc, n_boot=300, seed=8) != (est, lo, hi)
    k_est, k_lo, k_hi = stats.bootstrap_ci(score, acc, stat="kendall", n_boot=100)
    assert k_lo < k_est < k_hi


def test_paired_bootstrap_detects_a_clearly_better_proxy():
    rng = np.random.default_rng(4)
    acc = rng.normal(size=400)
    good = acc + 0.3 * rng.normal(size=400)
    bad = acc + 2.0 * rng.normal(size=400)
    for stat in ("kendall", "spearman"):
        res = stats.paired_bootstrap(good, bad, acc, stat=stat, n_boot=200, seed=0)
        assert res["delta"] > 0 and res["lo"] > 0 and res["p_value"] == 0.0
        assert res["delta"] == pytest.approx(res["stat1"] - res["stat2"])
        assert res["n"] == 400
        rev = stats.paired_bootstrap(bad, good, acc, stat=stat, n_boot=200, seed=0)
        assert rev["hi"] < 0 and rev["p_value"] == 1.0
    sub = stats.paired_bootstrap(good, bad, acc, n_boot=50, max_n=100)
    assert sub["n"] == 100 and sub["delta"] > 0


# --------------------------------------------------------------- pairwise vote


def _hand_table():
    """6 archs; arch 3 and 4 tie in accuracy; arch 5 has a NaN member score."""
    acc = np.array([4, 3, 2, 1, 1, 5.0])
    scores = pd.DataFrame(
        {
            "a": [4, 3, 2, 1, 0, 9],  # always right
            "b": [1, 2, 3, 3, 5, 9],  # always wrong, ties on (2, 3)
            "c": [4, 3, 1, 2, 0, np.nan],  # wrong only on (2, 3)
        }
    )
    return scores, acc


def test_vote_agreement_by_hand():
    scores, acc = _hand_table()
    res = stats.vote_agreement(scores, acc, ("a", "b", "c"), UP)
    # archs 0..4; 10 pairs minus the accuracy tie (3, 4) = 9; every vote is 2-1
    # for the right order except (2, 3): a right, b abstains, c wrong -> undecided
    assert res["n_pairs"] == 9 and res["n_used"] == 5 and res["n_nan"] == 1
    assert res["vote"] == pytest.approx(8 / 9)
    assert (res["a"], res["b"], res["c"]) == (1.0, 0.0, pytest.approx(8 / 9))
    assert res["exact"] is True


def test_vote_agreement_orients_members_by_direction():
    scores, acc = _hand_table()
    flipped = scores.assign(b=-scores["b"])
    res = stats.vote_agreement(flipped, acc, ("a", "b", "c"), {"a": 1, "b": -1, "c": 1})
    assert res == stats.vote_agreement(scores, acc, ("a", "b", "c"), UP)


def _brute_majority(scores, acc, members):
    s = scores[list(members)].to_numpy(float)
    keep = np.isfinite(s).all(axis=1) & np.isfinite(acc)
    s, y = s[keep], acc[keep]
    tot, right, mem = 0, 0, np.zeros(len(members))
    for i, j in itertools.combinations(range(len(y)), 2):
        d = np.sign(y[i] - y[j])
        if d == 0:
            continue
        signs = np.sign(s[i] - s[j])
        tot += 1
        right += np.sign(signs.sum()) == d
        mem += signs == d
    return right / tot, mem / tot, tot


def _brute_abdelfattah(scores, acc, members):
    """The released notebook's loop, transcribed."""
    s = scores[list(members)].to_numpy(float)
    tot = right = 0
    mem = np.zeros(len(members))
    for i in range(len(acc)):
        for j in range(len(acc)):
            if i == j or acc[i] - acc[j] == 0:
                continue
            diff = acc[i] - acc[j]
            pos = s[i] - s[j] > 0  # NaN -> False
            sign = 1 if pos.sum() >= len(members) / 2 else -1
            right += sign * diff > 0
            mem += np.where(pos, 1, -1) * diff > 0
            tot += 1
    return right / tot, mem / tot, tot


@pytest.fixture
def random_table():
    rng = np.random.default_rng(5)
    n = 60
    acc = rng.integers(0, 25, size=n).astype(float)  # accuracy ties
    scores = pd.DataFrame(
        {m: (acc + rng.normal(scale=8, size=n)).round(0) for m in "abc"}
    )  # member ties
    scores.loc[[3, 17], "b"] = np.nan
    scores.loc[40, "c"] = np.nan
    return scores, acc


@pytest.mark.parametrize("rule", stats.VOTE_RULES)
def test_vote_agreement_equals_brute_force(random_table, rule, monkeypatch):
    scores, acc = random_table
    brute = _brute_majority if rule == "majority" else _brute_abdelfattah
    vote, mem, tot = brute(scores, acc, "abc")
    # small blocks so that several row blocks and a ragged last one are exercised
    monkeypatch.setattr(stats.core, "BLOCK", 60 * 7)
    res = stats.vote_agreement(scores, acc, "abc", UP, rule=rule)
    assert res["n_pairs"] == tot
    assert res["vote"] == pytest.approx(vote)
    assert [res[m] for m in "abc"] == pytest.approx(list(mem))


def test_vote_rules_agree_without_ties_or_nan():
    rng = np.random.default_rng(6)
    acc = rng.normal(size=40)
    scores = pd.DataFrame({m: acc + rng.normal(size=40) for m in "abc"})
    maj = stats.vote_agreement(scores, acc, "abc", UP)
    abd = stats.vote_agreement(scores, acc, "abc", UP, rule="abdelfattah")
    assert abd["n_pairs"] == 2 * maj["n_pairs"]
    assert abd["vote"] == pytest.approx(maj["vote"])


def test_vote_agreement_sampled_pairs_approximate_exact():
    rng = np.random.default_rng(7)
    acc = rng.normal(size=400)  # 79,800 pairs
    scores = pd.DataFrame({m: acc + rng.normal(scale=2, size=400) for m in "abc"})
    exact = stats.vote_agreement(scores, acc, "abc", UP)
    sampled = stats.vote_agreement(scores, acc, "abc", UP, max_pairs=40_000, seed=1)
    assert sampled["exact"] is False and sampled["n_pairs"] < 40_000
    assert sampled["vote"] == pytest.approx(exact["vote"], abs=0.015)  # ~6 s.e.
    again = stats.vote_agreement(scores, acc, "abc", UP, max_pairs=40_000, seed=1)
    assert again == sampled


def test_vote_score_ranks_a_dominating_arch_first():
    scores = pd.DataFrame(
        {"a": [1, 5, 2, 3.0], "b": [2, 9, 1, np.nan], "c": [3, 7, 1, 0.0]},
        index=list("wxyz"),
    )
    v = stats.vote_score(scores, "abc", UP)
    # z has a NaN; among w, x, y: x beats both, w beats y (2-1), y beats nobody
    assert v.to_dict() == pytest.approx(
        {"w": 0.5, "x": 1.0, "y": 0.0, "z": np.nan}, nan_ok=True
    )
    assert v.name == "vote"


def test_vote_score_equals_brute_force_copeland(random_table, monkeypatch):
    scores, _ = random_table
    monkeypatch.setattr(stats.core, "BLOCK", 60 * 7)
    got = stats.vote_score(scores, "abc", UP)
    s = scores[list("abc")].to_numpy(float)
    ok = np.flatnonzero(np.isfinite(s).all(axis=1))
    want = np.full(len(s), np.nan)
    for i in ok:
        wins = sum(np.sign(np.sign(s[i] - s[j]).sum()) > 0 for j in ok if j != i)
        want[i] = wins / (len(ok) - 1)
    np.testing.assert_allclose(got.to_numpy(), want)


# --------------------------------------------------------------------- ranking


def test_rank_by_applies_direction_and_keeps_nan():
    scores = pd.DataFrame({"loss": [0.3, 0.1, np.nan, 0.2]})
    r = stats.rank_by(scores, "loss", direction=-1)
    assert r.tolist()[:2] == [3, 1] and math.isnan(r.iloc[2]) and r.iloc[3] == 2


def test_topk_overlap_by_hand():
    acc = [5, 4, 3, 2, 1]
    score = [1, 4, 5, np.nan, 2]  # top-2 by score: archs 2, 1; by acc: 0, 1
    assert stats.topk_overlap(score, acc, 2) == 0.5
    assert stats.topk_overlap([-a for a in acc], acc, 3, direction=-1) == 1.0


def test_package_exposes_the_public_names():
    # Callers (notebooks, zclib, results/checks) use these as stats.<name>.
    public = {
        "STATS",
        "VOTE_MEMBERS",
        "VOTE_RULES",
        "spearman",
        "kendall",
        "pearson",
        "top_mask",
        "correlation_table",
        "bootstrap_ci",
        "paired_bootstrap",
        "vote_agreement",
        "vote_score",
        "rank_by",
        "topk_overlap",
    }
    assert public <= set(stats.__all__)
    assert all(callable(getattr(stats, n)) for n in public if n.islower())
    assert stats.VOTE_MEMBERS == ("synflow", "jacob_cov", "snip")


def test_ci_verdict_reads_the_interval_against_zero():
    assert stats.ci_verdict(0.01, 0.2) == "beats"
    assert stats.ci_verdict(-0.2, -0.01) == "loses to"
    assert stats.ci_verdict(-0.1, 0.1) == "ties"
    assert stats.ci_verdict(0.0, 0.1) == "ties"  # an interval touching 0 holds it
