"""``python -m zclib train``: reduced training from the command line.

    python -m zclib train --n 20 --seed 0 --setting r8c4e20 --threads 1 \
        --out results/train/econas_cifar10.parquet
    python -m zclib train --n 20 --setting r8c4e20 --backend dask --workers 2 \
        --out runs.parquet
    python -m zclib train --n 64 --pack 16 --eval-epochs 5,10,20 --out t.parquet
        # the reference recipe (econas-r8c4e40, the default), 16 cells at once
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import torch

from zclib import space
from zclib.cluster import BACKENDS
from zclib.train import job
from zclib.train.runs import TABLE, merge, sweep
from zclib.train.setting import ECONAS, Setting


def _cmd_train(args: argparse.Namespace) -> int:
    if (args.n is None) == (args.arch is None):
        raise ValueError("give exactly one of --n N or --arch ARCH")
    archs = space.sample(args.n, args.seed) if args.n else [args.arch]
    settings = [Setting.parse(s) for s in (args.setting or [ECONAS])]
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
        pack=args.pack,
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
        default=None,
        help=f"e.g. {ECONAS} (the default: the reference recipe) or r8c4e20 (the "
        "earlier recipe); repeatable; f<fraction>, b<batch> optional",
    )
    t.add_argument(
        "--pack",
        type=int,
        default=1,
        help="train K cells at once in one packed network (econas- settings)",
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

    j = sub.add_parser(
        "train-job", help="issue 17: the reference recipe on a seeded sample, resumable"
    )
    j.add_argument("--seed", type=int, default=0)
    j.add_argument("--pack", type=int, default=1, help="cells per packed network")
    j.add_argument("--threads", type=int, default=1)
    j.add_argument(
        "--workers",
        type=int,
        default=1,
        help="runs at once, one process each (> 1: a local Dask cluster; --pack 1)",
    )
    j.add_argument("--device", default="cpu")
    j.add_argument("--hours", type=float, default=None, help="stop after (wall)")
    j.add_argument("--out", default=str(job.OUT))
    j.add_argument(
        "--plan",
        default=None,
        help="setting=cells,... (default: "
        + ",".join(f"{k}={v}" for k, v in job.PLAN.items())
        + ")",
    )
    j.add_argument(
        "--budget-cpu-hours",
        type=float,
        default=None,
        help="start no block that would bring the plan's CPU time (the runs' "
        "cpu_seconds) over this",
    )
    j.add_argument(
        "--block",
        type=int,
        default=job.BLOCK,
        help="cells per block: every setting of a block before the next (a GPU: "
        "the pack size)",
    )
    j.add_argument(
        "--bundle",
        default=None,
        help="keep an archive of the runs here, rewritten as they finish "
        "(a device run's $OUT)",
    )
    j.add_argument(
        "--unpack",
        default=None,
        help="only add the runs of a device run's archive (the file or the folder "
        "it came back to), then write the tables",
    )
    j.add_argument(
        "--prepare",
        default=None,
        help="only copy the CIFAR-10 images to this folder for a device run",
    )
    j.add_argument("--merge", action="store_true", help="only write the tables")
    j.add_argument(
        "--pilot", action="store_true", help="only estimate CPU s per cell (JSON)"
    )
    j.set_defaults(func=_cmd_job)


def _cmd_job(args: argparse.Namespace) -> int:
    if args.pilot:
        torch.set_num_threads(args.threads)
        for row in job.pilot(seed=args.seed):
            print(json.dumps(row), flush=True)
        return 0
    if args.prepare:
        print(f"copied {job.prepare(args.prepare)}")
        return 0
    if args.unpack:
        found = Path(args.unpack)
        archives = [found / job.archive_name(args.out)] if found.is_dir() else [found]
        if not archives[0].is_file():
            raise FileNotFoundError(f"no {archives[0]}")
        for folder, counts in job.unpack(archives, args.out).items():
            print(f"{folder}: {counts}")
    elif not args.merge:
        plan = None
        if args.plan:
            plan = {k: int(v) for k, v in (p.split("=") for p in args.plan.split(","))}
        df = job.run_job(
            plan,
            seed=args.seed,
            out=args.out,
            pack=args.pack,
            threads=args.threads,
            hours=args.hours,
            device=args.device,
            workers=args.workers,
            block=args.block,
            bundle_dir=args.bundle,
            budget_cpu_hours=args.budget_cpu_hours,
        )
        new = 0 if not len(df) else int((~df["cached"].astype(bool)).sum())
        print(f"trained {new} runs now; {len(df)} requested so far")
    for path in job.write_tables(args.out):
        print(f"wrote {path}")
    return 0
