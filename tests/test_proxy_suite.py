"""The new proxies' exhibit: it reads a prefix of the full-space suite job and
compares with the published values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from zclib import chunks, network, reference, results, scoring, space
from zclib.exhibits import proxy_suite as ex
from zclib.fullspace import jobs as fjobs
from zclib.fullspace import merge as fmerge

N, CHUNK = 50, 25
DS = "cifar10"


def _suite_job(ds=DS):
    return next(j for j in fjobs.plan([ds]) if j.name == ex.SUITE_JOB)


def _write_prefix(root, n_chunks=2, ds=DS, proxies=None):
    """A parts folder holding the suite job's first chunks, with scores that are a
    known function of the benchmark's validation accuracy."""
    job = _suite_job(ds)
    folder = chunks.parts_dir(job.out(root))
    folder.mkdir(parents=True)
    ident = scoring.run_identity(
        dict(
            dataset=job.dataset,
            proxies=proxies or list(job.proxies),
            variant="official",
        ),
        fjobs.archs(),
        CHUNK,
    )
    (folder / chunks.GUARD).write_text(json.dumps(ident))
    archs = fjobs.archs()[: n_chunks * CHUNK]
    acc = results.with_accuracy(
        pd.DataFrame(
            {"arch_str": archs, "index": [space.benchmark_index(a) for a in archs]}
        ),
        ds,
    )
    rng = np.random.default_rng(0)
    for k in range(n_chunks):
        part = acc.iloc[k * CHUNK : (k + 1) * CHUNK]
        df = part[["arch_str", "index"]].copy()
        for i, p in enumerate(job.proxies):
            noise = rng.normal(0, 2.0 * (i + 1), len(part))
            df[p] = (-1 if p == "plain" else 1) * part["valid_acc"].to_numpy() + noise
        chunks.write_part(folder, scoring.part_key(k), df)
    return job


def test_prefix_is_read_and_correlated_like_scipy(shared_dir, tmp_path):
    _write_prefix(tmp_path)
    tabs, missing = ex.load([DS], n_archs=N, root=tmp_path)
    assert not missing and len(tabs[DS]) == N
    assert tabs[DS].attrs["images"] == "real"
    corr = ex.correlations(tabs, n_boot=50, seed=0)
    tab = tabs[DS]
    for p in ex.suite_proxies():
        r = corr.query("proxy == @p and stat == 'spearman' and target == 'valid_acc'")
        want = scipy.stats.spearmanr(tab[p], tab["valid_acc"]).statistic
        assert r["rho"].item() == pytest.approx(want, abs=1e-12)
        assert r["lo"].item() <= r["rho"].item() <= r["hi"].item()
    assert corr.query("proxy == 'plain'")["rho"].lt(0).all()  # signed, as published


def test_published_rows_are_compared_on_their_own_target(shared_dir, tmp_path):
    _write_prefix(tmp_path)
    tabs, _ = ex.load([DS], n_archs=N, root=tmp_path)
    corr = ex.correlations(tabs, n_boot=20, seed=0)
    cmp = ex.versus_published(corr)
    nbsz = cmp[cmp["source"] == "krishnakumar2022_nbsz"]
    assert set(nbsz["proxy"]) == {"l2_norm", "plain", "epe_nas", "zen"}
    assert (nbsz["target"] == "valid_acc").all() and (nbsz["tolerance"] == 0.05).all()
    pub = reference.published("krishnakumar2022_nbsz", method="plain", dataset=DS)
    row = nbsz.set_index("proxy").loc["plain"]
    assert row["published"] == pytest.approx(float(pub["value"].item()))
    assert row["within"] == (abs(row["ours"] - row["published"]) <= 0.05)
    zico = cmp[cmp["source"] == "li2023_zico"]
    assert set(zico["stat"]) == {"spearman", "kendall"}
    assert (zico["target"] == "test_acc").all()
    recs = ex.records(cmp, corr)
    assert len(recs) == len(corr)
    compared = [r for r in recs if "published" in r]
    assert len(compared) == len(cmp) and all("tolerance" in r for r in compared[:4])


def test_missing_chunks_are_named_and_another_run_refused(shared_dir, tmp_path):
    _write_prefix(tmp_path, n_chunks=1)
    tabs, missing = ex.load([DS], n_archs=N, root=tmp_path)
    assert (
        not tabs and "1 of the 2 chunks" in missing[DS] and "--first 50" in missing[DS]
    )
    other = tmp_path / "other"
    _write_prefix(other, proxies=["l2_norm"])
    with pytest.raises(ValueError, match="another run"):
        fmerge.read_prefix(_suite_job(), N, other)


def test_versus_params_is_the_paired_difference(shared_dir, tmp_path):
    _write_prefix(tmp_path)
    tabs, _ = ex.load([DS], n_archs=N, root=tmp_path)
    tab = tabs[DS]
    vs = ex.versus_params(tabs, n_boot=30, seed=0)
    assert len(vs) == len(ex.STATS) * len(ex.suite_proxies())
    for r in vs.itertuples():
        x, y = tab[r.proxy], tab["test_acc"]
        fn = scipy.stats.spearmanr if r.stat == "spearman" else scipy.stats.kendalltau
        n_params = [network.cost(a, DS)["params_M"] for a in tab["arch_str"]]
        want = fn(x, y).statistic - fn(n_params, y).statistic
        assert r.delta == pytest.approx(want, abs=1e-12)
        assert r.lo <= r.hi and 0 <= r.p_value <= 1 and r.n == N
    # plain is built anti-correlated with accuracy: it loses to #params
    plain = vs.query("proxy == 'plain' and stat == 'spearman'")
    assert plain["hi"].item() < 0
    recs = ex.params_records(vs)
    assert len(recs) == len(vs) and all(r["stand_in"] is False for r in recs)
    assert "beats" in ex.params_verdicts(vs) or "ties" in ex.params_verdicts(vs)


def test_targets_table_names_every_published_row(shared_dir):
    t = ex.targets()
    assert set(t["source"]) == {row[0] for row in ex.PUBLISHED} == set(ex.PROTOCOL)
    assert {"batch", "cells", "split", "ours_vs", "tolerance"} <= set(t.columns)
    nbsz = t[t["source"] == "krishnakumar2022_nbsz"]
    assert len(nbsz) == 4 * 3 and (nbsz["batch"] == "64").all()


def test_compared_rows_carry_their_sampling_errors(shared_dir, tmp_path):
    _write_prefix(tmp_path)
    tabs, _ = ex.load([DS], n_archs=N, root=tmp_path)
    corr = ex.correlations(tabs, n_boot=50, seed=0)
    recs = [r for r in ex.records(ex.versus_published(corr), corr) if "published" in r]
    for r in recs:
        assert r["se"] == pytest.approx((r["ci_hi"] - r["ci_lo"]) / 3.919928)
        sampled = "krishnakumar2022_nbsz" in r["note"]
        assert ("se_published" in r) == sampled


def test_none_reads_the_whole_space(shared_dir, tmp_path):
    """n_archs=None asks for every cell: a prefix-only folder is then incomplete,
    and the message counts the whole space's chunks and cells."""
    _write_prefix(tmp_path, n_chunks=2)
    tabs, missing = ex.load([DS], n_archs=None, root=tmp_path)
    n_chunks = -(-len(fjobs.archs()) // CHUNK)
    assert not tabs
    assert f"{n_chunks - 2} of the {n_chunks} chunks" in missing[DS]
    assert f"--first {len(fjobs.archs())}" in missing[DS]
