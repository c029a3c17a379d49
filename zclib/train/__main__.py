r"""``python -m zclib.train ARGS``: ``python -m zclib train-job ARGS`` importing only
the training path, for a device machine's bare Python (no Dask, papermill or the
benchmark tables there; ``make gpu-econas``).

    PYTHONPATH=. python3 -m zclib.train --device cuda --pack 256 --block 256 \
        --hours 0.12 --bundle "$OUT"

Exit status: 0 done; 2 a user's mistake (one ``error:`` line).
"""

from __future__ import annotations

import argparse
import sys

from zclib.cliutil import run_command
from zclib.train import cli


def main(argv: list[str] | None = None) -> int:
    """Parse ``train-job`` options and run them."""
    p = argparse.ArgumentParser(prog="python -m zclib.train")
    cli.add_cli(p.add_subparsers(dest="command", required=True))
    return run_command(
        p.parse_args(["train-job", *(sys.argv[1:] if argv is None else argv)])
    )


if __name__ == "__main__":
    sys.exit(main())
