"""The speed benchmark's output: a short text table and strict JSON.

from zclib.speed import summary, write_json
print(summary(res)); write_json(res, "results/bench/cpu_cifar10_b64.json")
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from zclib.fileio import write_text_atomic
from zclib.speed.targets import TARGETS


def summary(res: dict) -> str:
    """A short table: seconds per arch per configuration, ratios, FLOP/s vs peak,
    profile shares, targets."""
    m, peak = res["meta"], res.get("peak")
    lines = [
        f"speed: {m['dataset']} batch {m['batch_size']} on {m['device']} "
        f"({m['device_name']}, {m['torch_num_threads']} threads), n={m['n']} archs, "
        f"load {m['loadavg_before'][0]:.2f} -> {m['loadavg_after'][0]:.2f} "
        f"(max during {max(m['loadavg_1min_during']):.2f}"
        f"{', LOADED: other processes competed' if m['loaded'] else ''})",
    ]
    if peak:
        lines.append(
            f"peak: fp32 matmul {peak['n']}^2, best of {2 * peak['repeats']}: "
            f"{peak['flop_per_s'] / 1e9:.1f} GFLOP/s"
        )
    lines.append(
        f"{'configuration':<24}{'mean s':>9}{'median s':>10}{'std s':>9}"
        f"{'archs/s':>9}{'GFLOP/s':>9}{'of peak':>9}{'ratio':>18}"
    )

    def row(label, st, ratio=""):
        rate = st.get("flop_per_s")
        flops = (
            f"{rate / 1e9:>9.2f}{st['of_peak']:>9.1%}"
            if rate is not None and st.get("of_peak") is not None
            else f"{'':>18}"
        )
        per_s = f"{st['archs_per_s']:>9.2f}" if "archs_per_s" in st else f"{'':>9}"
        lines.append(
            f"{label:<24}{st['mean']:>9.3f}{st['median']:>10.3f}"
            f"{st['std']:>9.3f}{per_s}{flops}{ratio:>18}"
        )

    for name, s in res["sets"].items():
        row(f"{name} naive", s["naive"], f"naive/fused {s['ratio_naive_fused']:.2f}")
        row(f"{name} fused", s["fused"])
        for k, st in s.get("packed", {}).items():
            row(f"{name} pack {k}", st, f"fused/pack {s['ratio_fused_packed'][k]:.2f}")
        if "reference" in s:
            r = s["reference_over_ours"]
            row(f"{name} reference", s["reference"], f"ref/fused {r['fused']:.2f}")
            lines.append(
                f"  reference / ours: naive {r['naive']:.2f}x, fused "
                f"{r['fused']:.2f}x, best pack ({r['best_pack']}) "
                f"{r['best_packed']:.2f}x"
            )
    for p, st in res["singles"].items():
        row(f"  {p} alone", st)
    for key, why in m.get("packs_dropped", {}).items():
        lines.append(f"{key} not timed: {why}")
    for name, pr in (res.get("profile") or {}).items():
        for label in ("fused", "packed"):
            g = pr[label]["groups"]
            lines.append(
                f"profile {name} {label} ({pr['pack']} archs, "
                f"{pr[label]['ms_per_arch']:.0f} ms/arch): "
                + ", ".join(f"{k} {v['share']:.0%}" for k, v in g.items())
            )
    pa = res.get("packed_agreement")
    if pa and len(pa) > 2:  # more than tolerance and ok: something was packed
        lines.append(
            f"packed vs fused scores: {'within' if pa['ok'] else 'EXCEED'} "
            "the float32 tolerances (packed_agreement)"
        )
    c, t = res["consistency"], res["target_check"]
    lines.append(
        f"fused vs naive max rel diff {c['max_rel_diff']:.2e} "
        f"({'ok' if c['ok'] else 'EXCEEDS'} <= {c['tolerance']:g})"
    )
    tp = res.get("throughput")
    if tp:
        lines.append(
            f"throughput, {tp['workers']} workers x "
            f"{tp['threads_per_worker']} thread(s), wall s per arch:"
        )
        for name, s in tp["sets"].items():
            lines.append(f"{name + ' fused':<24}{s['fused']['s_per_arch']:>9.3f}")
            lines.append(
                f"{name + ' naive':<24}{s['naive']['s_per_arch']:>9.3f}"
                f"{'':>19}{s['ratio_naive_fused']:>12.2f}x"
            )
    if t["device"] == "cpu":
        one = "met" if t["ok"] and all(t["ok"].values()) else "NOT met"
        lines.append(
            f"CPU targets (six <= {t['bounds']['six']} s, all <= {t['bounds']['all']} s"
            f"; conditions match: {t['conditions_match']}): 1 process {one} {t['ok']}"
            + (
                f"; {t['throughput']['workers']} workers {t['throughput']['ok']}"
                if "throughput" in t
                else ""
            )
            + " -> "
            + (f"met ({', '.join(t['met_by'])})" if t["meets_target"] else "NOT met")
        )
    else:
        lines.append(
            f"whole space, 1 process, {t['checked_set']} proxies, minutes by pack: "
            f"{t['whole_space_minutes_by_pack']} "
            f"(target {TARGETS['cuda']['whole_space_minutes']:g} min): "
            f"{'met' if t['meets_target'] else 'NOT met'}"
        )
    return "\n".join(lines)


def write_json(res: dict, out: str | Path) -> Path:
    """Write atomically (temporary file + ``os.replace``); inf/NaN become null."""
    return write_text_atomic(
        json.dumps(_finite(res), indent=2, default=str) + "\n", out
    )


def _finite(obj):
    """Strict JSON: non-finite floats become None (a NaN is counted in nan_counts)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
