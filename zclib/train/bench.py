"""Training throughput: packed (K cells at once) against one cell at a time.

    python -m zclib.train.bench --out results/bench/train_cpu.json   # make bench-train
    python -m zclib.train.bench --shapes r8c4 --packs 1,2 --steps 2 --batch 64 --out -

For each network shape (``r<resolution>c<channels>``, the reference recipe: foresight
network, N = 5, uint8 crop + antialiased resize + flip per batch) and each K in
``packs``, the same K cells of ``space.sample`` train ``steps`` SGD steps one at a
time (K separate networks, one after the other, channels-last as
:func:`zclib.train.train_arch` trains them) and then packed (one network, NCHW as
:func:`zclib.train.train_packed` builds it); one untimed warm-up step each
first. Batches are random uint8 images of the recipe's size pushed through the
recipe's pipeline (the data loading is not what is timed; the pipeline is, once per
step, as in a run).

Reported per (shape, K): seconds per step, cell-images/s (K x batch / seconds per
step), FLOP/s (3 x forward FLOPs x images, summed over the cells: the training
convention of :mod:`zclib.train`), and the speed-up (one-at-a-time seconds /
packed seconds). CPU: ``--threads`` torch threads (1 by default, as the sweeps
run); the load average is recorded, since a busy machine slows both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from zclib import space
from zclib.fileio import write_text_atomic
from zclib.network import count_flops
from zclib.packing import PackedNetwork
from zclib.provenance import provenance
from zclib.train.loop import build_net, make_optimizer, train_step
from zclib.train.packed import packed_step
from zclib.train.setting import Setting
from zclib.train.tensors import make_batch

SHAPES = ("r8c4", "r8c8", "r16c4", "r16c8")  # the four settings
PACKS = (1, 4, 16)


def _time(step, batches) -> float:
    """Seconds per step after one warm-up step (CPU time of this process: the
    machine is shared)."""
    step(*batches[0])
    c0 = time.process_time()
    for xb, yb in batches[1:]:
        step(xb, yb)
    return (time.process_time() - c0) / max(1, len(batches) - 1)


def bench_shape(
    shape: str, K: int, steps: int, batch: int, seed: int = 0, device: str = "cpu"
) -> dict:
    """One (shape, K) measurement; see the module docstring."""
    s = Setting.parse(f"econas-{shape}e1", batch_size=batch)
    archs = space.sample(K, seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    b = torch.arange(batch)
    batches = [make_batch(s, x, y, b, gen) for _ in range(steps + 1)]

    nets = [build_net(a, s, seed, device) for a in archs]  # as train_arch: NHWC
    flops = sum(count_flops(n, s.resolution) for n in nets)
    sep = 0.0
    for n in nets:
        opt, _ = make_optimizer(n, s)
        sep += _time(lambda xb, yb, n=n, opt=opt: train_step(n, opt, xb, yb), batches)
    packed = PackedNetwork(
        [build_net(a, s, seed, device, channels_last=False) for a in archs]
    )
    opt, _ = make_optimizer(packed, s)
    pk = _time(lambda xb, yb: packed_step(packed, opt, xb, yb), batches)
    images = K * batch
    return {
        "shape": shape,
        "K": K,
        "batch": batch,
        "steps": steps,
        "archs": archs,
        "flops_fwd_sum": flops,
        "separate_s_per_step": sep,
        "packed_s_per_step": pk,
        "separate_images_per_s": images / sep,
        "packed_images_per_s": images / pk,
        "separate_flop_per_s": 3 * flops * batch / sep,
        "packed_flop_per_s": 3 * flops * batch / pk,
        "speedup": sep / pk,
    }


def run(shapes, packs, steps: int, batch: int, threads: int, seed: int = 0) -> dict:
    """Every (shape, K) with provenance; ``threads`` torch threads meanwhile."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        rows = []
        for shape in shapes:
            for K in packs:
                r = bench_shape(shape, K, steps, batch, seed)
                r["loadavg_1min"] = os.getloadavg()[0]
                rows.append(r)
                print(
                    f"{shape} K={K:3d}: separate {r['separate_images_per_s']:9.0f} "
                    f"img/s, packed {r['packed_images_per_s']:9.0f} img/s, "
                    f"{r['packed_flop_per_s'] / 1e9:6.2f} GFLOP/s, "
                    f"x{r['speedup']:.2f}",
                    flush=True,
                )
    finally:
        torch.set_num_threads(old)
    meta = provenance(
        shapes=list(shapes),
        packs=list(packs),
        steps=steps,
        batch=batch,
        threads=threads,
        seed=seed,
        torch_version=torch.__version__,
        machine=platform.machine(),
        cpu_count=os.cpu_count(),
        timer="process CPU time",
    )
    return {"provenance": meta, "rows": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--packs", default=",".join(map(str, PACKS)))
    p.add_argument("--steps", type=int, default=5, help="timed steps per config")
    p.add_argument("--batch", type=int, default=2048, help="images per step")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/bench/train_cpu.json", help="- = none")
    a = p.parse_args(argv)
    res = run(
        a.shapes.split(","),
        [int(k) for k in a.packs.split(",")],
        a.steps,
        a.batch,
        a.threads,
        a.seed,
    )
    if a.out != "-":
        write_text_atomic(json.dumps(res, indent=1) + "\n", a.out)
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
