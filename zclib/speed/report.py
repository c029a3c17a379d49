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
    """A short table: mean / median / std seconds per arch, and naive/fused ratios."""
    m = res["meta"]
    lines = [
        f"speed: {m['dataset']} batch {m['batch_size']} on {m['device']} "
        f"({m['device_name']}, {m['torch_num_threads']} threads), n={m['n']} archs, "
        f"load {m['loadavg_before'][0]:.2f} -> {m['loadavg_after'][0]:.2f} "
        f"(max during {max(m['loadavg_1min_during']):.2f}"
        f"{', LOADED: other processes competed' if m['loaded'] else ''})",
        f"{'configuration':<24}{'mean s':>9}{'median s':>10}{'std s':>9}"
        f"{'naive/fused':>13}",
    ]

    def row(label, st, ratio=""):
        lines.append(
            f"{label:<24}{st['mean']:>9.3f}{st['median']:>10.3f}"
            f"{st['std']:>9.3f}{ratio:>13}"
        )

    for name, s in res["sets"].items():
        row(f"{name} fused", s["fused"])
        row(f"{name} naive", s["naive"], f"{s['ratio_naive_fused']:.2f}x")
    for p, st in res["singles"].items():
        row(f"  {p} alone", st)
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
            f"whole space, 1 process: {t['whole_space_hours_1_process']} h "
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
