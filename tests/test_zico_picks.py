"""The cell each proxy picks (zclib.exhibits.zico_picks), on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zclib.exhibits import zico_picks as zp


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    valid = rng.uniform(10, 90, n)
    df = pd.DataFrame(
        {
            "index": rng.permutation(15625)[:n],
            "valid_acc": valid,
            "test_acc": valid + rng.normal(0, 1, n),
        }
    )
    df["zico"] = df["valid_acc"]  # the oracle's order
    df["params"] = -df["valid_acc"]  # the worst
    df["nan"] = np.where(np.arange(n) % 2, np.nan, df["valid_acc"])
    return {"cifar10": df}


def test_each_method_picks_its_best_of_the_same_draw():
    data = _data()
    runs = zp.picks(data, ["zico", "params", "nan"], sizes=(20, 1000), runs=30)
    df = data["cifar10"]
    w = runs.pivot_table(index=["n", "run"], columns="method", values="index")
    assert (w["zico"] == w[zp.ORACLE]).all()  # validation order = the oracle
    by_index = df.set_index("index")
    worst = by_index.loc[w["params"].to_numpy(), "valid_acc"].to_numpy()
    best = by_index.loc[w["zico"].to_numpy(), "valid_acc"].to_numpy()
    assert (worst < best).all()
    # NaN ranks last: the nan proxy picks a scored cell
    assert by_index.loc[w["nan"].to_numpy(), "nan"].notna().all()
    assert set(runs["n"]) == {20, 300}  # 1000 is clipped to the table
    # at N = the whole table every run picks the same cells
    full = w.loc[300]
    assert full["zico"].nunique() == 1 and full["params"].nunique() == 1
    assert full["zico"].iloc[0] == df.loc[df["valid_acc"].idxmax(), "index"]


def test_summary_table_delta_and_records():
    data = _data()
    runs = zp.picks(data, ["zico", "params"], sizes=(20,), runs=40)
    summ = zp.summary(runs, data)
    best = summ.set_index("method").loc[zp.BEST]
    assert best["test_mean"] == data["cifar10"]["test_acc"].max()
    assert summ["method"].iloc[0] == zp.BEST  # best first
    got = summ.set_index("method").loc["zico"]
    mine = runs[runs["method"] == "zico"]["test_acc"]
    assert got["test_mean"] == pytest.approx(mine.mean())
    assert got["test_sd"] == pytest.approx(mine.std(ddof=1))
    delta = zp.paired_delta(runs)
    w = runs.pivot_table(index="run", columns="method", values="test_acc")
    d = w["zico"] - w["params"]
    assert delta["delta"].item() == pytest.approx(d.mean())
    assert delta["half_width"].item() == pytest.approx(1.96 * d.std() / np.sqrt(40))
    tab = zp.table(summ)
    assert list(tab.columns) == ["cifar10, N=20"] and len(tab) == 5
    assert " ± " in tab.loc["zico"].item() and " ± " not in tab.loc[zp.BEST].item()
    recs = zp.records(summ, delta)
    assert len(recs) == len(summ) + 1
    assert all({"experiment", "metric", "dataset", "value"} <= set(r) for r in recs)
    assert "ZiCo's pick" in zp.finding(summ, delta)


def test_figure_has_a_panel_per_dataset():
    data = {**_data(), "cifar100": _data(seed=1)["cifar10"]}
    runs = zp.picks(data, ["zico", "params"], sizes=(10, 20), runs=5)
    fig = zp.figure(zp.summary(runs, data))
    assert len(fig.axes) == 2 and "from 20 random cells" in fig._suptitle.get_text()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(ticks) == {"zico", "params", "random"}
