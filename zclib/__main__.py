r"""Command line for the long-running jobs: ``python -m zclib <command> ...``.

    python -m zclib cost --dataset cifar10 \
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    python -m zclib data
    python -m zclib score --dataset cifar10 --proxies all --n 100 --out scores.parquet
"""

from __future__ import annotations

import argparse
import json
import sys


def _cmd_cost(args: argparse.Namespace) -> int:
    from zclib.network import cost

    out = cost(args.arch, args.dataset, C=args.C, N=args.N, resolution=args.resolution)
    print(json.dumps({"arch_str": args.arch, "dataset": args.dataset, **out}))
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from zclib import bench, data

    print("Images")
    for row in data.report():
        print("  " + _fmt_row(row))
    print("Benchmark")
    for row in bench.report():
        print("  " + _fmt_row(row))
    return 0


def _fmt_row(row: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m zclib`` and the ``zclib`` script."""
    p = argparse.ArgumentParser(prog="zclib", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

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

    nb = sub.add_parser("notebooks", help="run the notebooks headless (papermill)",
                        add_help=False)
    nb.set_defaults(func=None)
    sub.add_parser("verify-scores", help="recompute a sample of shipped scores on CPU",
                   add_help=False)

    try:
        from zclib import scoring  # registers `score` and `bench` when present

        scoring.add_cli(sub)
    except ImportError:  # scoring not built yet
        pass
    from zclib import train  # registers `train` (reduced-training proxies)

    train.add_cli(sub)

    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "notebooks":  # its own parser (papermill options)
        from zclib import notebooks

        return notebooks.main(argv[1:])
    if argv and argv[0] == "verify-scores":
        from zclib import verify

        return verify.main(argv[1:])
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
