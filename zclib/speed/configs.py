"""The configurations the speed benchmark times, and the table of their results.

from zclib.speed.configs import build_configs, set_results
configs = build_configs({"six": six}, [], packs=(2, 4), reference=True, **common)

A configuration key is ``("single", proxy, "fused")`` or ``("set", name, mode)``
with mode ``"naive"`` (per cell: one fresh network copy and pass per proxy, the
reference's way), ``"fused"`` (proxies share passes, one network per pass),
``"packK"`` (fused, K networks per pass: :meth:`zclib.scoring.Scorer.score_many`)
or ``"reference"`` (the reference code itself, :class:`zclib.oracle.ReferenceScorer`,
for a set of the reference's measures).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from zclib import proxies as zproxies
from zclib import space
from zclib.oracle import ReferenceScorer
from zclib.proxies.packed import FLOAT32_RTOL
from zclib.scoring import Scorer
from zclib.speed.compare import describe, ratio, rel_diff

# packs timed when none are given: CPU (packing is expected to help little there)
# and GPU (archs/s per pack size, pack 1 = fused)
DEFAULT_PACKS = {"cpu": (2, 4, 8), "cuda": (1, 8, 32, 128)}
EXACT_RTOL = 1e-12  # packed vs fused for proxies not in FLOAT32_RTOL (float64, integer)
# the cell whose pass needs the most memory: every edge a 3x3 convolution
HEAVIEST = space.format_arch((space.OPS.index("nor_conv_3x3"),) * 6)


def default_packs(device: str) -> tuple[int, ...]:
    """:data:`DEFAULT_PACKS` of the device's kind."""
    return DEFAULT_PACKS["cuda" if device.startswith("cuda") else "cpu"]


@dataclasses.dataclass
class Configs:
    """The scorers of one benchmark run and what each scores."""

    scorers: dict  # key -> scorer (Scorer or ReferenceScorer)
    proxies: dict  # key -> proxy (or reference measure) names it returns
    packs: dict  # key -> K for the packed configurations

    def warm_up(self, warm: Sequence[str]) -> dict[str, str]:
        """Score ``warm`` untimed under every configuration; a packed one scores one
        group of K copies of the heaviest cell (every edge a 3x3 convolution) and
        is dropped if that runs out of device memory (e.g. pack 128 of all
        proxies on a GPU), so that the timed groups fit.

        Returns:
            ``{"<set>/packK": why}`` for the dropped configurations.
        """
        dropped = {}
        for key in list(self.scorers):
            scorer = self.scorers[key]
            if key not in self.packs:
                for arch in warm:
                    scorer.score(arch)
                continue
            try:
                scorer.score_many([HEAVIEST] * self.packs[key])
            except torch.OutOfMemoryError as exc:
                dropped[f"{key[1]}/{key[2]}"] = f"out of memory: {exc}".split("\n")[0]
                del self.scorers[key], self.proxies[key], self.packs[key]
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
        return dropped


def build_configs(
    sets: Mapping[str, Sequence[str]],
    singles: Sequence[str],
    packs: Sequence[int],
    reference: bool,
    **common,
) -> Configs:
    """One scorer per configuration, as in a real scoring run.

    Args:
        sets: ``{name: proxies}`` timed naive, fused and packed.
        singles: proxies timed alone (fused).
        packs: pack sizes; 1 is the fused configuration (not timed twice).
        reference: also time the reference code on every set whose proxies are
            all reference measures (:data:`zclib.proxies.ABDELFATTAH`), on the
            fused scorer's batch 0 with the run's seed.
        common: :class:`zclib.scoring.Scorer` arguments (dataset, seed, batch size,
            device, variant).

    Returns:
        :class:`Configs`.

    Raises:
        zclib.oracle.ReferenceNotFoundError: ``reference`` and no reference code.
    """
    scorers, names_, packed = {}, {}, {}
    for p in singles:
        key = "single", p, "fused"
        scorers[key] = Scorer(proxies=[p], mode="fused", pack=1, **common)
        names_[key] = [p]
    for name, ps in sets.items():
        for mode in ("fused", "naive"):
            key = "set", name, mode
            # pack=1: one network per pass (and no memory probe on a GPU)
            scorers[key] = Scorer(proxies=list(ps), mode=mode, pack=1, **common)
            names_[key] = list(ps)
        for k in sorted({int(k) for k in packs if int(k) > 1}):
            key = "set", name, f"pack{k}"
            scorers[key] = Scorer(proxies=list(ps), mode="fused", pack=k, **common)
            names_[key], packed[key] = list(ps), k
        if reference and set(ps) <= set(zproxies.ABDELFATTAH):
            x, y = scorers["set", name, "fused"].batches[0]
            key = "set", name, "reference"
            scorers[key] = ReferenceScorer(
                common["dataset"], x, y, measures=list(ps), seed=common["seed"]
            )
            names_[key] = list(ps)
    return Configs(scorers, names_, packed)


