"""The reference implementation (SamsungLabs/zero-cost-nas) as an oracle for zclib.

    from zclib import data, oracle
    b = data.get_batch("cifar10", 64, 0)
    ours, ref = oracle.side_by_side(arch, "cifar10", b.x, b.y)  # same weights, batch
    oracle.mismatches(ours, ref)          # [] when zclib agrees with the reference
    oracle.time_reference(archs, "cifar10", b.x, b.y)  # [Timing], seconds per arch

The reference code (``foresight`` at commit a43bfbc) is vendored read-only beside
the checkout, ``../shared/reference/foresight-a43bfbc`` (``$ZCLIB_FORESIGHT``
overrides it); it is imported from there at run time, never copied. This module:

* builds the reference's own NB201 network (:func:`build_reference`,
  ``nasbench2.get_model_from_arch_str``);
* copies the weights between it and zclib's ``build(arch, variant="foresight")``
  module by module (:func:`copy_weights`). The reference also instantiates the four
  unused ops of every edge; they are never run, so they get no gradient and add zero
  to every measure (:func:`reference_scores` asserts it on every call);
* scores one batch with the reference's ``predictive.find_measures``
  (:func:`reference_scores`), beside zclib's proxies on identical weights
  (:func:`side_by_side`), lists where they disagree (:func:`mismatches`), and times
  the reference as a new user runs it (:func:`time_reference`).

zclib and the reference differ by float32 rounding only (:data:`TOLERANCES`; what
differs in how they compute, and how much, is in ``docs/proxies.md``, "The
reference as an oracle"). Tested in ``tests/test_oracle.py``.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch import nn

from zclib import proxies as zproxies
from zclib import space
from zclib.names import NUM_CLASSES, canonical_dataset
from zclib.network import Cell, NB201Network, ResidualBlock, build
from zclib.reference import DEFAULT_DIR as _REFERENCE_DIR
from zclib.timing import Timing, time_scorers

ENV_VAR = "ZCLIB_FORESIGHT"  # a folder holding the reference's foresight/ package
DEFAULT_DIR = _REFERENCE_DIR / "foresight-a43bfbc"
# The reference's op order on every edge (foresight/models/nasbench2_ops.py OPS):
# a cell's options[5 * edge + REF_OPS.index(op)] is the op the arch string names.
REF_OPS = ("none", "avg_pool_3x3", "nor_conv_3x3", "nor_conv_1x1", "skip_connect")
STATEFUL = (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm)


class ReferenceNotFoundError(FileNotFoundError):
    """The vendored reference code is not where it was looked for."""


def reference_dir() -> Path:
    """The folder holding the reference's ``foresight`` package.

    Returns:
        ``$ZCLIB_FORESIGHT`` if set, else :data:`DEFAULT_DIR`.

    Raises:
        ReferenceNotFoundError: no ``foresight/`` package there (one line).
    """
    env = os.environ.get(ENV_VAR)
    folder = Path(env).expanduser() if env else DEFAULT_DIR
    if not (folder / "foresight" / "__init__.py").is_file():
        raise ReferenceNotFoundError(
            f"reference code not found: no foresight/ package in {folder}; set "
            f"${ENV_VAR} to the zero-cost-nas checkout (normally "
            "../shared/reference/foresight-a43bfbc)"
        )
    return folder


def _foresight():
    """``(nasbench2, predictive)`` of the reference (from :func:`reference_dir`)."""
    folder = str(reference_dir())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from foresight.models import nasbench2
    from foresight.pruners import predictive

    return nasbench2, predictive


@contextlib.contextmanager
def _quiet_hooks() -> Iterator[None]:
    """Silence, here only, the FutureWarning of the reference's non-full backward
    hook (fisher's ``register_backward_hook``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*non-full backward hook.*", category=FutureWarning
        )
        yield


def build_reference(arch: str | Sequence[int], dataset: str = "cifar10") -> nn.Module:
    """The reference's network for a cell (``get_model_from_arch_str``, with BN).

    Args:
        arch: arch string or 6-tuple cell.
        dataset: sets the number of classes.

    Returns:
        A ``NAS201Model`` freshly initialised from the global RNG (its default init).
    """
    nasbench2, _ = _foresight()
    arch_str = space.format_arch(space.as_cell(arch))
    return nasbench2.get_model_from_arch_str(
        arch_str, NUM_CLASSES[canonical_dataset(dataset)]
    )


def _cell_pairs(tag: str, ref_cell: nn.Module, cell: Cell, ops: Sequence[int]):
    for e, op in enumerate(ops):
        name = space.OPS[op]
        k = 5 * e + REF_OPS.index(name)
        if not ref_cell.keep_mask[k]:
            raise ValueError(f"{tag}: the reference does not run {name} on edge {e}")
        if name.startswith("nor_conv"):
            ref_op, ours = ref_cell.options[k].op, cell.ops[e]
            yield f"{tag}.options.{k}.op.1", ref_op[1], ours[1]
            yield f"{tag}.options.{k}.op.2", ref_op[2], ours[2]


