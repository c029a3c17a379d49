"""The two small commands, ``cost`` and ``data``: they print what other modules compute.

    python -m zclib cost --dataset cifar10 \
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    python -m zclib data
"""

from __future__ import annotations

import argparse
import json

from zclib import bench, data
from zclib.network import cost


def _cmd_cost(args: argparse.Namespace) -> int:
    out = cost(args.arch, args.dataset, C=args.C, N=args.N, resolution=args.resolution)
    print(json.dumps({"arch_str": args.arch, "dataset": args.dataset, **out}))
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    print("Images")
    for row in data.report():
        print("  " + _fmt_row(row))
    print("Benchmark")
    for row in bench.report():
        print("  " + _fmt_row(row))
    return 0


def _fmt_row(row: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def add_cli(sub) -> None:
    """Register ``cost`` and ``data`` with the ``python -m zclib`` parser."""
    c = sub.add_parser("cost", help="params and FLOPs (millions) of one cell network")
    c.add_argument("arch", help="arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|")
    c.add_argument("--dataset", default="cifar10")
    c.add_argument("--C", type=int, default=16, help="first-stage channels")
    c.add_argument("--N", type=int, default=5, help="cells per stage")
    c.add_argument("--resolution", type=int, default=None, help="input side, pixels")
    c.set_defaults(func=_cmd_cost)

    d = sub.add_parser(
        "data", help="report which images and benchmark tables are found"
    )
    d.set_defaults(func=_cmd_data)
