"""CPU autograd kernels for two NB201 ops: bit-identical to PyTorch's, only faster.

    from zclib.kernels import AvgPool3x3, BatchNorm2d
    bn = BatchNorm2d(16)          # a drop-in nn.BatchNorm2d
    pool = AvgPool3x3()           # AvgPool2d(3, 1, 1, count_include_pad=False)

Why they exist: the proxies (GraSP above all) take first *and second* derivatives
through every op of the network, on the CPU, for 15,625 cells. Two PyTorch CPU paths
dominated that time: the generic double backward of training-mode BatchNorm (~30% of
the whole proxy pass) and the NCHW average-pooling kernel (slower than a 3x3
convolution). Both are replaced here by paths that give the same numbers:

* :class:`BatchNorm2d` runs PyTorch's own forward and first backward kernels
  (``native_batch_norm`` / ``native_batch_norm_backward``: bit-identical output,
  gradients and running statistics) and a closed-form second derivative (equal to
  PyTorch's ``batchnorm_double_backward`` up to rounding, 1e-13 relative in float64).
* :class:`AvgPool3x3` computes in channels-last layout (bit-identical forward,
  gradient and second derivative, ~4x faster).

Both fall back to the standard modules off the CPU, in eval mode or without grad.
Tested in ``tests/test_kernels.py`` against the stock modules and ``gradgradcheck``.
"""

from __future__ import annotations

import torch
from torch import nn


def _per_channel(t: torch.Tensor) -> torch.Tensor:
    return t.view(1, -1, 1, 1)


_NHW = (0, 2, 3)  # the dims a BN statistic reduces over


class _BNTrain(torch.autograd.Function):
    """Training-mode batch norm: PyTorch's own forward and backward kernels
    (``native_batch_norm`` / ``native_batch_norm_backward``: identical numbers), with
    the backward itself a :class:`_BNBackward` so that a second derivative takes the
    closed form below instead of PyTorch's generic double backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        y, mean, invstd = torch.ops.aten.native_batch_norm(
            x, weight, bias, running_mean, running_var, True, momentum, eps
        )
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
            gy, x, weight, None, None, mean, invstd, True, eps, [True, affine, affine]
        )
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
            d_gy = torch.addcmul(
                _per_channel(ubeta - gs * c), xh, _per_channel(ugamma - gs * d)
            )
            if u is not None:
                d_gy.addcmul_(u, _per_channel(gs))
        if need_x:
            gs2 = g * s * s
            d_x = torch.addcmul(
                _per_channel(gs2 * (d * a + b * c) - ugamma * s * a),
                xh,
                _per_channel(-gs2 * (e - a * c - 3 * b * d) - ugamma * s * b),
            )
            d_x.addcmul_(gy, _per_channel(ugamma * s - gs2 * d))
            if u is not None:
                d_x.addcmul_(u, _per_channel(-gs2 * b))
        if need_w and weight is not None:
            d_w = m * s * (e - a * c - b * d)
        return d_gy, d_x, d_w, None, None, None


def batch_norm_train(x, weight, bias, running_mean, running_var, momentum, eps):
    """Training-mode ``F.batch_norm`` through :class:`_BNTrain` (same numbers, the
    fast closed-form second derivative); ``weight``/``bias`` may be None."""
    return _BNTrain.apply(x, weight, bias, running_mean, running_var, momentum, eps)


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training-mode CPU autograd path is :class:`_BNTrain`:
    the same forward, running-stat update and gradient (bit-identical, tested) and a
    closed-form, ~2.5x cheaper second derivative. Elsewhere (eval mode, no grad,
    GPUs) the standard module runs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (
            self.training
            and x.device.type == "cpu"
            and torch.is_grad_enabled()
            and self.momentum is not None
        ):
            return super().forward(x)
        self._check_input_dim(x)
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        return batch_norm_train(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            self.momentum,
            self.eps,
        )


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
