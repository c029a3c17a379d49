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
    # one run serves all these checks (the run is the slow part of this file)
    res = speed.run_speed(
        "ImageNet16-120",
        n=2,
        batch_size=4,
        device="cpu",
        seed=1,
        packs=[2],
        reference=False,
        peak_n=128,
        warmup=0,
        progress=False,
    )
    check_structure(res)
    check_fused_and_naive_scores_agree(res)
    check_packed(res)
    check_flops(res)
    check_profile(res)


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
        "packs",
        "pack_groups",
    ):
        assert key in meta, key
    assert meta["n"] == 2 and len(meta["archs"]) == 2 and meta["warmup_archs"] == 0
    assert meta["packs"] == [2] and meta["pack_groups"] == {"2": [[0, 1]]}
    assert set(res["singles"]) == set(ALL)
    assert set(res["sets"]) == {"six", "all"}
    assert res["sets"]["six"]["proxies"] == SIX and res["sets"]["all"]["proxies"] == ALL
    for s in res["sets"].values():
        for st in (s["fused"], s["naive"]):
            assert st["n"] == 2 and len(st["seconds"]) == 2
            assert all(v > 0 for v in st["seconds"])
            assert st["min"] <= st["median"] <= st["max"] and st["std"] >= 0
            assert st["pack"] == 1 and st["archs_timed"] == 2
        assert s["ratio_naive_fused"] > 0
        assert "reference" not in s and "reference_over_ours" not in s
    assert res["target_check"]["device"] == "cpu"
    assert res["target_check"]["conditions_match"] is False  # batch 4, ImageNet16
    assert "TARGETS" in res["target_check"]["reference_source"]  # none timed here
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


def check_packed(res):
    for s in res["sets"].values():
        st = s["packed"]["2"]  # one pass of both archs: one timed call
        assert st["pack"] == 2 and st["n"] == 1 and st["archs_timed"] == 2
        assert st["mean"] > 0 and st["archs_per_s"] == pytest.approx(1 / st["mean"])
        assert s["ratio_fused_packed"]["2"] == pytest.approx(
            s["fused"]["mean"] / st["mean"]
        )
        assert s["best_pack"] in (1, 2)
        assert set(s["archs_per_s_by_pack"]) == {"1", "2"}
    pa = res["packed_agreement"]
    assert set(pa["six/pack2"]) == set(SIX) and set(pa["all/pack2"]) == set(ALL)
    for p, d in pa["all/pack2"].items():
        assert d <= pa["tolerance"][p], (p, d)
    assert pa["ok"]
    assert res["nan_counts"]["all/pack2"].keys() == set(ALL)


def check_flops(res):
    peak = res["peak"]
    assert peak["n"] == 128 and peak["dtype"] == "float32" and peak["flop_per_s"] > 0
    assert len(peak["seconds_before"]) == len(peak["seconds_after"]) == 5
    assert peak["threads"] == res["meta"]["torch_num_threads"] == 1
    for s in res["sets"].values():
        for st in (s["naive"], s["fused"], s["packed"]["2"]):
            assert st["flops_per_arch"] > 0 and st["flop_per_s"] > 0
            assert st["of_peak"] == pytest.approx(st["flop_per_s"] / peak["flop_per_s"])
            assert st["flop_per_s"] == pytest.approx(st["flops_per_arch"] / st["mean"])
        # naive repeats the forward pass per proxy: more FLOPs than fused
        assert s["naive"]["flops_per_arch"] > s["fused"]["flops_per_arch"]
        # the packed network runs the same convolutions, grouped (no wrap-around:
        # pack 2 of 2 archs); its grouped weight gradients are counted once each
        fused = s["fused"]["flops_by_op_per_arch"]
        packed = s["packed"]["2"]["flops_by_op_per_arch"]
        for op in ("aten.convolution", "aten.convolution_backward"):
            assert packed[op] == pytest.approx(fused[op], rel=1e-12), op


