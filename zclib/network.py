"""The NB201 / NATS-Bench topology-space cell network, exactly as the benchmark
trained it.

    from zclib.network import build, cost
    net = build(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
        "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        "cifar10",
    )
    cost(arch, "cifar10")  # {'params_M': 1.073466, 'flops_M': 153.34201}

Macro skeleton (official ``TinyNetwork``, C=16, N=5):
stem Conv3x3(3->C)+BN -> N cells(C) -> residual block(C->2C, stride 2)
-> N cells(2C) -> residual block(2C->4C, stride 2) -> N cells(4C) -> BN-ReLU
-> global avg pool -> Linear.
Cell ops: ``nor_conv_kxk`` = ReLU-Conv(bias=False)-BN(affine), ``avg_pool_3x3`` =
AvgPool2d(3, 1, 1, count_include_pad=False), ``skip_connect`` = identity, ``none`` =
``x * 0`` (kept in the graph, as the official code does). A node sums its in-edges.

Variants (recorded with every score):
* ``"official"`` (default): the benchmark's network above.
* ``"foresight"``: the network the zero-cost-proxy reference code (SamsungLabs
  ``foresight/models/nasbench2``) scored: cell convs *with* bias and cell BN with
  ``affine=False, track_running_stats=False``; residual blocks as official. Foresight
  also instantiates the unused ops of every edge; those modules receive no gradient
  and add exactly zero to every proxy, so we do not build them (only the order in
  which weights are drawn from the RNG differs).

``bn=False`` removes BatchNorm (used by synflow). Official variant: every BN goes.
Foresight variant: stem, cell and final BN go but the residual blocks keep theirs,
exactly as foresight's ``use_bn=False`` copy does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from zclib import space
from zclib.names import NUM_CLASSES, canonical_dataset

VARIANTS = ("official", "foresight")
# Input resolution the benchmark trained each dataset at.
RESOLUTION = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}


def _bn(c: int, enabled: bool, affine: bool = True, track: bool = True) -> nn.Module:
    return (
        BatchNorm2d(c, affine=affine, track_running_stats=track)
        if enabled
        else nn.Identity()
    )


def _per_channel(t: torch.Tensor) -> torch.Tensor:
    return t.view(1, -1, 1, 1)


_NHW = (0, 2, 3)


class _BNTrain(torch.autograd.Function):
    """Training-mode batch norm: PyTorch's own forward and backward kernels
    (``native_batch_norm`` / ``native_batch_norm_backward``: identical numbers), with
    the backward itself a :class:`_BNBackward` so that a second derivative takes the
    closed form below instead of PyTorch's generic double backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        y, mean, invstd = torch.ops.aten.native_batch_norm(
            x, weight, bias, running_mean, running_var, True, momentum, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight, mean, invstd = ctx.saved_tensors
        gx, gw, gb = _BNBackward.apply(gy, x, weight, mean, invstd, ctx.eps)
        return gx, gw, gb, None, None, None, None