def config_stats(
    seconds: Sequence[float], flops: float | None, peak: float | None, group: int = 1
) -> dict:
    """Seconds per arch of one configuration, with its FLOP rate.

    Args:
        seconds: seconds per arch of each timed call (a packed call: its seconds
            / K, one value per pass).
        flops: FLOPs of all the timed calls together (None: not counted).
        peak: the matmul peak in FLOP/s (None: not measured).
        group: archs per timed call (K of a packed configuration).

    Returns:
        :func:`~zclib.speed.compare.describe` plus ``archs_per_s``, ``pack``,
        ``archs_timed`` and, when counted, ``flops_per_arch``, ``flop_per_s``
        (FLOPs / measured seconds) and ``of_peak``.
    """
    st = describe(seconds)
    archs = len(seconds) * group
    st.update(pack=group, archs_timed=archs, archs_per_s=ratio(1.0, st["mean"]))
    if flops is not None:
        rate = ratio(flops, sum(seconds) * group)
        st.update(
            flops_per_arch=flops / archs,
            flop_per_s=rate,
            of_peak=ratio(rate, peak) if peak else math.nan,
        )
    return st


def set_results(
    sets: Mapping[str, Sequence[str]],
    seconds: Mapping[tuple, Sequence[float]],
    flops: Mapping[tuple, dict],
    peak: float | None,
    packs: Mapping[tuple, int],
) -> dict:
    """Per set: every configuration's stats and the ratios between them.

    Args:
        sets: ``{name: proxies}``.
        seconds: key -> seconds per arch per timed call (:func:`config_stats`).
        flops: key -> ``{"total", "by_op"}`` over the timed calls (may be empty).
        peak: matmul FLOP/s (None: not measured).
        packs: key -> K of the packed configurations.

    Returns:
        ``{name: {"proxies", "naive", "fused", "packed": {"K": stats},
        "reference" (if timed), "ratio_naive_fused", "ratio_naive_fused_median_per_
        arch", "ratio_fused_packed": {"K": fused / packed}, "best_pack",
        "archs_per_s_by_pack": {"1": fused, "K": ...}, "reference_over_ours"}}``.
    """
    out = {}
    for name, ps in sets.items():

        def stats(mode, k=1, name=name):
            return _stats(("set", name, mode), seconds, flops, peak, k)

        f_s, n_s = seconds["set", name, "fused"], seconds["set", name, "naive"]
        res = {"proxies": list(ps), "fused": stats("fused"), "naive": stats("naive")}
        res["ratio_naive_fused"] = ratio(np.mean(n_s), np.mean(f_s))
        res["ratio_naive_fused_median_per_arch"] = float(np.median(np.divide(n_s, f_s)))
        ks = sorted(k for (kind, n_, _), k in packs.items() if n_ == name)
        res["packed"] = {str(k): stats(f"pack{k}", k) for k in ks}
        mean = {1: res["fused"]["mean"]}
        mean.update({k: res["packed"][str(k)]["mean"] for k in ks})
        res["ratio_fused_packed"] = {str(k): ratio(mean[1], mean[k]) for k in ks}
        res["best_pack"] = min(mean, key=mean.get)
        res["archs_per_s_by_pack"] = {str(k): ratio(1.0, v) for k, v in mean.items()}
        if ("set", name, "reference") in seconds:
            res["reference"] = stats("reference")
            ref = res["reference"]["mean"]
            res["reference_over_ours"] = {
                "naive": ratio(ref, res["naive"]["mean"]),
                "fused": ratio(ref, mean[1]),
                "best_packed": ratio(ref, mean[res["best_pack"]]),
                "best_pack": res["best_pack"],
            }
        out[name] = res
    return out


def _stats(key, seconds, flops, peak, k) -> dict:
    f = flops.get(key)
    st = config_stats(seconds[key], f["total"] if f else None, peak, k)
    if f:
        st["flops_by_op_per_arch"] = {
            op: v / st["archs_timed"] for op, v in f["by_op"].items()
        }
    return st


def packed_agreement(scores: Mapping[tuple, Sequence[dict]], packs: Mapping) -> dict:
    """Largest relative difference, per proxy, of packed vs fused scores of the same
    archs, against :data:`zclib.proxies.packed.FLOAT32_RTOL` (others
    :data:`EXACT_RTOL`).

    Args:
        scores: key -> rows by arch position (``None`` for an arch not scored).
        packs: key -> K of the packed configurations.

    Returns:
        ``{"tolerance": {proxy: rtol}, "<set>/packK": {proxy: max diff}, "ok"}``.
    """
    out: dict = {"tolerance": {}}
    ok = True
    for key in packs:
        _, name, mode = key
        fused = scores["set", name, "fused"]
        diffs = {}
        for p in fused[0]:
            rtol = FLOAT32_RTOL.get(p, EXACT_RTOL)
            out["tolerance"][p] = rtol
            diffs[p] = max(
                rel_diff(a[p], b[p])
                for a, b in zip(scores[key], fused, strict=True)
                if a is not None
            )
            ok &= diffs[p] <= rtol
        out[f"{name}/{mode}"] = diffs
    out["ok"] = bool(ok)
    return out
