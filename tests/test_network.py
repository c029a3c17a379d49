import json
import subprocess
import sys

import pandas as pd
import pytest
import torch

from zclib import network, space

GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def _decimals(x: float) -> int:
    s = repr(float(x))
    return len(s.split(".")[1]) if "." in s else 0


def test_params_and_flops_match_official_costs(shared_dir):
    """Every official params figure (132 rows) and FLOPs figure (12 rows)."""
    df = pd.read_csv(shared_dir / "reference/nb201_costs.csv")
    assert len(df) == 132
    for r in df.itertuples():
        c = network.cost(r.arch_str, r.dataset)
        assert abs(c["params_M"] - r.params_M) <= 1e-6, r
        if pd.notna(r.flops_M):
            # some official FLOPs are printed rounded to 0.01 M: compare at their
            # precision
            tol = max(1e-5, 0.5 * 10 ** -_decimals(r.flops_M) + 1e-9)
            assert abs(c["flops_M"] - r.flops_M) <= tol, (r, c)


def test_forward_shapes_per_dataset():
    for ds, ncls, res in [
        ("cifar10", 10, 32),
        ("cifar100", 100, 32),
        ("ImageNet16-120", 120, 16),
    ]:
        net = network.build(GOOD, ds)
        assert net(torch.randn(2, 3, res, res)).shape == (2, ncls)


def test_none_op_cell_gives_zero_cell_output_but_finite_logits():
    net = network.build("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10")
    out = net(torch.randn(2, 3, 32, 32))
    assert torch.isfinite(out).all()


def test_variants_differ_as_documented():
    off = network.build(GOOD, "cifar10")
    fs = network.build(GOOD, "cifar10", variant="foresight")
    conv_bias = [
        m.bias is not None
        for m in fs.cells[0].modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    assert conv_bias and all(conv_bias)
    assert not any(
        isinstance(m, torch.nn.BatchNorm2d) and m.affine for m in fs.cells[0].modules()
    )
    assert all(m.bias is None for m in off.modules() if isinstance(m, torch.nn.Conv2d))
    nobn = network.build(GOOD, "cifar10", bn=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in nobn.modules())
    fs_nobn = network.build(GOOD, "cifar10", variant="foresight", bn=False)
    kept = [m for m in fs_nobn.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(kept) == 4  # two residual blocks x (conv_a, conv_b)
    with pytest.raises(ValueError):
        network.build(GOOD, "cifar10", variant="nope")
    with pytest.raises(ValueError):
        network.build(GOOD, "mnist")


def test_reduced_width_changes_params():
    small = network.cost(GOOD, "cifar10", C=8)["params_M"]
    assert small < network.cost(GOOD, "cifar10")["params_M"]


def test_cost_cli_prints_json():
    out = subprocess.run(
        [sys.executable, "-m", "zclib", "cost", GOOD, "--dataset", "cifar10"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = json.loads(out)
    assert d["params_M"] == pytest.approx(0.802426, abs=1e-6)
    assert d["flops_M"] == pytest.approx(113.95137, abs=1e-5)


def test_cost_cli_bad_arch_exits_2():
    r = subprocess.run(
        [sys.executable, "-m", "zclib", "cost", "|x~0|"], capture_output=True, text=True
    )
    assert r.returncode == 2 and "error" in r.stderr


def test_seeded_build_draws_from_arch_seed_and_keeps_global_rng():
    cell = space.parse(GOOD)
    state = torch.random.get_rng_state()
    a = network.build(GOOD, "cifar10", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(space.arch_seed(3, cell))
    b = network.build(cell, "cifar10")
    c = network.build(GOOD, "cifar10", seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("variant,kept", [("official", 0), ("foresight", 4)])
def test_without_bn_is_the_one_way_bn_goes(variant, kept):
    """build(bn=False) is without_bn of the same seeded build: every other tensor
    equal, the foresight residual blocks (two x conv_a, conv_b) keep their BN."""
    with_bn = network.build(GOOD, "cifar10", variant=variant, seed=2)
    bn_keys = {
        k for k, m in with_bn.named_modules() if isinstance(m, torch.nn.BatchNorm2d)
    }
    stripped = network.without_bn(with_bn)
    assert stripped is with_bn and not stripped.bn
    built = network.build(GOOD, "cifar10", variant=variant, bn=False, seed=2)
    assert not built.bn
    left = [m for m in built.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(left) == kept
    a, b = stripped.state_dict(), built.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert len(bn_keys) > kept  # something was removed
    ref = network.build(GOOD, "cifar10", variant=variant, seed=2).state_dict()
    for k, v in b.items():  # the weights are those of the network with BN
        assert torch.equal(v, ref[k]), k
    x = torch.randn(2, 3, 32, 32)
    assert torch.isfinite(built(x)).all()


def test_without_bn_on_any_module():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.Sequential(torch.nn.BatchNorm2d(4)),
    )
    network.without_bn(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert isinstance(net[1], torch.nn.Identity) and isinstance(
        net[2][0], torch.nn.Identity
    )
