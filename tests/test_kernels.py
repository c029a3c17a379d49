"""The CPU kernels of zclib.kernels against the stock PyTorch modules: same numbers
(bit-identical where the docstrings say so), and an independent finite-difference
check of the closed-form BN second derivative."""

import pytest
import torch
import torch.nn.functional as F
from torch import autograd
from torch.autograd import gradgradcheck

from zclib.kernels import AvgPool3x3, BatchNorm2d, batch_norm_train


def test_batchnorm_init_draws_nothing_from_the_rng():
    """Why build(bn=False) = without_bn(build()) keeps every other weight: BN
    initialisation (ones, zeros) consumes no random numbers."""
    state = torch.random.get_rng_state()
    for affine, track in [(True, True), (False, False)]:
        BatchNorm2d(8, affine=affine, track_running_stats=track)
        torch.nn.BatchNorm2d(8, affine=affine, track_running_stats=track)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_avg_pool_fast_path_is_bit_identical(dtype):
    """The channels-last CPU path of avg_pool_3x3 gives the NCHW module's numbers
    exactly: output, gradient and GraSP-style second derivative."""
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
    ours = BatchNorm2d(5, affine=affine, track_running_stats=track).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def _bn_chain(bn, x0, k1, k2, second=True):
    """conv -> BN -> ReLU-ish -> conv, a loss, its gradient w.r.t. (x, convs, BN
    params) with the graph kept, and a GraSP-style Hessian-vector product."""
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
        assert torch.equal(
            ours(x0[:, :1].expand(-1, 5, -1, -1)), ref(x0[:, :1].expand(-1, 5, -1, -1))
        )


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
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    w = (torch.rand(2, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    b = torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True)
    assert gradgradcheck(
        lambda x, w, b: batch_norm_train(x, w, b, None, None, 0.1, 1e-5), (x, w, b)
    )
    assert gradgradcheck(
        lambda x: batch_norm_train(x, None, None, None, None, 0.1, 1e-5), (x,)
    )
