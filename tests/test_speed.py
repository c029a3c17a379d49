"""The speed benchmark at a tiny size: JSON structure and fused == naive scores.

No timing assertions: timings are what the benchmark measures, not what tests check.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from zclib import proxies, speed
from zclib.__main__ import main

ALL = proxies.resolve("all")  # what --proxies all scores (no variants)
SIX = list(proxies.ABDELFATTAH)


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine, 2-thread runs competing with
    other processes slow down many times over (spinning thread pools)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_tiny_run(tiny_imagenet16):
    # one run serves both checks (the run is the slow part of this file)
    res = speed.run_speed(
        "ImageNet16-120",
        n=2,
        batch_size=8,
        device="cpu",
        seed=1,
        warmup=0,
        progress=False,
    )
    check_structure(res)
    check_fused_and_naive_scores_agree(res)


def check_structure(res):
    meta = res["meta"]
    for key in (
        "zclib_version",
        "git_commit",
        "git_dirty",
        "torch_version",
        "torch_num_threads",
        "cpu_count",
        "processor",
        "device_name",
        "date",
        "loadavg_before",
        "loadavg_after",
        "loadavg_1min_during",
        "loaded",
        "archs",
        "data_source",
    ):
        assert key in meta, key
    assert meta["n"] == 2 and len(meta["archs"]) == 2 and meta["warmup_archs"] == 0
    assert set(res["singles"]) == set(ALL)
    assert set(res["sets"]) == {"six", "all"}
    assert res["sets"]["six"]["proxies"] == SIX and res["sets"]["all"]["proxies"] == ALL
    for s in res["sets"].values():
        for mode in ("fused", "naive"):
            st = s[mode]
            assert st["n"] == 2 and len(st["seconds"]) == 2
            assert all(v > 0 for v in st["seconds"])
            assert st["min"] <= st["median"] <= st["max"] and st["std"] >= 0
        assert s["ratio_naive_fused"] > 0
    assert res["target_check"]["device"] == "cpu"
    assert res["target_check"]["conditions_match"] is False  # batch 8, ImageNet16
    assert isinstance(res["meets_target"], bool)
    assert res["targets"]["cpu"]["six_fused_s_per_arch"] == 0.9


def check_fused_and_naive_scores_agree(res):
    c = res["consistency"]
    assert set(c["six_naive_vs_fused"]) == set(SIX)
    assert set(c["all_naive_vs_fused"]) == set(ALL)
    assert set(c["single_vs_all_fused"]) == set(ALL)
    for key in ("six_naive_vs_fused", "all_naive_vs_fused", "single_vs_all_fused"):
        for p, d in c[key].items():
            assert d <= 1e-6, (key, p, d)
    assert c["ok"] and c["max_rel_diff"] <= c["tolerance"] == 1e-6


def test_rel_diff():
    assert speed.rel_diff(1.0, 1.0) == 0.0
    assert speed.rel_diff(0.0, 0.0) == 0.0
    assert speed.rel_diff(2.0, 1.0) == 0.5
    assert speed.rel_diff(math.nan, math.nan) == 0.0
    assert speed.rel_diff(math.nan, 1.0) == math.inf


def test_a_disagreement_is_reported():
    key_f, key_n = ("set", "s", "fused"), ("set", "s", "naive")
    scores = {
        key_f: [{"snip": 1.0}, {"snip": 2.0}],
        key_n: [{"snip": 1.0}, {"snip": 2.1}],
        ("single", "snip", "fused"): [{"snip": 1.0}, {"snip": math.nan}],
    }
    c = speed.consistency(scores, ["snip"], {"s": ["snip"]})
    assert c["s_naive_vs_fused"]["snip"] == pytest.approx(0.1 / 2.1)
    assert c["single_vs_s_fused"]["snip"] == math.inf  # NaN on one side only
    assert not c["ok"]


def test_cli_writes_strict_json(tiny_imagenet16, capsys):
    out = tiny_imagenet16 / "bench" / "speed.json"
    rc = main(
        [
            "speed",
            "--dataset",
            "ImageNet16-120",
            "--n",
            "1",
            "--batch-size",
            "8",
            "--no-singles",
            "--quiet",
            "--workers",
            "2",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = out.read_text()
    res = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert res["singles"] == {} and set(res["sets"]) == {"six", "all"}
    assert res["throughput"]["workers"] == 2
    assert set(res["throughput"]["sets"]) == {"six", "all"}
    tc = res["target_check"]
    assert set(tc["throughput"]["ok"]) == {"six", "all"}
    assert tc["meets_target"] == bool(tc["met_by"])
    assert not list(out.parent.glob(".*.tmp"))  # atomic write left no temp file
    assert "six fused" in capsys.readouterr().out


def test_throughput_workers_score_the_same_archs(tiny_imagenet16):
    """Two spawned workers split the archs; their scores are the one-process ones and
    the timing fields are there (values are not checked: timings are measured)."""
    archs = [
        "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|"
        "nor_conv_1x1~2|",
        "|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|"
        "nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|"
        "nor_conv_3x3~1|none~2|",
    ]
    sets = {"pair": ["snip", "synflow"]}
    from zclib.scoring import Scorer

    one = Scorer("ImageNet16-120", sets["pair"], batch_size=8)
    reference = {"pair": [one.score(a) for a in archs]}
    tp = speed.run_throughput(
        "ImageNet16-120",
        archs,
        sets,
        2,
        batch_size=8,
        reference=reference,
        progress=False,
    )
    assert tp["workers"] == 2 and tp["threads_per_worker"] >= 1
    s = tp["sets"]["pair"]
    for mode in ("fused", "naive"):
        assert s[mode]["n"] == 3 and s[mode]["s_per_arch"] > 0
    assert s["ratio_naive_fused"] > 0
    assert set(tp["vs_one_process_max_rel_diff"]["pair"]) == {"snip", "synflow"}
    assert max(tp["vs_one_process_max_rel_diff"]["pair"].values()) <= 1e-6


def test_throughput_worker_failure_is_reported_not_hung(tiny_imagenet16):
    with pytest.raises(RuntimeError, match="throughput worker failed"):
        speed.run_throughput(
            "ImageNet16-120",
            ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
            {"bad": ["snip"]},
            1,
            batch_size=8,
            variant="nope",
            progress=False,
        )


def test_timing_harness_interleaves_and_does_not_time_the_warm_up():
    from zclib.timing import time_scorers

    calls = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def score(self, arch):
            calls.append((self.name, arch))
            return {"arch": arch}

    seen_archs = []
    out = time_scorers(
        {"a": Fake("a"), "b": Fake("b")},
        ["x", "y"],
        warm=["w"],
        on_arch=seen_archs.append,
    )
    assert calls == [
        ("a", "w"),
        ("b", "w"),
        ("a", "x"),
        ("b", "x"),
        ("a", "y"),
        ("b", "y"),
    ]
    assert [(t.key, t.arch, t.position) for t in out] == [
        ("a", "x", 0),
        ("b", "x", 0),
        ("a", "y", 1),
        ("b", "y", 1),
    ]
    assert all(t.seconds >= 0 and t.cpu_seconds >= 0 for t in out)
    assert out[0].row == {"arch": "x"} and seen_archs == [0, 1]