def _block_pairs(tag: str, ref_block: nn.Module, block: ResidualBlock):
    for part in ("conv_a", "conv_b"):
        ref_part, ours = getattr(ref_block, part).op, getattr(block, part)
        yield f"{tag}.{part}.op.1", ref_part[1], ours[1]
        yield f"{tag}.{part}.op.2", ref_part[2], ours[2]
    yield f"{tag}.residual.1", ref_block.residual[1], block.downsample[1]


def module_pairs(
    ref: nn.Module, net: NB201Network
) -> list[tuple[str, nn.Module, nn.Module]]:
    """The reference module behind each zclib module that holds weights or buffers.

    Args:
        ref: a reference ``NAS201Model`` (with BN).
        net: a zclib foresight-variant network with BN, same cell, C=16, N=5.

    Returns:
        ``[(reference module name, reference module, zclib module), ...]``, one per
        Conv2d, Linear and BatchNorm of ``net`` (every one of them, checked).

    Raises:
        ValueError: the two networks do not have the same structure.
    """
    if not (net.variant == "foresight" and net.bn and net.C == 16 and net.N == 5):
        raise ValueError(
            "module_pairs needs build(arch, variant='foresight') with BN, C=16, N=5"
        )
    if space.format_arch(net.cell) != ref.arch_str:
        raise ValueError(f"cells differ: {net.arch_str} vs {ref.arch_str}")
    pairs = [
        ("stem.net.0", ref.stem.net[0], net.stem[0]),
        ("stem.net.1", ref.stem.net[1], net.stem[1]),
    ]
    ours = iter(net.cells)
    for stage in (1, 2, 3):
        if stage > 1:
            tag = f"reduction{stage - 1}"
            pairs += _block_pairs(tag, getattr(ref, tag), next(ours))
        for i, ref_cell in enumerate(getattr(ref, f"stack_cell{stage}")):
            pairs += _cell_pairs(
                f"stack_cell{stage}.{i}", ref_cell, next(ours), net.cell
            )
    pairs += [
        ("top.lastact.0", ref.top.lastact[0], net.lastact[0]),
        ("top.classifier", ref.top.classifier, net.classifier),
    ]
    covered = {id(m) for _, _, m in pairs}
    missing = [
        n
        for n, m in net.named_modules()
        if isinstance(m, STATEFUL) and id(m) not in covered
    ]
    if missing:
        raise ValueError(f"zclib modules without a reference counterpart: {missing}")
    return pairs


def unused_modules(ref: nn.Module) -> list[str]:
    """Names of the reference's Conv2d/Linear layers in ops the cell does not use.

    Args:
        ref: a reference ``NAS201Model``.

    Returns:
        Module names as ``ref.named_modules()`` gives them, in that order.
    """
    unused = set()
    for cell in ref.modules():
        if hasattr(cell, "keep_mask"):  # a SearchCell: 5 ops per edge
            for op, kept in zip(cell.options, cell.keep_mask, strict=True):
                if not kept:
                    unused.update(id(m) for m in op.modules())
    return [
        n
        for n, m in ref.named_modules()
        if isinstance(m, nn.Conv2d | nn.Linear) and id(m) in unused
    ]


@torch.no_grad()
def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copy every weight and buffer between a reference and a zclib network.

    Either direction: ``src`` is the reference ``NAS201Model`` and ``dst`` a zclib
    foresight-variant :class:`~zclib.network.NB201Network`, or the other way round.
    The reference's unused ops keep their own weights (zclib does not build them).

    Args:
        src: the network copied from.
        dst: the network copied into (modified in place).
    """
    to_ref = isinstance(src, NB201Network)
    ref, net = (dst, src) if to_ref else (src, dst)
    for _, r, z in module_pairs(ref, net):
        a, b = (z, r) if to_ref else (r, z)
        b.load_state_dict(a.state_dict())


def build_pair(
    arch: str | Sequence[int], dataset: str = "cifar10", seed: int = 0
) -> tuple[NB201Network, nn.Module]:
    """zclib's seeded foresight-variant network and the reference's, same weights.

    Args:
        arch: arch string or 6-tuple cell.
        dataset: sets the number of classes.
        seed: zclib's run seed (``build(..., seed=seed)``); the reference's unused ops
            are drawn from ``torch.manual_seed(seed)`` in a forked RNG.

    Returns:
        ``(net, ref)``.
    """
    net = build(arch, dataset, variant="foresight", seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ref = build_reference(arch, dataset)
    copy_weights(net, ref)
    return net, ref


class _OneBatch:
    """A loader that yields exactly one ``(x, y)`` batch, every time it is iterated."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.batch = (x, y)

    def __iter__(self):
        yield self.batch


