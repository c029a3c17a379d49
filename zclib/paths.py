"""Where data and results live: one discovery rule for every module.

    from zclib.paths import find_data, searched
    find_data("nats-bench/nats_tss_test_acc_200ep.csv")  # a Path, or None

Data discovery, one rule for everything (first hit wins):
  1. ``$ZCLIB_DATA`` (a folder; ``os.pathsep``-separated list allowed),
  2. the project's ``data/`` folder (git-ignored; set-up may copy files there),
  3. ``../shared/data`` beside the project checkout (the offline copies).
ImageNet16-120 refines it within the first root that has any of its folders:
official files before the stand-ins (:mod:`zclib.data.sources`).

Dataset names live in :mod:`zclib.names`, run provenance in
:mod:`zclib.provenance`, atomic writes in :mod:`zclib.fileio`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"  # git-ignored cache and user-provided files
RESULTS_DIR = PROJECT_ROOT / "results"
ENV_VAR = "ZCLIB_DATA"


def data_roots() -> list[Path]:
    """The folders searched for data, in priority order (they need not exist)."""
    roots: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    roots.append(DATA_DIR)
    roots.append(PROJECT_ROOT.parent / "shared" / "data")
    return roots


def find_data(*relpaths: str) -> Path | None:
    """First existing ``root/relpath`` over :func:`data_roots` x ``relpaths``.

    Roots take priority over the order of ``relpaths``. Returns None if none exists.
    """
    for root in data_roots():
        for rel in relpaths:
            p = root / rel
            if p.exists():
                return p
    return None


def searched(*relpaths: str) -> list[str]:
    """Every place :func:`find_data` looks, for error messages."""
    return [str(root / rel) for root in data_roots() for rel in relpaths]
