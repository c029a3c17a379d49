"""How fast is this machine today? One line per run, so sessions can be compared.

    python results/checks/host_speed.py

The development machines are not the same speed from one session to the next, so
seconds measured in different sessions do not compare. This records, with the
date: the fp32 2048x2048 matrix-product peak (``zclib.speed.flops.matmul_peak``)
at 1 and 2 threads, and the seconds per arch of the proxy-suite scorer (the
full-space job's ``suite``: l2_norm, plain, epe_nas, zen, meco, swap) on
``space.sample(6, 0)[1:]`` (5 cells, CIFAR-10, batch 64, 1 thread, one untimed
warm-up cell), wall and CPU. Run it on a quiet machine (pause a background job).
Appends to ``results/bench/host_speed.jsonl``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from zclib import scoring, space
from zclib.fullspace import jobs
from zclib.speed.flops import matmul_peak

OUT = Path(__file__).resolve().parents[1] / "bench" / "host_speed.jsonl"


def main() -> None:
    row = {"utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    row["load_before"] = list(os.getloadavg())
    for threads in (1, 2):
        torch.set_num_threads(threads)
        row[f"matmul_gflop_per_s_{threads}t"] = round(
            matmul_peak()["flop_per_s"] / 1e9, 1
        )
    torch.set_num_threads(1)
    suite = next(j for j in jobs.plan(["cifar10"]) if j.name == "suite").proxies
    archs = list(space.sample(6, 0))
    common = dict(dataset="cifar10", proxies=list(suite), batch_size=64, progress=False)
    scoring.score_archs(archs[:1], **common)  # warm-up: data, batch, kernels
    wall, cpu = time.perf_counter(), time.process_time()
    scoring.score_archs(archs[1:], **common)
    n = len(archs) - 1
    row["suite"] = list(suite)
    row["suite_wall_s_per_arch_1t"] = round((time.perf_counter() - wall) / n, 3)
    row["suite_cpu_s_per_arch_1t"] = round((time.process_time() - cpu) / n, 3)
    row["torch"] = torch.__version__
    row["cpu"] = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "",
    )
    with OUT.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
