"""The one way our command lines end: a user's mistake is one ``error:`` line.

    from zclib.cliutil import run_command
    sys.exit(run_command(parser.parse_args(), (ValueError, FileNotFoundError)))

Imports nothing of zclib, so that the device entry points (``python -m
zclib.fullspace``, ``python -m zclib.train``) stay light.
"""

from __future__ import annotations

import argparse
import sys

USER_MISTAKES = (ValueError, FileNotFoundError)  # bad values, missing files


def run_command(args: argparse.Namespace, errors: tuple = USER_MISTAKES) -> int:
    """``args.func(args)``; an exception in ``errors`` becomes ``error: <message>``
    on stderr and exit status 2 (not a traceback)."""
    try:
        return args.func(args)
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
