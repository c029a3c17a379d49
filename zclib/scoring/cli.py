"""``python -m zclib score``: score many architectures from the command line.

    python -m zclib score --dataset cifar10 --proxies all --n 1000 --seed 0 \
        --out results/scores/c10.parquet
    python -m zclib score --n 1000 --out s.parquet --backend dask --workers 4
"""

from __future__ import annotations

import argparse
import sys

from zclib import space
from zclib.cluster import BACKENDS
from zclib.scoring.bulk import Unfinished, read_archs, score_archs


def _cmd_score(args: argparse.Namespace) -> int:
    if (args.n is None) == (args.archs is None):
        raise ValueError("give exactly one of --n N or --archs FILE")
    if args.archs:
        archs = read_archs(args.archs)
    else:
        archs = space.sample(args.n, seed=args.seed)  # the notebooks' N_ARCHS sample
    if not str(args.out).endswith((".csv", ".parquet")):
        raise ValueError(f"--out must end in .csv or .parquet, got {args.out!r}")
    try:
        df = score_archs(
            archs,
            args.dataset,
            args.proxies,
            seed=args.seed,
            batch_size=args.batch_size,
            device=args.device,
            variant=args.variant,
            mode=args.mode,
            zico_batches=args.zico_batches,
            norm=args.norm,
            augment=args.augment,
            stand_in=args.stand_in,
            pack=args.pack,
            batch_file=args.batch_file,
            out=args.out,
            chunk_size=args.chunk_size,
            workers=args.workers,
            progress=not args.quiet,
            first=args.first,
            backend=args.backend,
            scheduler=args.scheduler,
        )
    except Unfinished as stop:  # only --first stops a run early here
        print(
            f"{args.out}: the chunks of the first {args.first} archs are done "
            f"({stop.done} of {stop.total} chunks); run without --first to finish",
            file=sys.stderr,
        )
        return 0
    meta = df.attrs["meta"]
    print(
        f"wrote {args.out}: {len(df)} archs, NaN counts {meta['nan_counts']}",
        file=sys.stderr,
    )
    return 0


def add_cli(sub) -> None:
    """Register ``score`` with the ``python -m zclib`` parser."""
    s = sub.add_parser("score", help="score many architectures with zero-cost proxies")
    s.add_argument("--dataset", default="cifar10")
    s.add_argument("--proxies", default="all", help="all | abdelfattah | a,b,c")
    s.add_argument(
        "--n",
        type=int,
        default=None,
        help="the first N archs of space.sample(N, --seed) "
        "(the cells of a notebook's N_ARCHS=N, SEED=seed)",
    )
    s.add_argument("--archs", default=None, help="file of arch strings, one per line")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--variant", default="official", help="official | foresight")
    s.add_argument("--mode", default="fused", help="fused | naive")
    s.add_argument("--zico-batches", type=int, default=2)
    s.add_argument(
        "--norm",
        default="foresight",
        help="normalisation constants: foresight | foresight_exact | nb201",
    )
    s.add_argument(
        "--augment",
        action="store_true",
        help="draw the batch through the reference's training transforms "
        "(random crop + flip)",
    )
    s.add_argument(
        "--stand-in",
        default=None,
        help="ImageNet16-120 images: official-classes | mixed-classes (the older "
        "stand-in); default: official files, else the first stand-in found",
    )
    s.add_argument(
        "--pack",
        type=int,
        default=None,
        help="networks per pass (default: 1 on CPU; on a GPU as many as fit in "
        "half the free memory, at most 128)",
    )
    s.add_argument(
        "--batch-file",
        default=None,
        help="read the batches from a file of pre-drawn batches (python -m "
        "zclib.fullspace prepare) instead of drawing them from the images",
    )
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (with --backend dask and no --scheduler: the "
        "LocalCluster's, one thread each)",
    )
    s.add_argument(
        "--backend",
        default="pool",
        choices=BACKENDS,
        help="pool: this process or a multiprocessing pool (default); dask: one "
        "task per chunk on Dask distributed (the [dask] extra)",
    )
    s.add_argument(
        "--scheduler",
        default=None,
        help="with --backend dask: a running cluster's address, tcp://HOST:PORT "
        "(default: a LocalCluster of --workers processes on 127.0.0.1)",
    )
    s.add_argument("--chunk-size", type=int, default=25)
    s.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument(
        "--first",
        type=int,
        default=None,
        help="score only the chunks of the first N archs (a prefix of the run, "
        "resumable; the run stays the whole --n); the rest later",
    )
    s.set_defaults(func=_cmd_score)
