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

BatchNorm is removed in one way only, :func:`without_bn` (``build(bn=False)`` and the
proxies' pass for a ``bn=False`` spec such as synflow both call it). Official variant:
every BN goes. Foresight variant: stem, cell and final BN go but the residual blocks
keep theirs, exactly as foresight's ``use_bn=False`` copy does. The BN-free network
keeps every other weight of the network with BN, as if built without BN: BN
initialisation draws nothing from the RNG (ones, zeros; tested).

The ops' CPU autograd kernels (BatchNorm2d, AvgPool3x3) live in :mod:`zclib.kernels`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from zclib import space
from zclib.kernels import AvgPool3x3, BatchNorm2d
from zclib.names import NUM_CLASSES, canonical_dataset

VARIANTS = ("official", "foresight")
# Input resolution the benchmark trained each dataset at.
RESOLUTION = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d -> BN (official ``ReLUConvBN``; conv bias iff BN is
    affine-free)."""

    def __init__(self, c_in, c_out, k, stride, padding, affine=True, track=True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=not affine),
            BatchNorm2d(c_out, affine=affine, track_running_stats=track),
        )


class Zero(nn.Module):
    """The ``none`` op: ``x * 0`` (keeps the graph and the FLOP-free shape)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ResidualBlock(nn.Module):
    """Official ``ResNetBasicblock`` with stride 2 (the reduction between stages)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def make_op(op: str, c: int, affine: bool = True, track: bool = True) -> nn.Module:
    """One cell op at stride 1 with ``c`` channels in and out."""
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "avg_pool_3x3":
        return AvgPool3x3()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0, affine, track)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1, affine, track)
    raise ValueError(f"unknown op {op!r}; expected one of {', '.join(space.OPS)}")


class Cell(nn.Module):
    """Official ``InferCell``: node i = sum over j<i of op_{j->i}(node j); output
    node 3."""

    def __init__(self, cell: space.Cell, c: int, affine=True, track=True):
        super().__init__()
        self.edges = [(j, i) for j, i in space.EDGES]
        self.ops = nn.ModuleList(make_op(space.OPS[o], c, affine, track) for o in cell)

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
    """The NB201 cell network; ``forward`` returns logits of shape (batch, classes).

    Always built with BatchNorm (``bn`` is True); :func:`without_bn` removes it.
    """

    def __init__(
        self,
        arch: str | Sequence[int],
        num_classes: int = 10,
        C: int = 16,
        N: int = 5,
        variant: str = "official",
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        self.cell = space.as_cell(arch)
        self.arch_str = space.format_arch(self.cell)
        self.num_classes, self.C, self.N = num_classes, C, N
        self.variant, self.bn = variant, True
        fs = variant == "foresight"
        cell_kw = dict(affine=not fs, track=not fs)

        self.stem = nn.Sequential(
            nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), BatchNorm2d(C)
        )
        layers: list[nn.Module] = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(ResidualBlock(c_prev, c))
            layers += [Cell(self.cell, c, **cell_kw) for _ in range(N)]
            c_prev = c
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def without_bn(net: nn.Module) -> nn.Module:
    """Replace BatchNorm by identity, in place, and return ``net``: the one way BN is
    removed (``build(bn=False)``; the proxies' pass for a ``bn=False`` spec).

    Works on any module. On a foresight-variant :class:`NB201Network` the residual
    blocks keep their BN, as the reference's ``use_bn=False`` copy does; on the
    official variant every BN goes.
    """
    keep_blocks = isinstance(net, NB201Network) and net.variant == "foresight"

    def walk(module: nn.Module) -> None:
        for name, child in module.named_children():
            if keep_blocks and isinstance(child, ResidualBlock):
                continue
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, name, nn.Identity())
            else:
                walk(child)

    walk(net)
    if isinstance(net, NB201Network):
        net.bn = False
    return net


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
        bn: False removes BatchNorm with :func:`without_bn` (same weights otherwise).
        num_classes: overrides the dataset's class count.
        seed: run seed; None draws from the global RNG.

    Returns:
        A freshly initialised :class:`NB201Network` (PyTorch default init).
    """
    ncls = num_classes or NUM_CLASSES[canonical_dataset(dataset)]
    if seed is None:
        net = NB201Network(arch, ncls, C=C, N=N, variant=variant)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(space.arch_seed(seed, space.as_cell(arch)))
            net = NB201Network(arch, ncls, C=C, N=N, variant=variant)
    return net if bn else without_bn(net)


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
            net(
                torch.zeros(
                    1, 3, resolution, resolution, device=p.device, dtype=p.dtype
                )
            )
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
