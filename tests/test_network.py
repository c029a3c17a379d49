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
    for ds, ncls, res in [("cifar10", 10, 32), ("cifar100", 100, 32),
                          ("ImageNet16-120", 120, 16)]:
        net = network.build(GOOD, ds)
        assert net(torch.randn(2, 3, res, res)).shape == (2, ncls)


def test_none_op_cell_gives_zero_cell_output_but_finite_logits():
    net = network.build("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10")
    out = net(torch.randn(2, 3, 32, 32))
    assert torch.isfinite(out).all()


def test_variants_differ_as_documented():
    off = network.build(GOOD, "cifar10")
    fs = network.build(GOOD, "cifar10", variant="foresight")
    conv_bias = [m.bias is not None for m in fs.cells[0].modules()
                 if isinstance(m, torch.nn.Conv2d)]
    assert conv_bias and all(conv_bias)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) and m.affine
                   for m in fs.cells[0].modules())
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
        capture_output=True, text=True, check=True,
    ).stdout
    d = json.loads(out)
    assert d["params_M"] == pytest.approx(0.802426, abs=1e-6)
    assert d["flops_M"] == pytest.approx(113.95137, abs=1e-5)


def test_cost_cli_bad_arch_exits_2():
    r = subprocess.run([sys.executable, "-m", "zclib", "cost", "|x~0|"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "error" in r.stderr


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_avg_pool_fast_path_is_bit_identical(dtype):
    """The channels-last CPU path of avg_pool_3x3 gives the NCHW module's numbers
    exactly: output, gradient and GraSP-style second derivative."""
    from torch import autograd

    from zclib.network import AvgPool3x3

    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(4, 5, 9, 7, generator=g, dtype=dtype)
    w = torch.randn(4, 5, 9, 7, generator=g, dtype=dtype)
    ref = torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def chain(pool):
        x = x0.clone().requires_grad_()
        y = pool(x * 1.5)
        (gx,) = autograd.grad((y * w).pow(2).sum(), x, create_graph=True)
        (hx,) = autograd.grad((gx * w).sum(), x)
        return y, gx, hx

    for a, b in zip(chain(ref), chain(AvgPool3x3()), strict=True):
        assert a.is_contiguous() and b.is_contiguous()
        assert torch.equal(a, b)
    # a non-contiguous input takes the standard path, same numbers
    xt = x0.transpose(2, 3)
    assert torch.equal(AvgPool3x3()(xt), ref(xt))


def _bn_pair(dtype, affine, track):
    """A stock nn.BatchNorm2d and our BatchNorm2d with the same parameters."""
    ref = torch.nn.BatchNorm2d(5, affine=affine, track_running_stats=track).to(dtype)
    if affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(1))
            ref.bias.normal_(generator=torch.Generator().manual_seed(2))
    ours = network.BatchNorm2d(5, affine=affine, track_running_stats=track).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def _bn_chain(bn, x0, k1, k2, second=True):
    """conv -> BN -> ReLU-ish -> conv, a loss, its gradient w.r.t. (x, convs, BN
    params) with the graph kept, and a GraSP-style Hessian-vector product."""
    import torch.nn.functional as F
    from torch import autograd

    x = x0.clone().requires_grad_()
    c1, c2 = k1.clone().requires_grad_(), k2.clone().requires_grad_()
    h = bn(F.conv2d(x, c1, padding=1))
    h = F.conv2d(F.relu(h) + 0.3 * h, c2, padding=1)
    w = torch.linspace(-1, 1, h.numel(), dtype=h.dtype).view_as(h)
    loss = (h * w).pow(2).mean() + h.pow(3).mean()
    wrt = [x, c1, c2] + [p for p in bn.parameters()]
    g = autograd.grad(loss, wrt, create_graph=second)
    if not second:
        return [h.detach()] + list(g)
    z = sum((1.7 * q.detach() * q).sum() for q in g)
    hv = autograd.grad(z, wrt)
    return [h.detach()] + [q.detach() for q in g] + list(hv)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("affine,track", [(True, True), (False, False)])
def test_batchnorm_first_order_is_bit_identical(dtype, affine, track):
    """Our BN gives nn.BatchNorm2d's output, gradients and running stats exactly."""
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 4, 5, 5, generator=gen, dtype=dtype)
    k1 = torch.randn(5, 4, 3, 3, generator=gen, dtype=dtype) * 0.3
    k2 = torch.randn(3, 5, 3, 3, generator=gen, dtype=dtype) * 0.3
    ref, ours = _bn_pair(dtype, affine, track)
    ref_out = _bn_chain(ref, x0, k1, k2, False)
    for a, b in zip(ref_out, _bn_chain(ours, x0, k1, k2, False), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(ref.state_dict().values(), ours.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    ours.eval()  # eval mode: the standard module's path
    ref.eval()
    if track:
        assert torch.equal(ours(x0[:, :1].expand(-1, 5, -1, -1)),
                           ref(x0[:, :1].expand(-1, 5, -1, -1)))


@pytest.mark.parametrize("affine,track", [(True, True), (False, False)])
def test_batchnorm_second_derivative_matches_pytorch(affine, track):
    """Float64: the closed-form double backward equals PyTorch's generic one (every
    term: cotangents on gx and on ggamma/gbeta, derivatives w.r.t. x, gy, gamma)."""
    gen = torch.Generator().manual_seed(3)
    dt = torch.float64
    x0 = torch.randn(6, 4, 5, 5, generator=gen, dtype=dt)
    k1 = torch.randn(5, 4, 3, 3, generator=gen, dtype=dt) * 0.3
    k2 = torch.randn(3, 5, 3, 3, generator=gen, dtype=dt) * 0.3
    ref, ours = _bn_pair(dt, affine, track)
    a, b = _bn_chain(ref, x0, k1, k2), _bn_chain(ours, x0, k1, k2)
    n = 4 + (2 if affine else 0)  # output + first-order grads
    for u, v in zip(a[:n], b[:n], strict=True):
        assert torch.equal(u, v)
    for u, v in zip(a[n:], b[n:], strict=True):
        assert (u - v).abs().max() <= 1e-10 * u.abs().max()


def test_batchnorm_double_backward_passes_gradgradcheck():
    """Independent of PyTorch's formula: finite differences of the first backward."""
    from torch.autograd import gradgradcheck

    from zclib.network import _BNTrain

    gen = torch.Generator().manual_seed(4)
    x = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    w = (torch.rand(2, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    b = torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True)
    assert gradgradcheck(lambda x, w, b: _BNTrain.apply(x, w, b, None, None, 0.1, 1e-5),
                         (x, w, b))
    assert gradgradcheck(lambda x: _BNTrain.apply(x, None, None, None, None, 0.1, 1e-5),
                         (x,))


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
