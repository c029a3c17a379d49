"""``python -m zclib train``: reduced training from the command line.

    python -m zclib train --n 20 --seed 0 --setting r8c4e20 --threads 1 \
        --out results/train/econas_cifar10.parquet
    python -m zclib train --n 20 --setting r8c4e20 --backend dask --workers 2 \
        --out runs.parquet
"""

from __future__ import annotations

import argparse

import pandas as pd

from zclib import space
from zclib.cluster import BACKENDS
from zclib.train.runs import TABLE, merge, sweep
from zclib.train.setting import Setting


def _cmd_train(args: argparse.Namespace) -> int:
    if (args.n is None) == (args.arch is None):
        raise ValueError("give exactly one of --n N or --arch ARCH")
    archs = space.sample(args.n, args.seed) if args.n else [args.arch]
    settings = [Setting.parse(s) for s in args.setting]
    evals = [int(e) for e in args.eval_epochs.split(",") if e.strip()]
    out = None if args.out == "-" else args.out
    df = sweep(
        archs,
        settings,
        seeds=[args.seed],
        out=out,
        device=args.device,
        threads=args.threads,
        eval_epochs=evals,
        max_runs=args.max_runs,
        backend=args.backend,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    if out and args.merge:
        merge(out)
    cols = ["setting", "arch_str", "test_acc", "seconds", "train_flops", "cached"]
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(df[cols].to_string(index=False) if len(df) else "nothing to do")
    return 0


def add_cli(sub) -> None:
    """Register ``train`` with the ``python -m zclib`` parser."""
    t = sub.add_parser("train", help="reduced training (EcoNAS-style proxies)")
    t.add_argument("--arch", default=None, help="one arch string")
    t.add_argument(
        "--n",
        type=int,
        default=None,
        help="the first N archs of space.sample(N, --seed)",
    )
    t.add_argument(
        "--setting",
        action="append",
        required=True,
        help="e.g. r8c4e20 (repeatable); f<fraction>, b<batch> optional",
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu")
    t.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    t.add_argument("--eval-epochs", default="", help="e.g. 5,10,15: extra test evals")
    t.add_argument("--max-runs", type=int, default=None)
    t.add_argument(
        "--backend",
        default="pool",
        choices=BACKENDS,
        help="pool: train here, one run after the other (default); dask: one task "
        "per run on Dask distributed (the [dask] extra)",
    )
    t.add_argument(
        "--workers",
        type=int,
        default=1,
        help="with --backend dask and no --scheduler: LocalCluster processes",
    )
    t.add_argument(
        "--scheduler",
        default=None,
        help="with --backend dask: a running cluster's address, tcp://HOST:PORT",
    )
    t.add_argument("--out", default=str(TABLE), help="table to resume into; - = none")
    t.add_argument("--merge", action="store_true", help="fold parts into --out")
    t.set_defaults(func=_cmd_train)
