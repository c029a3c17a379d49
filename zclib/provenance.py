"""Run provenance: what every results file records about the code that made it.

from zclib.provenance import provenance
provenance(seed=0, dataset="cifar10")
# -> {"zclib_version": ..., "git_commit": ..., "git_dirty": ..., "seed": 0, ...}
"""

from __future__ import annotations

import functools
import subprocess

import zclib
from zclib.paths import PROJECT_ROOT


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
    params."""
    commit, dirty = git_commit()
    return {
        "zclib_version": zclib.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        **params,
    }