def _find_measure_arrays(ref, x, y, measures, num_classes):
    _, predictive = _foresight()
    with _quiet_hooks():
        return predictive.find_measures_arrays(
            ref,
            _OneBatch(x, y),
            ("random", 1, num_classes),
            x.device,
            measure_names=list(measures),
        )


def reference_scores(
    arch: str | Sequence[int],
    dataset: str,
    x: torch.Tensor,
    y: torch.Tensor,
    measures: Sequence[str] = zproxies.ABDELFATTAH,
    *,
    ref: nn.Module | None = None,
) -> dict[str, float]:
    """The reference's ``find_measures`` on exactly the batch ``(x, y)``.

    Runs ``find_measures_arrays`` (dataload ``'random'``, 1 batch, from a loader that
    yields ``(x, y)``), asserts that every unused op of the reference network scored
    exactly zero, and sums the per-layer arrays with ``find_measures`` itself (a
    float32 torch sum per layer, accumulated in float32: the reference's reducer).

    Args:
        arch: arch string or 6-tuple cell.
        dataset: sets the number of classes.
        x, y: the batch, on the device to run on.
        measures: reference measure names (they equal zclib's proxy names).
        ref: the reference network to score (e.g. from :func:`build_pair`);
            None builds one with the reference's own initialisation.

    Returns:
        ``{measure: float}``; a complex jacob_cov (``np.linalg.eig`` can return
        complex eigenvalues) gives its real part, a non-finite one NaN.
    """
    _, predictive = _foresight()
    if ref is None:
        ref = build_reference(arch, dataset)
    elif ref.arch_str != space.format_arch(space.as_cell(arch)):
        raise ValueError(f"ref holds {ref.arch_str}, not {arch}")
    ncls = NUM_CLASSES[canonical_dataset(dataset)]
    arrays = _find_measure_arrays(ref, x, y, measures, ncls)
    _check_unused_zero(ref, arrays)
    summed = predictive.find_measures(ref, None, None, x.device, measures_arr=arrays)
    return _as_floats(summed)


