"""Run provenance: what every results file records about the code that made it.

from zclib.provenance import provenance
provenance(seed=0, dataset="cifar10")
# -> {"zclib_version": ..., "git_commit": ..., "git_dirty": ..., "seed": 0, ...}
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

import zclib
from zclib.paths import ENV_VAR, PROJECT_ROOT


@functools.lru_cache(maxsize=1)
def git_commit() -> tuple[str, bool]:
    """(commit hash or "unknown", tree dirty?) of the project checkout."""
    try:
        run = functools.partial(
            subprocess.run, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
        head = run(["git", "rev-parse", "HEAD"]).stdout.strip() or "unknown"
        dirty = bool(
            run(["git", "status", "--porcelain", "--", "zclib"]).stdout.strip()
        )
        return head, dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def provenance(**params) -> dict:
    """Metadata every results file records: zclib version, commit, dirty flag,
    params (absolute paths in them made portable by :func:`portable`)."""
    commit, dirty = git_commit()
    return {
        "zclib_version": zclib.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        **portable(params),
    }


def portable_path(path: str | os.PathLike) -> str:
    """A path as a results file should record it, never a machine's absolute path:
    relative to the project (``results/scores/x.parquet``), to ``$ZCLIB_DATA``
    (``$ZCLIB_DATA/cifar10/...``) or to ``../shared`` beside the checkout
    (``../shared/data/...``); any other path (e.g. a temporary folder) as given."""
    p = Path(os.path.abspath(path))
    roots = [(PROJECT_ROOT, "")]
    roots += [
        (Path(os.path.abspath(r)), f"${ENV_VAR}/")
        for r in os.environ.get(ENV_VAR, "").split(os.pathsep)
        if r
    ]
    roots.append((PROJECT_ROOT.parent / "shared", "../shared/"))
    for root, prefix in roots:
        if p == root or root in p.parents:
            return prefix + (p.relative_to(root).as_posix() if p != root else ".")
    return str(path)


def portable(value):
    """``value`` with every absolute path string in it (nested dicts, lists) made
    portable by :func:`portable_path`; everything else unchanged."""
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(portable(v) for v in value)
    if isinstance(value, os.PathLike) or (
        isinstance(value, str) and os.path.isabs(value)
    ):
        return portable_path(value)
    return value