class _BNBackward(torch.autograd.Function):
    """The first backward of training-mode BN and its exact derivative.

    Per channel, with M = N*H*W, s = 1/sqrt(var + eps), xh = (x - mean) s, g = gamma
    (1 without affine) and <t> the mean over (N, H, W), the first backward is
    gx = g s (gy - <gy> - xh <gy xh>), ggamma = M <gy xh>, gbeta = M <gy>.
    Given cotangents (u, ugamma, ubeta) of (gx, ggamma, gbeta), with a = <gy>,
    b = <gy xh>, c = <u>, d = <u xh>, e = <u gy>:
      d/dgy    = g s (u - c - xh d) + ugamma xh + ubeta
      d/dx     = -g s^2 [xh (e - a c - 3 b d) + d (gy - a) + b (u - c)]
                 + ugamma s (gy - a - xh b)
      d/dgamma = M s (e - a c - b d)
    (the x-dependence of mean and s included). Same values as PyTorch's
    ``batchnorm_double_backward`` up to rounding (1e-13 relative in float64, tested)
    in ~14 passes over the activations instead of ~35: GraSP's Hessian-gradient
    product spent ~30% of the whole proxy pass there on CPU.
    """

    @staticmethod
    def forward(ctx, gy, x, weight, mean, invstd, eps):
        affine = weight is not None
        gx, gw, gb = torch.ops.aten.native_batch_norm_backward(
            gy, x, weight, None, None, mean, invstd, True, eps, [True, affine, affine])
        ctx.save_for_backward(gy, x, weight, mean, invstd)
        ctx.set_materialize_grads(False)  # backward takes None cotangents as zero
        return gx, gw, gb

    @staticmethod
    def backward(ctx, u, ugamma, ubeta):
        gy, x, weight, mean, invstd = ctx.saved_tensors
        need_gy, need_x, need_w = ctx.needs_input_grad[:3]
        m = x.numel() // x.shape[1]
        s = invstd
        g = weight if weight is not None else torch.ones_like(s)
        zero = torch.zeros_like(s)
        ugamma = zero if ugamma is None else ugamma
        ubeta = zero if ubeta is None else ubeta
        xh = torch.addcmul(_per_channel(-mean * s), x, _per_channel(s))
        a = gy.sum(_NHW) / m
        b = (gy * xh).sum(_NHW) / m
        if u is not None:
            c, d = u.sum(_NHW) / m, (u * xh).sum(_NHW) / m
            e = (u * gy).sum(_NHW) / m if (need_x or need_w) else zero
        else:
            c = d = e = zero
        d_gy = d_x = d_w = None
        if need_gy:
            gs = g * s
            d_gy = torch.addcmul(_per_channel(ubeta - gs * c), xh,
                                 _per_channel(ugamma - gs * d))
            if u is not None:
                d_gy.addcmul_(u, _per_channel(gs))
        if need_x:
            gs2 = g * s * s
            d_x = torch.addcmul(
                _per_channel(gs2 * (d * a + b * c) - ugamma * s * a), xh,
                _per_channel(-gs2 * (e - a * c - 3 * b * d) - ugamma * s * b))
            d_x.addcmul_(gy, _per_channel(ugamma * s - gs2 * d))
            if u is not None:
                d_x.addcmul_(u, _per_channel(-gs2 * b))
        if need_w and weight is not None:
            d_w = m * s * (e - a * c - b * d)
        return d_gy, d_x, d_w, None, None, None


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training-mode CPU autograd path is :class:`_BNTrain`:
    the same forward, running-stat update and gradient (bit-identical, tested) and a
    closed-form, ~2.5x cheaper second derivative. Elsewhere (eval mode, no grad,
    GPUs) the standard module runs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and x.device.type == "cpu" and torch.is_grad_enabled()
                and self.momentum is not None):
            return super().forward(x)
        self._check_input_dim(x)
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        return _BNTrain.apply(x, self.weight, self.bias, self.running_mean,
                              self.running_var, self.momentum, self.eps)


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d -> BN (official ``ReLUConvBN``; conv bias iff BN is
    affine-free)."""

    def __init__(
        self, c_in, c_out, k, stride, padding, bn=True, affine=True, track=True
    ):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=not affine),
            _bn(c_out, bn, affine, track),
        )


class Zero(nn.Module):
    """The ``none`` op: ``x * 0`` (keeps the graph and the FLOP-free shape)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


_CL = torch.channels_last
# kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
_POOL3 = ([3, 3], [1, 1], [1, 1], False, False, None)


