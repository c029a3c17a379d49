"""K cells of the NB201 skeleton in one network, packed along the channel dimension.

    from zclib.packing import PackedNetwork
    nets = [build(a, "cifar10", seed=0) for a in archs]       # K networks
    packed = PackedNetwork(nets)          # one network holding copies of their weights
    logits = packed(packed.replicate(x))  # (batch, K, classes); [:, k] is nets[k](x)

Every tensor of the packed network holds the K networks side by side along the
channel dimension (cell k owns channels ``k*C .. (k+1)*C`` of a C-channel stage),
so per-channel operations act on each network separately and exactly as before:
ReLU, BatchNorm (batch statistics per channel), pooling, the additions of a node.
The layers that mix channels are made block-diagonal:

* a convolution shared by every network (stem, residual blocks) is one grouped
  convolution with one group per network;
* on each cell edge, the networks are grouped by the op they chose: each group of
  ``nor_conv_kxk`` networks is one grouped convolution over their channels
  (``index_select`` in, ``index_add_`` out), ``avg_pool_3x3`` and ``skip_connect``
  act on their channels, ``none`` adds nothing (``x * 0`` adds exact zeros and
  zero gradients; the one difference: the per-cell ``x * 0`` turns an infinite
  activation into NaN, the packed network does not compute it);
* the classifier is a batched matrix product (:class:`PackedLinear`).

Each network sees its own copy of the input (:meth:`PackedNetwork.replicate`), so a
derivative with respect to the input is per network too (jacob_cov). The networks'
outputs are independent: the gradient of the *sum* of their losses with respect to
network k's weights is the gradient of network k's loss, and the same holds for
the Hessian-gradient product (network k's loss does not depend on network j's
weights). A node's ReLU is computed once and read by every convolution leaving that
node (:class:`PackedReLU` records how many ReLUs each network had there, for NASWOT).

:attr:`PackedNetwork.layers` lists the packed Conv2d / Linear layers; each knows
which networks it holds (``cells``) and splits a weight-shaped or output-shaped
tensor into the per-network pieces (``split_weight``, ``split_output``);
:meth:`PackedNetwork.unpack` turns a list over packed layers into K lists over each
network's own :func:`~zclib.proxies.passes.prunable_layers`, in their order.
The packed network is built from networks already prepared by the proxies' pass (BN
removed, float64): it copies whatever modules they hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zclib import space
from zclib.kernels import AvgPool3x3, BatchNorm2d
from zclib.network import NB201Network, ReLUConvBN, ResidualBlock


class GroupConv(nn.Module):
    """``len(cells)`` convolutions side by side: one group per network (the weights
    are copied, nothing is drawn from the RNG)."""

    def __init__(self, convs: Sequence[nn.Conv2d], cells: Sequence[int]):
        super().__init__()
        c0 = convs[0]
        self.cells = tuple(cells)
        self.in_channels = len(convs) * c0.in_channels
        self.out_channels = len(convs) * c0.out_channels
        self.kernel_size, self.stride, self.padding = (
            c0.kernel_size,
            c0.stride,
            c0.padding,
        )
        self.weight = nn.Parameter(torch.cat([c.weight.detach() for c in convs]))
        self.bias = (
            None
            if c0.bias is None
            else nn.Parameter(torch.cat([c.bias.detach() for c in convs]))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, 1, len(self.cells)
        )

    def split_weight(self, t: torch.Tensor) -> list[torch.Tensor]:
        """A weight-shaped tensor as the per-network weight-shaped pieces."""
        return list(t.chunk(len(self.cells), 0))

    def split_output(self, t: torch.Tensor) -> list[torch.Tensor]:
        """An output-shaped tensor (batch, channels, H, W) as per-network pieces."""
        return list(t.chunk(len(self.cells), 1))


class PackedLinear(nn.Module):
    """``len(cells)`` Linear layers: input (batch, m, in) -> output (batch, m, out)."""

    def __init__(self, linears: Sequence[nn.Linear], cells: Sequence[int]):
        super().__init__()
        self.cells = tuple(cells)
        self.weight = nn.Parameter(
            torch.stack([lin.weight.detach() for lin in linears])
        )
        self.bias = nn.Parameter(torch.stack([lin.bias.detach() for lin in linears]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.baddbmm(
            self.bias.unsqueeze(1), x.transpose(0, 1), self.weight.transpose(1, 2)
        )
        return out.transpose(0, 1)

    def split_weight(self, t: torch.Tensor) -> list[torch.Tensor]:
        return list(t.unbind(0))

    def split_output(self, t: torch.Tensor) -> list[torch.Tensor]:
        return list(t.unbind(1))


class PackedReLU(nn.ReLU):
    """ReLU over all K networks' channels; ``uses[k]``: how many ReLUs network k
    applies to this tensor (the convolutions leaving a cell node each have one)."""

    def __init__(self, uses: Sequence[int]):
        super().__init__()
        self.uses = tuple(int(u) for u in uses)


def pack_bn(bns: Sequence[nn.Module], cells: Sequence[int]) -> nn.Module:
    """One BN over the networks' channels (per-channel statistics: each network is
    normalised by its own), or Identity where the networks have none."""
    b0 = bns[0]
    if not isinstance(b0, nn.modules.batchnorm._BatchNorm):
        return nn.Identity()
    w = b0.running_mean if b0.weight is None else b0.weight
    out = BatchNorm2d(
        sum(b.num_features for b in bns),
        eps=b0.eps,
        momentum=b0.momentum,
        affine=b0.affine,
        track_running_stats=b0.track_running_stats,
        dtype=w.dtype if w is not None else None,
        device=w.device if w is not None else None,
    )
    out.cells = tuple(cells)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            if getattr(out, name) is not None:
                getattr(out, name).copy_(torch.cat([getattr(b, name) for b in bns]))
    return out


def _channels(cells: Sequence[int], c: int, device) -> torch.Tensor:
    return torch.cat([torch.arange(k * c, (k + 1) * c) for k in cells]).to(device)


class _ConvBN(nn.Module):
    """Conv -> BN of one op on a group of networks (the ReLU is the node's)."""

    def __init__(self, ops: Sequence[ReLUConvBN], cells: Sequence[int]):
        super().__init__()
        self.conv = GroupConv([o[1] for o in ops], cells)
        self.bn = pack_bn([o[2] for o in ops], cells)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class PackedCell(nn.Module):
    """One cell position of K networks (each with its own cell)."""

    def __init__(self, cells: Sequence[nn.Module], c: int, device: torch.device):
        super().__init__()
        K = len(cells)
        self.K, self.c = K, c
        self.groups: list[list[tuple[str, torch.Tensor | None, int]]] = []
        self.reads: list[list] = [[] for _ in range(3)]  # per source node
        self.convs = nn.ModuleList()
        uses = [[0] * K for _ in range(3)]  # ReLUs per source node and network
        for e, (j, _i) in enumerate(space.EDGES):
            by_op: dict[str, list[int]] = {}
            for k, cell in enumerate(cells):
                by_op.setdefault(_kind(cell.ops[e]), []).append(k)
            edge = []
            for kind in (
                "nor_conv_3x3",
                "nor_conv_1x1",
                "avg_pool_3x3",
                "skip_connect",
            ):
                group = by_op.get(kind)
                if not group:
                    continue
                idx = None if len(group) == K else _channels(group, c, device)
                slot = -1
                if kind.startswith("nor_conv"):
                    self.convs.append(_ConvBN([cells[k].ops[e] for k in group], group))
                    slot = len(self.convs) - 1
                    for k in group:
                        uses[j][k] += 1
                if idx is not None:  # gathered once per source node (forward)
                    self.reads[j].append(((e, len(edge)), kind.startswith("nor"), idx))
                edge.append((kind, idx, slot))
            self.groups.append(edge)
        self.relus = nn.ModuleList(PackedReLU(u) for u in uses)
        self.has_conv = [any(u) for u in uses]
        self.pool = AvgPool3x3()

    def _gather(self, j: int, node: torch.Tensor, relu: list, parts: dict) -> None:
        """Node j's ReLU (if a convolution reads it) and, in one :class:`_Gather`
        per tensor, every channel subset the later edges read from it."""
        if self.has_conv[j]:
            relu[j] = self.relus[j](node)
        for use_relu, src in ((True, relu[j]), (False, node)):
            reads = [(key, idx) for key, r, idx in self.reads[j] if r == use_relu]
            if reads:
                got = _Gather.apply(src, *(idx for _, idx in reads))
                parts.update(zip((key for key, _ in reads), got, strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes, relu, parts = [x], [None] * 3, {}
        self._gather(0, x, relu, parts)
        e = 0
        for i in range(1, 4):
            out, owned = None, False  # owned: ``out`` may be added to in place
            for j in range(i):
                for g, (kind, idx, slot) in enumerate(self.groups[e]):
                    if idx is not None:
                        src = parts.pop((e, g))
                    else:
                        src = relu[j] if kind.startswith("nor_conv") else nodes[j]
                    if kind == "avg_pool_3x3":
                        y = self.pool(src)
                    elif kind == "skip_connect":
                        y = src
                    else:
                        y = self.convs[slot](src)
                    if out is None and idx is None:
                        out, owned = y, kind != "skip_connect"
                    elif out is None:
                        out, owned = x.new_zeros(x.shape).index_add_(1, idx, y), True
                    elif not owned:
                        out, owned = _add(out, idx, y), True
                    elif idx is None:
                        out.add_(y)
                    else:
                        out.index_add_(1, idx, y)
                e += 1
            nodes.append(x.new_zeros(x.shape) if out is None else out)
            if i < 3:
                self._gather(i, nodes[i], relu, parts)
        return nodes[3]


def _add(out: torch.Tensor, idx: torch.Tensor | None, y: torch.Tensor) -> torch.Tensor:
    return out + y if idx is None else out.index_add(1, idx, y)


class _Gather(torch.autograd.Function):
    """``x.index_select(1, idx)`` for several ``idx`` at once. Its gradient is one
    :class:`_ScatterAdd`: one zero-filled node-sized tensor per gather, where
    separate ``index_select`` s would fill one each (the fills were the largest
    cost of a packed pass on CPU). Differentiable twice (GraSP): the pair is each
    other's adjoint."""

    @staticmethod
    def forward(ctx, x, *idxs):
        ctx.idxs, ctx.shape = idxs, x.shape
        ctx.set_materialize_grads(False)
        return tuple(x.index_select(1, i) for i in idxs)

    @staticmethod
    def backward(ctx, *grads):
        return (_ScatterAdd.apply(ctx.shape, ctx.idxs, *grads), *([None] * len(grads)))


class _ScatterAdd(torch.autograd.Function):
    """The adjoint of :class:`_Gather`: zeros of ``shape`` with each part added at
    its channels (None parts add nothing)."""

    @staticmethod
    def forward(ctx, shape, idxs, *parts):
        ctx.idxs = idxs
        ctx.set_materialize_grads(False)
        p0 = next(p for p in parts if p is not None)
        out = p0.new_zeros(shape)
        for i, p in zip(idxs, parts, strict=True):
            if p is not None:
                out.index_add_(1, i, p)
        return out

    @staticmethod
    def backward(ctx, g):
        if g is None:
            return (None, None, *([None] * len(ctx.idxs)))
        return (None, None, *_Gather.apply(g, *ctx.idxs))


def _kind(op: nn.Module) -> str:
    if isinstance(op, ReLUConvBN):
        k = op[1].kernel_size[0]
        return f"nor_conv_{k}x{k}"
    if isinstance(op, AvgPool3x3):
        return "avg_pool_3x3"
    if isinstance(op, nn.Identity):
        return "skip_connect"
    return "none"


class PackedResidual(nn.Module):
    """The stride-2 residual block of K networks."""

    def __init__(self, blocks: Sequence[ResidualBlock], cells: Sequence[int]):
        super().__init__()
        K = len(blocks)
        self.relu_a, self.relu_b = PackedReLU([1] * K), PackedReLU([1] * K)
        self.conv_a = _ConvBN([b.conv_a for b in blocks], cells)
        self.conv_b = _ConvBN([b.conv_b for b in blocks], cells)
        self.down_pool = nn.AvgPool2d(kernel_size=2, stride=2, padding=0)
        self.down_conv = GroupConv([b.downsample[1] for b in blocks], cells)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.conv_b(self.relu_b(self.conv_a(self.relu_a(x))))
        return self.down_conv(self.down_pool(x)) + b


class PackedNetwork(nn.Module):
    """K :class:`~zclib.network.NB201Network` s (same dataset, variant, width,
    depth, preparation) as one network; see the module docstring.

    Args:
        nets: the networks; their weights are copied (they are not modified).
    """

    def __init__(self, nets: Sequence[NB201Network]):
        super().__init__()
        if not nets:
            raise ValueError("PackedNetwork needs at least one network")
        n0 = nets[0]
        for n in nets:
            if (n.num_classes, n.C, n.N, n.variant) != (
                n0.num_classes,
                n0.C,
                n0.N,
                n0.variant,
            ):
                raise ValueError("packed networks must share classes, C, N, variant")
        K = self.K = len(nets)
        cells = list(range(K))
        self.arch_strs = [n.arch_str for n in nets]
        device = n0.classifier.weight.device
        self.stem_conv = GroupConv([n.stem[0] for n in nets], cells)
        self.stem_bn = pack_bn([n.stem[1] for n in nets], cells)
        layers = []
        for pos, m in enumerate(n0.cells):
            mods = [n.cells[pos] for n in nets]
            if isinstance(m, ResidualBlock):
                layers.append(PackedResidual(mods, cells))
            else:
                layers.append(PackedCell(mods, _width(n0, pos), device))
        self.cells = nn.Sequential(*layers)
        self.last_bn = pack_bn([n.lastact[0] for n in nets], cells)
        self.last_relu = PackedReLU([1] * K)
        self.classifier = PackedLinear([n.classifier for n in nets], cells)
        self.layers = [
            m for m in self.modules() if isinstance(m, GroupConv | PackedLinear)
        ]

    def replicate(self, x: torch.Tensor) -> torch.Tensor:
        """The input as K copies side by side: (batch, 3, H, W) -> (batch, 3K, H, W)."""
        return x.repeat(1, self.K, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem_bn(self.stem_conv(x)))
        x = self.last_relu(self.last_bn(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x.view(x.shape[0], self.K, -1))

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The sum over networks of each one's mean cross-entropy."""
        B, K, _ = logits.shape
        total = F.cross_entropy(
            logits.transpose(1, 2), y[:, None].expand(B, K), reduction="sum"
        )
        return total / B

    def unpack(self, per_layer: Sequence, split: str = "weight") -> list[list]:
        """A list over :attr:`layers` -> K lists over each network's own layers.

        Args:
            per_layer: one tensor per packed layer (weight-shaped or output-shaped).
            split: ``"weight"`` or ``"output"``.
        """
        out: list[list] = [[] for _ in range(self.K)]
        for layer, t in zip(self.layers, per_layer, strict=True):
            parts = getattr(layer, f"split_{split}")(t)
            for k, part in zip(layer.cells, parts, strict=True):
                out[k].append(part)
        return out

    def cost(self, resolution: int) -> list[dict[str, float]]:
        """Parameters and FLOPs of each packed network, in millions, counted on the
        packed layers in the benchmark's convention (see
        :func:`zclib.network.count_flops`): equal to :func:`zclib.network.cost`."""
        params = [0] * self.K
        flops = [0.0] * self.K
        for p_mod in self.modules():
            for p in p_mod.parameters(recurse=False):
                owners = _owners(p_mod)
                for k in owners:
                    params[k] += p.numel() // len(owners)
        shapes = {}

        def hook(m, _inp, out):
            shapes[m] = out.shape

        hs = [m.register_forward_hook(hook) for m in self.layers]
        try:
            p0 = self.classifier.weight
            with torch.no_grad():
                self(
                    self.replicate(
                        torch.zeros(
                            1,
                            3,
                            resolution,
                            resolution,
                            dtype=p0.dtype,
                            device=p0.device,
                        )
                    )
                )
        finally:
            for h in hs:
                h.remove()
        for m in self.layers:
            if isinstance(m, GroupConv):
                g = len(m.cells)
                pos = shapes[m][2] * shapes[m][3]
                kh, kw = m.kernel_size
                per = kh * kw * (m.in_channels // g) * (m.out_channels // g) * pos
                if m.bias is not None:
                    per += m.out_channels // g * pos
            else:
                _m, out_f, in_f = m.weight.shape
                per = in_f * out_f + out_f
            for k in m.cells:
                flops[k] += per
        return [
            {"params_M": params[k] / 1e6, "flops_M": flops[k] / 1e6}
            for k in range(self.K)
        ]


def _owners(module: nn.Module) -> tuple[int, ...]:
    """The networks a packed module's parameters belong to (equal shares)."""
    if hasattr(module, "cells"):
        return module.cells
    raise TypeError(f"cannot attribute parameters of {type(module).__name__}")


def _width(net: NB201Network, pos: int) -> int:
    stage = sum(isinstance(m, ResidualBlock) for m in list(net.cells)[:pos])
    return net.C * 2**stage
