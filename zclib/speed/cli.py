"""``python -m zclib speed``: the speed benchmark from the command line.

    python -m zclib speed --dataset cifar10 --n 10 --batch-size 64 --device cpu \
        --packs 2,4,8 --out results/bench/cpu_cifar10_b64.json
    python -m zclib speed --device cuda --packs 1,8,32,128 --workers 0
    python -m zclib speed-backends --n 40 --chunk-size 4 --workers 2 \
        --out results/bench/backends_cpu_cifar10.json
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from zclib.names import canonical_dataset
from zclib.oracle import ReferenceNotFoundError
from zclib.speed import backends
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
    try:
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
            packs=[int(k) for k in args.packs.split(",") if k.strip()] or None,
            reference=not args.no_reference,
            flops=not args.no_flops,
            profile=not args.no_profile,
            peak_n=args.peak_n or None,
        )
    except ReferenceNotFoundError as exc:
        raise ReferenceNotFoundError(f"{exc}; or pass --no-reference") from None
    out = args.out or (
        Path("results/bench") / f"{args.device}_"
        f"{canonical_dataset(args.dataset)}_b{args.batch_size}.json"
    )
    write_json(res, out)
    print(summary(res))
    print(f"wrote {out}")
    return 0


def _cmd_backends(args: argparse.Namespace) -> int:
    res = backends.run_backends(
        args.dataset,
        args.n,
        args.workers,
        proxies=args.proxies,
        batch_size=args.batch_size,
        seed=args.seed,
        chunk_size=args.chunk_size,
        repeats=args.repeats,
    )
    write_json(res, args.out)
    print(backends.summary(res))
    print(f"wrote {args.out}")
    return 0


def add_cli(sub) -> None:
    """Register ``speed`` with the ``python -m zclib`` parser."""
    s = sub.add_parser(
        "speed",
        help="seconds per arch: per proxy; naive, fused, packed and the reference; "
        "FLOP/s vs a matmul peak",
    )
    s.add_argument("--dataset", default="cifar10")
    s.add_argument("--n", type=int, default=10, help="timed archs (plus 1 warm-up)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--variant", default="official", help="official | foresight")
    s.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    s.add_argument("--no-singles", action="store_true", help="skip per-proxy timings")
    s.add_argument(
        "--packs",
        default="",
        help="pack sizes, e.g. 2,4,8 (default: 2,4,8 on cpu, 1,8,32,128 on cuda; "
        "1 = fused)",
    )
    s.add_argument(
        "--no-reference",
        action="store_true",
        help="do not time the reference code (../shared/reference/foresight-a43bfbc)",
    )
    s.add_argument("--no-flops", action="store_true", help="skip FLOPs and the peak")
    s.add_argument("--no-profile", action="store_true", help="skip the profile")
    s.add_argument(
        "--peak-n",
        type=int,
        default=0,
        help="matrix size of the peak matmul (0: 2048 on cpu, 8192 on cuda)",
    )
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

    b = sub.add_parser(
        "speed-backends",
        help="scoring throughput: Dask workers vs the multiprocessing pool",
    )
    b.add_argument("--dataset", default="cifar10")
    b.add_argument("--n", type=int, default=40, help="cells (space.sample(N, seed))")
    b.add_argument("--workers", type=int, default=2, help="processes of each backend")
    b.add_argument("--proxies", default="all")
    b.add_argument("--batch-size", type=int, default=64)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--chunk-size", type=int, default=4)
    b.add_argument("--repeats", type=int, default=2, help="runs per backend")
    b.add_argument("--out", default="results/bench/backends_cpu_cifar10.json")
    b.set_defaults(func=_cmd_backends)