class _AvgPoolCL(torch.autograd.Function):
    """``avg_pool2d(x, 3, 1, 1, count_include_pad=False)`` computed in channels-last
    layout and returned contiguous: bit-identical to the NCHW kernel (forward,
    gradient and second derivative; tested), ~4x faster on CPU, where PyTorch's NCHW
    average-pooling kernel is slower than a 3x3 convolution."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        y = torch.ops.aten.avg_pool2d(x.contiguous(memory_format=_CL), *_POOL3)
        return y.contiguous()

    @staticmethod
    def backward(ctx, g):
        return _AvgPoolCLT.apply(g, ctx.shape)


class _AvgPoolCLT(torch.autograd.Function):
    """The adjoint of :class:`_AvgPoolCL` (its gradient), itself differentiable so
    that second derivatives (GraSP's Hessian-gradient product) take the fast path."""

    @staticmethod
    def forward(ctx, g, shape):
        like = torch.empty(shape, dtype=g.dtype, device=g.device, memory_format=_CL)
        gx = torch.ops.aten.avg_pool2d_backward(
            g.contiguous(memory_format=_CL), like, *_POOL3
        )
        return gx.contiguous()

    @staticmethod
    def backward(ctx, gg):
        return _AvgPoolCL.apply(gg), None


class AvgPool3x3(nn.AvgPool2d):
    """The ``avg_pool_3x3`` op: ``AvgPool2d(3, 1, 1, count_include_pad=False)``.

    On CPU, NCHW inputs go through the channels-last kernel (same numbers, faster);
    elsewhere the standard module runs.
    """

    def __init__(self):
        super().__init__(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and x.dim() == 4 and x.is_contiguous():
            return _AvgPoolCL.apply(x)
        return super().forward(x)


class ResidualBlock(nn.Module):
    """Official ``ResNetBasicblock`` with stride 2 (the reduction between stages)."""

    def __init__(self, c_in: int, c_out: int, bn: bool = True):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, bn=bn)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, bn=bn)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def make_op(
    op: str, c: int, bn: bool = True, affine: bool = True, track: bool = True
) -> nn.Module:
    """One cell op at stride 1 with ``c`` channels in and out."""
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "avg_pool_3x3":
        return AvgPool3x3()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0, bn, affine, track)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1, bn, affine, track)
    raise ValueError(f"unknown op {op!r}; expected one of {', '.join(space.OPS)}")