def check_profile(res):
    for name in ("six", "all"):
        pr = res["profile"][name]
        assert pr["pack"] == 2 and len(pr["archs"]) == 2
        for label in ("fused", "packed"):
            g = pr[label]["groups"]
            assert list(g) == list(speed.profile.GROUPS)
            assert sum(v["share"] for v in g.values()) == pytest.approx(1.0)
            top = pr[label]["top"]
            assert top and [t["ms_per_arch"] for t in top] == sorted(
                (t["ms_per_arch"] for t in top), reverse=True
            )
            assert g["convolution forward"]["share"] > 0
        # only the packed network gathers and scatters channels of its edges
        ops = {t["op"] for t in pr["packed"]["top"]}
        assert ops & {"aten::index_select", "aten::index_add_"} or (
            pr["packed"]["groups"]["data movement"]["share"]
            > pr["fused"]["groups"]["data movement"]["share"]
        )


@pytest.fixture
def foresight():
    """The reference folder; skips when it is absent (as tests/test_oracle.py)."""
    from zclib import oracle

    try:
        return oracle.reference_dir()
    except oracle.ReferenceNotFoundError as exc:
        pytest.skip(str(exc))


def test_tiny_run_with_the_reference(tiny_imagenet16, foresight):
    """The reference code timed in the same run, on the same archs and batch."""
    res = speed.run_speed(
        "ImageNet16-120",
        n=2,
        batch_size=4,
        seed=1,
        sets={"six": SIX},
        singles=[],
        packs=[2],
        profile=False,
        peak_n=128,
        warmup=0,
        progress=False,
    )
    s = res["sets"]["six"]
    ref = s["reference"]
    assert ref["n"] == 2 and ref["mean"] > 0 and ref["flops_per_arch"] > 0
    r = s["reference_over_ours"]
    assert r["fused"] == pytest.approx(ref["mean"] / s["fused"]["mean"])
    assert r["naive"] == pytest.approx(ref["mean"] / s["naive"]["mean"])
    best = s["best_pack"]
    best_mean = s["fused"]["mean"] if best == 1 else s["packed"][str(best)]["mean"]
    assert r["best_pack"] == best
    assert r["best_packed"] == pytest.approx(ref["mean"] / best_mean)
    tc = res["target_check"]
    assert tc["reference_source"].startswith("measured in this run")
    assert tc["reference_six_s_per_arch"] == ref["mean"]
    assert res["nan_counts"]["six/reference"].keys() == set(SIX)
    assert res["profile"] is None and res["meta"]["reference"] is True


def test_reference_missing_is_one_user_error(tiny_imagenet16, monkeypatch, capsys):
    from zclib import oracle

    monkeypatch.setenv(oracle.ENV_VAR, str(tiny_imagenet16 / "nowhere"))
    rc = main(
        ["speed", "--dataset", "ImageNet16-120", "--n", "1", "--batch-size", "4"]
        + ["--no-singles", "--workers", "0", "--quiet", "--packs", "2"]
    )
    assert rc == 2
    assert "--no-reference" in capsys.readouterr().err


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
            "4",
            "--no-singles",
            "--quiet",
            "--workers",
            "2",
            "--packs",
            "2",
            "--no-reference",
            "--no-profile",
            "--peak-n",
            "64",
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
    assert res["sets"]["all"]["packed"]["2"]["pack"] == 2
    assert res["peak"]["n"] == 64 and res["profile"] is None
    text_out = capsys.readouterr().out
    assert "six fused" in text_out and "all pack 2" in text_out


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


def test_timing_harness_times_a_packed_scorer_per_group():
    """Groups of K (the last one wraps around), timed when their last new arch comes
    up; each arch of a group gets the group's seconds / K."""
    from zclib.timing import time_scorers

    calls = []

    class One:
        def score(self, arch):
            calls.append(("one", arch))
            return {"arch": arch}

    class Packed:
        def score_many(self, archs):
            calls.append(("packed", tuple(archs)))
            return [{"arch": a} for a in archs]

    out = time_scorers(
        {"one": One(), "packed": Packed()},
        ["a", "b", "c"],
        warm=["w"],
        packs={"packed": 2},
    )
    assert calls == [
        ("packed", ("w", "w")),  # warm-up: one group of the warm archs
        ("one", "w"),
        ("one", "a"),
        ("one", "b"),
        ("packed", ("a", "b")),
        ("one", "c"),
        ("packed", ("c", "a")),
    ]
    packed = [t for t in out if t.key == "packed"]
    assert [(t.arch, t.position, t.group) for t in packed] == [
        ("a", 0, 2),
        ("b", 1, 2),
        ("c", 2, 2),
        ("a", 0, 2),
    ]
    assert packed[0].seconds == packed[1].seconds and packed[0].row == {"arch": "a"}
    assert all(t.group == 1 for t in out if t.key == "one")


