r"""``python -m zclib.fullspace prepare | run | unpack | merge`` (see the package doc).

    python -m zclib.fullspace prepare                        # here: data/gpu/
    PYTHONPATH=. python3 -m zclib.fullspace run --device cuda --bundle "$OUT" \
        --deadline 480                                       # on the device
    python -m zclib.fullspace unpack /work/.device/...       # here: add the chunks
    python -m zclib.fullspace merge                          # here: the tables

Its own entry point, not a ``python -m zclib`` command, so that a device's bare
Python imports only the scoring path. Exit status: 0 done; 2 a user's mistake
(one ``error:`` line); 3 unfinished (``run``: the deadline came first; ``merge``: a
dataset's ``all`` job lacks chunks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zclib.cliutil import run_command
from zclib.fullspace import bundle, jobs, merge, run
from zclib.provenance import portable_path

UNFINISHED = 3  # exit status: the same command (or a device run) finishes it


def _datasets(text: str) -> list[str]:
    return [d for d in text.split(",") if d]


def _cmd_prepare(args) -> int:
    from zclib.data import predrawn

    for ds in args.datasets:
        path = predrawn.save(
            args.batch_dir,
            ds,
            jobs.N_BATCHES,
            seed=jobs.SEED,
            batch_size=jobs.BATCH_SIZE,
            norm=jobs.NORM,
            stand_in=args.stand_in,
        )
        batches, record = predrawn.load(path)
        m = batches[0].meta
        images = m["stand_in_name"] or "official"
        print(
            f"{portable_path(path)}: {len(batches)} batches of {m['batch_size']} "
            f"from {portable_path(m['source'])} ({m['format']}, images: {images}), "
            f"{path.stat().st_size / 1e6:.1f} MB, sha1 {record['sha1'][:12]}"
        )
    return 0


def _cmd_run(args) -> int:
    record = run.run(
        args.datasets,
        device=args.device,
        root=args.root,
        batch_dir=args.batch_dir,
        bundle_dir=args.bundle,
        deadline_s=args.deadline,
        workers=args.workers,
        pack=args.pack,
        n_archs=args.n,
        chunk_size=args.chunk_size,
        only=args.only.split(",") if args.only else None,
        first=args.first,
    )
    if args.first is not None:  # done when every job's prefix is
        need = -(-args.first // args.chunk_size)
        done = record["jobs"] and all(e["chunks_done"] >= need for e in record["jobs"])
        return 0 if done else UNFINISHED
    return 0 if record["finished"] else UNFINISHED


def _cmd_unpack(args) -> int:
    archives = []
    for p in map(Path, args.archives):
        found = (
            sorted(p.glob(f"{bundle.PREFIX}*{bundle.SUFFIX}")) if p.is_dir() else [p]
        )
        if not found:
            raise FileNotFoundError(f"no {bundle.PREFIX}*{bundle.SUFFIX} in {p}")
        archives += found
    for folder, counts in bundle.unpack(archives, args.root).items():
        print(f"{folder}: {counts}")
    return 0


def _cmd_merge(args) -> int:
    status = 0
    for ds in args.datasets:
        try:
            out = merge.merge(
                ds,
                root=args.root,
                batch_dir=args.batch_dir,
                n_archs=args.n,
                chunk_size=args.chunk_size,
            )
        except merge.Incomplete as exc:
            print(f"not merged: {exc}", file=sys.stderr)
            status = UNFINISHED
        else:
            print(f"wrote {portable_path(out)}")
    return status


def parser() -> argparse.ArgumentParser:
    """The ``python -m zclib.fullspace`` parser."""
    p = argparse.ArgumentParser(
        prog="python -m zclib.fullspace", description=__doc__.splitlines()[0]
    )
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--datasets", type=_datasets, default=list(jobs.DATASETS), help="a,b,c"
    )
    common.add_argument(
        "--batch-dir", type=Path, default=jobs.BATCH_DIR, help="pre-drawn batches"
    )
    sized = argparse.ArgumentParser(add_help=False)
    sized.add_argument("--root", type=Path, default=jobs.ROOT, help="tables' folder")
    sized.add_argument(
        "--n", type=int, default=jobs.N_ARCHS, help="first N cells (tests: tiny)"
    )
    sized.add_argument("--chunk-size", type=int, default=jobs.CHUNK_SIZE)

    s = sub.add_parser("prepare", parents=[common], help="draw the batches (here)")
    s.add_argument(
        "--stand-in",
        default=None,
        help="ImageNet16-120 images (default: official files, else the "
        "official-classes stand-in)",
    )
    s.set_defaults(func=_cmd_prepare)

    s = sub.add_parser("run", parents=[common, sized], help="score (on the device)")
    s.add_argument("--device", default="cuda")
    s.add_argument("--bundle", type=Path, default=None, help="archive folder ($OUT)")
    s.add_argument(
        "--deadline", type=float, default=None, help="start no chunk after S seconds"
    )
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--pack", type=int, default=None, help="default: measured")
    s.add_argument("--only", default=None, help="job names: all,fisher_foresight,...")
    s.add_argument(
        "--first",
        type=int,
        default=None,
        help="only each job's chunks of the first N cells (the rest later)",
    )
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("unpack", help="add a device run's chunks (here)")
    s.add_argument("archives", nargs="+", help="archives or folders holding them")
    s.add_argument("--root", type=Path, default=jobs.ROOT, help="tables' folder")
    s.set_defaults(func=_cmd_unpack)

    s = sub.add_parser("merge", parents=[common, sized], help="write the tables")
    s.set_defaults(func=_cmd_merge)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m zclib.fullspace``."""
    return run_command(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