class Cell(nn.Module):
    """Official ``InferCell``: node i = sum over j<i of op_{j->i}(node j); output
    node 3."""

    def __init__(self, cell: space.Cell, c: int, bn=True, affine=True, track=True):
        super().__init__()
        self.edges = [(j, i) for j, i in space.EDGES]
        self.ops = nn.ModuleList(
            make_op(space.OPS[o], c, bn, affine, track) for o in cell
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for i in range(1, 4):
            out = self.ops[k](nodes[0])
            for j in range(1, i):
                out = out + self.ops[k + j](nodes[j])
            nodes.append(out)
            k += i
        return nodes[3]


class NB201Network(nn.Module):
    """The NB201 cell network; ``forward`` returns logits of shape (batch, classes)."""

    def __init__(
        self,
        arch: str | Sequence[int],
        num_classes: int = 10,
        C: int = 16,
        N: int = 5,
        variant: str = "official",
        bn: bool = True,
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        self.cell = space.as_cell(arch)
        self.arch_str = space.format_arch(self.cell)
        self.num_classes, self.C, self.N = num_classes, C, N
        self.variant, self.bn = variant, bn
        fs = variant == "foresight"
        # foresight keeps BN in the residual blocks even when use_bn=False
        block_bn = bn or fs
        cell_kw = dict(bn=bn, affine=not fs, track=not fs)

        self.stem = nn.Sequential(
            nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), _bn(C, bn)
        )
        layers: list[nn.Module] = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(ResidualBlock(c_prev, c, bn=block_bn))
            layers += [Cell(self.cell, c, **cell_kw) for _ in range(N)]
            c_prev = c
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(_bn(c_prev, bn), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def build(
    arch: str | Sequence[int],
    dataset: str = "cifar10",
    *,
    C: int = 16,
    N: int = 5,
    variant: str = "official",
    bn: bool = True,
    num_classes: int | None = None,
    seed: int | None = None,
) -> NB201Network:
    """Build the network for a cell and dataset (10, 100 or 120 classes).

    ``seed`` gives the one seeded build every part of zclib uses (scorer, training,
    checks): weights drawn from :func:`zclib.space.arch_seed` ``(seed, cell)``, so
    they depend on the run seed and the cell only, and the global RNG is left as it
    was.

    Args:
        arch: arch string or 6-tuple cell.
        dataset: canonical name or alias; sets the number of classes.
        C: channels of the first stage (the benchmark: 16).
        N: cells per stage (the benchmark: 5).
        variant: ``"official"`` or ``"foresight"`` (see the module docstring).
        bn: False removes BatchNorm (see the module docstring).
        num_classes: overrides the dataset's class count.
        seed: run seed; None draws from the global RNG.

    Returns:
        A freshly initialised :class:`NB201Network` (PyTorch default init).
    """
    ncls = num_classes or NUM_CLASSES[canonical_dataset(dataset)]
    if seed is None:
        return NB201Network(arch, ncls, C=C, N=N, variant=variant, bn=bn)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(space.arch_seed(seed, space.as_cell(arch)))
        return NB201Network(arch, ncls, C=C, N=N, variant=variant, bn=bn)


def count_params(net: nn.Module) -> int:
    """All trainable parameters (BN affine included), as the benchmark counts them."""
    return sum(p.numel() for p in net.parameters())


def count_flops(net: nn.Module, resolution: int) -> float:
    """Multiply-accumulates of one image, in the benchmark's counting convention.

    The benchmark (``get_model_infos``) counts only Conv2d and Linear layers:
    conv = k_h*k_w*C_in*C_out/groups per output position (+C_out per position with a
    bias), linear = in*out (+out with a bias). BatchNorm, pooling, ReLU, the additions
    and the ``none`` op count zero. Checked against the official figures in
    ``../shared/reference/nb201_costs.csv`` by the tests.
    """
    total = 0.0

    def conv_hook(m: nn.Conv2d, _inp, out):
        nonlocal total
        positions = out.shape[2] * out.shape[3]
        kh, kw = m.kernel_size
        total += kh * kw * m.in_channels * m.out_channels / m.groups * positions
        if m.bias is not None:
            total += m.out_channels * positions

    def linear_hook(m: nn.Linear, _inp, _out):
        nonlocal total
        total += m.in_features * m.out_features + (
            m.out_features if m.bias is not None else 0
        )

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    try:
        was_training = net.training
        net.eval()
        with torch.no_grad():
            p = next(net.parameters())
            net(torch.zeros(
                1, 3, resolution, resolution, device=p.device, dtype=p.dtype
            ))
        net.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    return total


@functools.lru_cache(maxsize=4096)
def _cost(
    cell: space.Cell, dataset: str, C: int, N: int, resolution: int
) -> tuple[float, float]:
    net = NB201Network(cell, NUM_CLASSES[dataset], C=C, N=N)
    return count_params(net) / 1e6, count_flops(net, resolution) / 1e6


def cost(
    arch: str | Sequence[int],
    dataset: str = "cifar10",
    *,
    C: int = 16,
    N: int = 5,
    resolution: int | None = None,
) -> dict[str, float]:
    """Parameters and FLOPs of the official network, in millions.

    Args:
        arch: arch string or 6-tuple.
        dataset: sets classes and (unless given) the input resolution.
        C, N: width and depth (benchmark: 16, 5).
        resolution: input side in pixels (default: 32 for CIFAR, 16 for ImageNet16-120).

    Returns:
        ``{"params_M": ..., "flops_M": ...}``.
    """
    ds = canonical_dataset(dataset)
    res = resolution or RESOLUTION[ds]
    p, f = _cost(space.as_cell(arch), ds, C, N, res)
    return {"params_M": p, "flops_M": f}