def test_pack_groups():
    from zclib.timing import pack_groups

    assert pack_groups(4, 2) == [[0, 1], [2, 3]]
    assert pack_groups(5, 2) == [[0, 1], [2, 3], [4, 0]]
    assert pack_groups(2, 5) == [[0, 1, 0, 1, 0]]
    assert pack_groups(3, 1) == [[0], [1], [2]]
    with pytest.raises(ValueError):
        pack_groups(0, 2)


def test_conv_flops_are_the_known_formula():
    conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    x = torch.randn(2, 3, 9, 9)
    f, out = speed.count_flops(lambda: conv(x))
    # 2 FLOPs per multiply-add: batch * C_out * H_out * W_out * C_in * k * k
    assert out.shape == (2, 8, 5, 5)
    assert f["total"] == f["by_op"]["aten.convolution"] == 2 * 2 * 8 * 5 * 5 * 3 * 9
    lin = torch.nn.Linear(6, 4)
    f, _ = speed.count_flops(lambda: lin(torch.randn(5, 6)))
    assert f["total"] == 2 * 5 * 6 * 4


def test_conv_backward_flops_per_gradient_and_grouped():
    """Backward: the forward's count per gradient computed (weight; input too when
    it requires grad, e.g. jacob_cov's input Jacobian, which FlopCounterMode's
    module hooks cannot run); a grouped convolution counts as its groups do apart
    (torch.utils.flop_counter counts its weight gradient `groups` times)."""
    from torch.utils.flop_counter import FlopCounterMode

    def fwd_bwd(conv, x):
        return lambda: conv(x).square().sum().backward()

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(4, 6, 3, padding=1, bias=False)
    x = torch.randn(2, 4, 7, 7)
    fwd = 2 * 2 * 6 * 7 * 7 * 4 * 9
    assert speed.count_flops(fwd_bwd(conv, x))[0]["total"] == 2 * fwd  # weight only
    xg = x.clone().requires_grad_()
    assert speed.count_flops(fwd_bwd(conv, xg))[0]["total"] == 3 * fwd
    with FlopCounterMode(display=False) as fcm:  # ungrouped: torch agrees
        fwd_bwd(conv, xg)()
    assert fcm.get_total_flops() == 3 * fwd
    f, _ = speed.count_flops(
        lambda: torch.autograd.grad(conv(xg).sum(), xg)  # input gradient only
    )
    assert f["total"] == 2 * fwd

    grouped = torch.nn.Conv2d(8, 12, 3, padding=1, groups=4, bias=False)
    xg8 = torch.randn(2, 8, 7, 7, requires_grad=True)
    parts = []
    for g in range(4):
        c = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False)
        c.weight.data = grouped.weight.data[3 * g : 3 * g + 3].clone()
        xi = xg8.detach()[:, 2 * g : 2 * g + 2].clone().requires_grad_()
        parts.append(speed.count_flops(fwd_bwd(c, xi))[0]["total"])
    assert speed.count_flops(fwd_bwd(grouped, xg8))[0]["total"] == sum(parts)


def test_double_backward_is_counted():
    lin = torch.nn.Linear(6, 4, bias=False)
    x = torch.randn(5, 6)

    def grasp_like():
        (g,) = torch.autograd.grad(lin(x).square().sum(), lin.weight, create_graph=True)
        (g * torch.ones_like(g)).sum().backward()

    once, _ = speed.count_flops(
        lambda: torch.autograd.grad(lin(x).square().sum(), lin.weight)
    )
    twice, _ = speed.count_flops(grasp_like)
    assert twice["total"] > once["total"] > 2 * 5 * 6 * 4