def _check_unused_zero(ref: nn.Module, arrays: dict) -> None:
    """Assert that the layers of unused ops contributed nothing to any measure."""
    layers = [n for n, m in ref.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    unused = set(unused_modules(ref))
    for measure, arr in arrays.items():
        if not isinstance(arr, list):  # jacob_cov: a scalar of the whole network
            continue
        for name, values in zip(layers, arr, strict=True):
            if name in unused and torch.count_nonzero(values):
                raise AssertionError(f"{measure}: unused reference layer {name} != 0")


def _as_floats(summed: dict) -> dict[str, float]:
    """find_measures' values as floats: the real part of a complex jacob_cov
    (``np.linalg.eig`` may return complex eigenvalues), NaN for non-finite."""
    out = {}
    for k, v in summed.items():
        v = complex(v).real
        out[k] = v if math.isfinite(v) else math.nan
    return out


# -- zclib beside the reference ---------------------------------------------------
# Largest |ours - reference| / max(|ours|, |reference|) allowed, per measure, on
# the foresight network with identical weights and batch. The differences are
# float32 rounding (docs/proxies.md, "The reference as an oracle"). Measured on one
# core, 30 cell-runs: 12 CIFAR-10 cells at 8 images (the 4 of tests/test_oracle.py,
# 8 of space.sample(8, 1)) and 18 at 64 images (those 4, 4 sampled; CIFAR-100 and
# ImageNet16-120: 1 + 4 each). Observed maxima: grad_norm 5.2e-7, snip 3.0e-7,
# grasp 1.1e-4 (conv-heavy cell, 64 images: its terms cancel; zclib's own float32
# and float64 grasp differ by 1.0e-2 there), fisher 3.0e-7, synflow 3.1e-16 (float64
# on both sides), jacob_cov 7.4e-9 (the Jacobians' float32 rounding; eig and eigvalsh
# agree on the same matrix). Each tolerance is 19-40x the observed maximum.
TOLERANCES = {
    "grad_norm": 1e-5,
    "snip": 1e-5,
    "grasp": 3e-3,
    "fisher": 1e-5,
    "synflow": 1e-14,
    "jacob_cov": 3e-7,
}


def side_by_side(
    arch: str | Sequence[int],
    dataset: str,
    x: torch.Tensor,
    y: torch.Tensor,
    measures: Sequence[str] = zproxies.ABDELFATTAH,
    *,
    seed: int = 0,
    mode: str = "fused",
) -> tuple[dict[str, float], dict[str, float]]:
    """zclib's proxies and the reference's measures on the same weights and batch.

    Args:
        arch: arch string or 6-tuple cell.
        dataset: sets the number of classes.
        x, y: the batch (CPU or GPU).
        measures: names, each both a zclib proxy and a reference measure.
        seed: zclib's weight seed (see :func:`build_pair`).
        mode: zclib's ``proxies.compute`` mode (``"fused"`` or ``"naive"``).

    Returns:
        ``(ours, reference)``, each ``{measure: float}``.
    """
    net, ref = build_pair(arch, dataset, seed)  # find_measures moves ref itself
    net = net.to(x.device)
    ours = zproxies.compute(net, list(measures), [(x, y)], mode=mode)
    return ours, reference_scores(arch, dataset, x, y, measures, ref=ref)


def relative_difference(a: float, b: float) -> float:
    """``|a - b| / max(|a|, |b|)``; 0 when equal (both zero, or both NaN), inf when
    only one is NaN."""
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def mismatches(
    ours: dict[str, float],
    reference: dict[str, float],
    tolerances: dict[str, float] | None = None,
) -> list[str]:
    """The measures where zclib and the reference disagree beyond the tolerance.

    Args:
        ours, reference: ``{measure: value}`` (e.g. from :func:`side_by_side`).
        tolerances: ``{measure: largest relative difference}``; default
            :data:`TOLERANCES`.

    Returns:
        One line per disagreeing measure (both values and the relative difference);
        empty when every measure agrees.
    """
    tol = TOLERANCES if tolerances is None else tolerances
    out = []
    for name, ref in reference.items():
        rel = relative_difference(ours[name], ref)
        if not rel <= tol[name]:
            out.append(
                f"{name}: zclib {ours[name]:.10g} vs reference {ref:.10g} "
                f"(relative difference {rel:.3g} > {tol[name]:g})"
            )
    return out


# -- the reference as a new user runs it (for the speed benchmark) -----------------
class ReferenceScorer:
    """Scores one architecture as a new user runs the reference: build its network,
    then ``find_measures`` on the given batch. A scorer for
    :func:`zclib.timing.time_scorers` (``score(arch) -> dict``).

    Args:
        dataset: sets the number of classes.
        x, y: the batch every architecture is scored on (its device is used).
        measures: reference measure names.
        seed: each network is drawn from ``torch.manual_seed(seed)`` in a forked RNG
            (reproducible scores; the global RNG is left as it was); None draws
            from the global RNG.
    """

    def __init__(
        self,
        dataset: str,
        x: torch.Tensor,
        y: torch.Tensor,
        measures: Sequence[str] = zproxies.ABDELFATTAH,
        seed: int | None = 0,
    ):
        _foresight()  # fail now, with one line, if the reference is absent
        self.dataset = canonical_dataset(dataset)
        self.loader = _OneBatch(x, y)
        self.device, self.measures, self.seed = x.device, list(measures), seed

    def score(self, arch: str | Sequence[int]) -> dict:
        """``{"arch_str": ..., measure: value, ...}``, CUDA synchronised."""
        _, predictive = _foresight()
        ncls = NUM_CLASSES[self.dataset]
        with contextlib.ExitStack() as stack:
            if self.seed is not None:
                stack.enter_context(torch.random.fork_rng(devices=[]))
                torch.manual_seed(self.seed)
            ref = build_reference(arch, self.dataset)
            with _quiet_hooks():
                summed = predictive.find_measures(
                    ref,
                    self.loader,
                    ("random", 1, ncls),
                    self.device,
                    measure_names=self.measures,
                )
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return {"arch_str": ref.arch_str, **_as_floats(summed)}


def time_reference(
    archs: Sequence[str],
    dataset: str,
    x: torch.Tensor,
    y: torch.Tensor,
    measures: Sequence[str] = zproxies.ABDELFATTAH,
    warm: Sequence[str] = (),
) -> list[Timing]:
    """Seconds per architecture of the reference, as a new user runs it.

    Each architecture: build the reference network, ``find_measures`` on ``(x, y)``
    (:class:`ReferenceScorer`), timed by :func:`zclib.timing.time_scorers`. To time
    zclib in the same run (interleaved), pass a ``ReferenceScorer`` and a
    :class:`zclib.scoring.Scorer` to ``time_scorers`` together.

    Args:
        archs: arch strings, timed in order.
        dataset: sets the number of classes.
        x, y: the batch (its device is the device timed).
        measures: reference measure names (default: the six of Abdelfattah et al.).
        warm: architectures scored first and not timed.

    Returns:
        One :class:`zclib.timing.Timing` per arch: ``seconds`` (wall),
        ``cpu_seconds``, ``row`` (``arch_str`` and the scores).

    On a GPU it runs under the process's TF32 settings: a :class:`zclib.scoring.
    Scorer` built in the same process turns TF32 off, for both.
    """
    scorer = ReferenceScorer(dataset, x, y, measures)
    return time_scorers({"reference": scorer}, archs, warm=warm)
