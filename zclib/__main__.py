r"""Command line for the long-running jobs: ``python -m zclib <command> ...``.

    python -m zclib data                   # which images and benchmark tables are found
    python -m zclib cost --dataset cifar10 \
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    python -m zclib score --dataset cifar10 --proxies all --n 100 --out scores.parquet
    python -m zclib speed --dataset cifar10 --n 10 --packs 2,4,8 --out speed.json
    python -m zclib train --n 20 --setting r8c4e20 --out runs.parquet
    python -m zclib notebooks --smoke --only 01_table_spearman_nb201 --results-dir D
    python -m zclib report --results-dir results/smoke
    python -m zclib verify-scores --n 20

Commands (``python -m zclib <command> --help`` for the options):

- ``cost``: params and FLOPs of one cell network (:mod:`zclib.commands`);
- ``data``: which images and benchmark tables are found (:mod:`zclib.commands`);
- ``score``: many architectures x proxies, resumable (:mod:`zclib.scoring`);
- ``speed``: seconds per architecture naive, fused, packed and the reference, FLOP/s
  against a matmul peak, a profile (:mod:`zclib.speed`);
- ``train``: reduced-training (EcoNAS) runs, resumable (:mod:`zclib.train`);
- ``notebooks``: run the notebooks headless with papermill (:mod:`zclib.notebooks`);
- ``report``: the static HTML site of the executed notebooks (:mod:`zclib.report`);
- ``verify-scores``: recompute a sample of the shipped scores (:mod:`zclib.verify`).

Each command's module registers it with ``add_cli(sub)`` (:data:`COMMANDS`). A user's
mistake (a bad argument, missing or refused data, no CUDA) ends in one ``error:``
line on stderr and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import pickle
import sys

from zclib import cluster, commands, notebooks, report, scoring, speed, train, verify
from zclib.cliutil import USER_MISTAKES, run_command

# Modules with add_cli(sub), in the order their commands are listed in --help.
COMMANDS = (commands, scoring, speed, train, notebooks, report, verify)
# What a user's mistake raises: bad values, missing files, a refused dataset pickle.
USER_ERRORS = (
    *USER_MISTAKES,
    pickle.UnpicklingError,
    notebooks.MissingExtraError,
    cluster.MissingDaskError,
)


def parser() -> argparse.ArgumentParser:
    """The ``zclib`` parser with every command registered."""
    p = argparse.ArgumentParser(prog="zclib", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_cli(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m zclib`` and the ``zclib`` script."""
    return run_command(
        parser().parse_args(sys.argv[1:] if argv is None else argv), USER_ERRORS
    )


if __name__ == "__main__":
    sys.exit(main())