def test_matmul_peak():
    pk = speed.matmul_peak(64, repeats=3)
    assert pk["n"] == 64 and len(pk["seconds"]) == 3 and pk["dtype"] == "float32"
    assert pk["flop_per_s"] == pytest.approx(2 * 64**3 / min(pk["seconds"]), rel=1e-3)
    assert pk["threads"] == torch.get_num_threads()
    with pytest.raises(ValueError):
        speed.matmul_peak(0)


@pytest.mark.parametrize(
    ("name", "enclosing", "group"),
    [
        ("aten::convolution_backward", [], "convolution backward"),
        ("aten::mkldnn_convolution", ["aten::convolution"], "convolution forward"),
        ("aten::index_add_", ["aten::add"], "data movement"),
        ("aten::index_select", [], "data movement"),
        ("aten::copy_", ["aten::clone", "_BNTrain"], "data movement"),  # own name
        ("aten::mul", ["_BNTrain"], "batch norm"),
        ("aten::native_batch_norm", [], "batch norm"),
        (
            "aten::mul",
            ["aten::sum", "autograd::engine::evaluate_function: AvgPool2DBackward0"],
            "pooling",
        ),
        ("aten::mul", [], "other"),
        ("aten::threshold_backward", ["ReluBackward0"], "other"),
    ],
)
def test_op_group(name, enclosing, group):
    assert speed.op_group(name, enclosing) == group


def test_profile_ops_attributes_self_time():
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.randn(2, 3, 16, 16)

    def work():
        for _ in range(3):
            torch.cat([conv(x), conv(x)], 1).sum()

    pr = speed.profile_ops(work, n_archs=3, top=5)
    assert pr["n_archs"] == 3 and len(pr["top"]) == 5
    g = pr["groups"]
    assert sum(v["share"] for v in g.values()) == pytest.approx(1.0)
    assert sum(v["ms_per_arch"] for v in g.values()) == pytest.approx(pr["ms_per_arch"])
    assert g["convolution forward"]["share"] > 0 and g["data movement"]["share"] > 0
    assert g["convolution backward"]["share"] == 0  # nothing ran backward
    cat = next(t for t in speed.profile_ops(work, 3, top=50)["top"] if "cat" in t["op"])
    assert cat["calls_per_arch"] == 1 and cat["group"] == "data movement"


def test_self_times_equal_the_profilers_own():
    """Our nesting of the raw events gives the self times of prof.key_averages()."""
    from torch.profiler import ProfilerActivity, profile

    from zclib.speed.profile import self_times

    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.randn(2, 3, 12, 12, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            torch.cat([conv(x), conv(x)], 1).square().sum().backward()
    ours: dict[str, float] = {}
    for name, us, _ in self_times(prof):
        ours[name] = ours.get(name, 0.0) + us
    theirs = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    assert set(ours) == set(theirs)
    for name, us in theirs.items():
        assert ours[name] == pytest.approx(us, rel=1e-3, abs=2.0), name


def test_a_pack_that_does_not_fit_is_dropped_not_fatal():
    from zclib.speed.configs import HEAVIEST, Configs

    seen = []

    class Fits:
        def score(self, arch):
            seen.append(("fused", arch))

    class TooBig:
        def score_many(self, archs):
            seen.append(("pack2", tuple(archs)))
            raise torch.OutOfMemoryError(
                "CUDA out of memory. Tried to allocate 9 GiB\n"
            )

    key_f, key_p = ("set", "all", "fused"), ("set", "all", "pack2")
    cf = Configs(
        {key_f: Fits(), key_p: TooBig()}, {key_f: ["snip"], key_p: ["snip"]}, {key_p: 2}
    )
    dropped = cf.warm_up(["a"])
    assert seen == [("fused", "a"), ("pack2", (HEAVIEST, HEAVIEST))]
    assert list(dropped) == ["all/pack2"] and "out of memory" in dropped["all/pack2"]
    assert key_p not in cf.scorers and not cf.packs and key_f in cf.scorers
