"""Floating-point operations a scoring executes, and the machine's matmul peak.

    from zclib.speed.flops import count_flops, matmul_peak
    flops, _ = count_flops(lambda: scorer.score(arch))  # {"total": ..., "by_op": ...}
    matmul_peak(2048, repeats=5)["flop_per_s"]          # best of 5, fp32, same threads

:class:`FlopCount` counts what PyTorch executes, forward, backward and double
backward alike (the backward ops dispatch through the mode too), with the formulas
of :mod:`torch.utils.flop_counter` (the ones ``FlopCounterMode`` uses): convolutions,
matrix products (``mm``, ``addmm``, ``bmm``, ``baddbmm``, ...) and attention, at 2
FLOPs per multiply-add. Element-wise work (batch norm, ReLU, pooling, additions) and
NumPy (jacob_cov's correlation) are not counted: achieved FLOP/s below are those of
the matrix work alone, which is what the matmul peak measures.

Deviations from ``FlopCounterMode``, on purpose:

* ``FlopCounterMode`` also tracks modules, through hooks on every module's backward;
  those make ``torch.autograd.grad`` with respect to an input leaf fail ("A leaf
  node was passed to _will_engine_execute_node ...": jacob_cov's input Jacobian).
  :class:`FlopCount` is the same dispatch-mode counting without the module tracker.
* ``torch.utils.flop_counter`` counts the weight gradient of a grouped convolution
  ``groups`` times over (it ignores the groups there; torch 2.13), which would
  inflate the packed network's grouped convolutions. Here a convolution backward
  counts, per gradient it computes (input, weight), the multiply-adds of the
  forward convolution: ``2 * numel(out) * numel(weight[0])`` (transposed:
  ``numel(in)`` in place of ``numel(out)``), exact for any groups, strides, padding.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

_CONV_BACKWARD = torch.ops.aten.convolution_backward.default._overloadpacket


def conv_backward_flops(
    grad_out,
    x,
    weight,
    bias_sizes,
    stride,
    padding,
    dilation,
    transposed,
    output_padding,
    groups,
    output_mask,
    out_val=None,
) -> int:
    """FLOPs of ``aten.convolution_backward`` (its arguments): the forward's
    multiply-adds once per gradient it computes (``output_mask``: input, weight;
    the bias gradient is not counted).

    Returns:
        FLOPs, 2 per multiply-add.
    """
    # each output element of a convolution (each input element of a transposed one)
    # takes weight[0].numel() multiply-adds, whatever the groups, strides, padding
    points = (x if transposed else grad_out).numel()
    fwd = 2 * points * math.prod(weight.shape[1:])
    return fwd * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


class FlopCount(TorchDispatchMode):
    """Counts FLOPs of the ops run inside ``with FlopCount() as fc:`` (see module
    doc); ``fc.by_op`` maps op name to FLOPs, ``fc.total`` sums them."""

    def __init__(self):
        super().__init__()
        self.by_op: collections.Counter[str] = collections.Counter()

    @property
    def total(self) -> int:
        """All counted FLOPs."""
        return int(sum(self.by_op.values()))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        rule = (
            conv_backward_flops
            if packet is _CONV_BACKWARD
            else flop_registry.get(packet)
        )
        if rule is not None:
            self.by_op[str(packet)] += int(rule(*args, **kwargs, out_val=out))
        return out


def count_flops(work: Callable[[], object]) -> tuple[dict, object]:
    """FLOPs of one call of ``work``.

    Args:
        work: a callable (e.g. ``lambda: scorer.score(arch)``).

    Returns:
        ``({"total": FLOPs, "by_op": {op: FLOPs}}, what work returned)``.
    """
    with FlopCount() as fc:
        result = work()
    return {"total": fc.total, "by_op": dict(sorted(fc.by_op.items()))}, result


def matmul_peak(n: int = 2048, repeats: int = 5, device: str = "cpu") -> dict:
    """The best fp32 FLOP/s of an ``n x n`` by ``n x n`` matrix product here, with
    the current torch threads (and, on a GPU, the current TF32 setting, which
    :class:`zclib.scoring.Scorer` turns off).

    Args:
        n: matrix size (2 n^3 FLOPs per product).
        repeats: timed products (after one untimed); the fastest counts.
        device: ``"cpu"`` or ``"cuda"``.

    Returns:
        ``{"n", "repeats", "dtype", "threads", "tf32", "seconds" (each product),
        "flop_per_s" (2 n^3 / fastest)}``.
    """
    if n < 1 or repeats < 1:
        raise ValueError(f"need n >= 1 and repeats >= 1, got n={n}, repeats={repeats}")
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device)
    b = torch.randn(n, n, generator=gen).to(device)
    c = torch.empty(n, n, device=device)
    cuda = device.startswith("cuda")
    seconds = []
    for i in range(repeats + 1):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        if cuda:
            torch.cuda.synchronize()
        if i:  # the first product is a warm-up
            seconds.append(time.perf_counter() - t0)
    return {
        "n": n,
        "repeats": repeats,
        "dtype": "float32",
        "threads": torch.get_num_threads(),
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32) if cuda else False,
        "seconds": [round(s, 9) for s in seconds],
        "flop_per_s": 2 * n**3 / min(seconds),
    }
