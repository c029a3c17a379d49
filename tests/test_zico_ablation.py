"""ZiCo's Fig. 4 ablation (zclib.exhibits.zico_ablation): one pass of B batches gives
ZiCo over every prefix exactly as the scorer does, resumably. ~15 s.

    .venv/bin/python -m pytest -q tests/test_zico_ablation.py
"""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from zclib import space
from zclib.exhibits import zico_ablation as za
from zclib.scoring import Scorer

matplotlib.use("Agg")
DS = "ImageNet16-120"
ARCHS = space.sample(3, seed=0)


def test_prefixes_of_one_pass_equal_separate_scorer_runs(tiny_imagenet16):
    ps = za.PrefixScorer(DS, batch_size=4, counts=(3, 2))
    assert ps.counts == (2, 3)
    for arch in ARCHS[:2]:
        row = ps.score(arch)
        for k in (2, 3):
            alone = Scorer(DS, "zico", batch_size=4, zico_batches=k, pack=1)
            assert row[za.column(k)] == alone.score(arch)["zico"]  # bit for bit
        assert row[za.column(2)] != row[za.column(3)]  # the counts do differ


def test_one_image_per_batch_scores(tiny_imagenet16):
    row = za.PrefixScorer(DS, batch_size=1, counts=(2,)).score(ARCHS[0])
    assert np.isfinite(row[za.column(2)])


def test_scores_resume_from_the_cached_chunks(tiny_imagenet16, monkeypatch):
    # the tiny images, not the stand-in the shipped table names (../shared's)
    monkeypatch.setattr(za.results, "score_stand_in", lambda ds: None)
    cache = tiny_imagenet16 / "za"
    first = za.scores(DS, 4, (2, 3), n=3, cache=cache)
    assert list(first["arch_str"]) == ARCHS
    assert list(first.columns) == ["arch_str", "index", "zico_b2", "zico_b3"]

    def boom(self, arch):
        raise AssertionError("a cached chunk was scored again")

    with monkeypatch.context() as m:
        m.setattr(za.PrefixScorer, "score", boom)
        again = za.scores(DS, 4, (2, 3), n=3, cache=cache)
        pd.testing.assert_frame_equal(first, again)
        with pytest.raises(AssertionError, match="scored again"):  # other cells
            za.scores(DS, 4, (2, 3), n=2, cache=cache)
    more = za.scores(DS, 4, (2, 3), n=4, cache=cache)  # chunk 0 now holds 4 cells
    pd.testing.assert_frame_equal(more.iloc[:3], first)


def test_passes_cover_both_sweeps_once():
    p = za.passes((2, 4, 10), (1, 64, 128))
    assert p == [(64, (2, 4, 10)), (1, (2,)), (128, (2,))]


def test_figure_and_json_round_trip(tmp_path):
    rows = []
    for size, counts in za.passes():
        for k in counts:
            sweep = ",".join(
                s for s, on in (("batches", size == 64), ("batch_size", k == 2)) if on
            )
            r = {"batch_size": size, "batches": k, "sweep": sweep, "n_used": 50}
            for stat, v in (("spearman", 0.8), ("kendall", 0.6)):
                r |= {stat: v, f"{stat}_lo": v - 0.05, f"{stat}_hi": v + 0.05}
            rows.append(r)
    rho = pd.DataFrame(rows)
    za.write(rho, "cifar100", n=50, out=tmp_path)
    back = za.read("cifar100", tmp_path)
    pd.testing.assert_frame_equal(back, rho, check_dtype=False)
    assert za.read("cifar10", tmp_path).empty
    fig = za.figure(back)
    left, right = fig.axes
    ticks = [int(float(t.get_text())) for t in left.get_xticklabels()]
    assert ticks == [2, 4, 6, 8, 10]
    assert len(right.get_xticklabels()) == len(za.BATCH_SIZES)


def test_table_finding_and_records_read_the_rows():
    rows = []
    for size, counts in za.passes():
        for k in counts:
            sweep = "batches" if size == 64 else "batch_size"
            sweep = "batches,batch_size" if (size, k) == (64, 2) else sweep
            v = 0.7 + 0.01 * k if size == 64 else 0.6 + 0.001 * size
            r = {"batch_size": size, "batches": k, "sweep": sweep, "n_used": 40}
            for stat in ("spearman", "kendall"):
                r |= {stat: v, f"{stat}_lo": v - 0.1, f"{stat}_hi": v + 0.1}
            rows.append(r)
    rho = pd.DataFrame(rows)
    assert len(za.table(rho)) == len(rho)
    text = za.finding(rho)
    assert "40 random CIFAR-100 cells" in text
    assert "0.720 (at 2) to 0.800 (at 10)" in text  # batches sweep
    assert "(1, 2, 8, 16, 32, 64, 128): Spearman 0.601 (at 1) to 0.728 (at 128)" in text
    recs = za.records(rho)
    assert len(recs) == 2 * len(rho) and {r["n"] for r in recs} == {40}
    assert all(r.get("published") is None for r in recs)
