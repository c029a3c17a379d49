"""``python -m zclib speed``: the speed benchmark from the command line.

    python -m zclib speed --dataset cifar10 --n 20 --batch-size 64 --device cpu \
        --out results/bench/cpu_cifar10_b64.json
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from zclib.names import canonical_dataset
from zclib.speed.report import summary, write_json
from zclib.speed.run import run_speed


def _cmd_speed(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    singles = [] if args.no_singles else None
    workers = (
        args.workers
        if args.workers >= 0
        else ((os.cpu_count() or 1) if args.device == "cpu" else 0)
    )
    res = run_speed(
        args.dataset,
        args.n,
        args.batch_size,
        args.device,
        args.seed,
        singles=singles,
        variant=args.variant,
        progress=not args.quiet,
        throughput_workers=workers,
    )
    out = args.out or (
        Path("results/bench") / f"{args.device}_"
        f"{canonical_dataset(args.dataset)}_b{args.batch_size}.json"
    )
    write_json(res, out)
    print(summary(res))
    print(f"wrote {out}")
    return 0


def add_cli(sub) -> None:
    """Register ``speed`` with the ``python -m zclib`` parser."""
    s = sub.add_parser("speed", help="seconds per arch: per proxy, fused vs naive")
    s.add_argument("--dataset", default="cifar10")
    s.add_argument("--n", type=int, default=20, help="timed archs (plus 1 warm-up)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--variant", default="official", help="official | foresight")
    s.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    s.add_argument("--no-singles", action="store_true", help="skip per-proxy timings")
    s.add_argument(
        "--workers",
        type=int,
        default=-1,
        help="also time the scorer's throughput with this many worker "
        "processes (-1: one per core on CPU, none on cuda; 0: skip)",
    )
    s.add_argument(
        "--out",
        default=None,
        help="JSON (default results/bench/<device>_<dataset>_b<B>.json)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_speed)
