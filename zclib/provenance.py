"""Run provenance: what every results file records about the code that made it.

from zclib.provenance import provenance
provenance(seed=0, dataset="cifar10", scores="results/scores/nb201_cifar10.parquet")
# -> {"zclib_version": ..., "git_commit": ..., "git_dirty": ..., "seed": 0, ...,
#     "data_sha256": {"results/scores/nb201_cifar10.parquet": "9f2c..."}}

The commit is the last one that changed the *inputs* (:data:`INPUTS`: the code, the
notebooks, pyproject.toml, and the tables a run names in its parameters), and the
dirty flag looks at those inputs only, never at ``results/``: committing results
changes neither, so a re-run at the next commit writes the same bytes. Every data
file a run names is recorded with its sha256.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from pathlib import Path

import zclib
from zclib.paths import ENV_VAR, PROJECT_ROOT

INPUTS = ("zclib", "notebooks", "pyproject.toml")  # what results depend on, in git


@functools.lru_cache(maxsize=16)
def git_commit(paths: tuple[str, ...] = INPUTS) -> tuple[str, bool]:
    """(last commit that changed ``paths``, or "unknown"; are they dirty?).

    Args:
        paths: project-relative paths (default :data:`INPUTS`).

    Returns:
        The commit hash (the last one touching any of ``paths``) and whether any
        of them differs from it (modified, staged or untracked).
    """
    try:
        run = functools.partial(
            subprocess.run, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
        log = run(["git", "log", "-1", "--format=%H", "--", *paths])
        head = log.stdout.strip() or "unknown"
        status = run(["git", "status", "--porcelain", "--", *paths]).stdout
        return head, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


@functools.lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (cached per path, size and modification time)."""
    st = os.stat(path)
    return _sha256(os.path.abspath(path), st.st_size, st.st_mtime_ns)


def data_files(value) -> list[Path]:
    """The existing files a parameter value names (nested dicts and lists; paths
    absolute or relative to the project), in the order found, without repeats."""
    found: list[Path] = []

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, str | os.PathLike) and str(v) and "\n" not in str(v):
            p = Path(v) if os.path.isabs(v) else PROJECT_ROOT / str(v)
            if p.is_file() and p not in found:
                found.append(p)

    walk(value)
    return found


def provenance(**params) -> dict:
    """Metadata every results file records.

    Args:
        **params: the run's parameters; absolute paths in them are made portable
            (:func:`portable`), and every existing file they name is hashed.

    Returns:
        ``zclib_version``, ``git_commit`` and ``git_dirty`` (over :data:`INPUTS`
        and the project files among the data files), the params, and
        ``data_sha256`` (portable path -> sha256) when any file is named.
    """
    files = data_files(params)
    root = PROJECT_ROOT.resolve()
    inside = [
        p.resolve().relative_to(root).as_posix()
        for p in files
        if root in p.resolve().parents
    ]
    commit, dirty = git_commit(tuple(dict.fromkeys([*INPUTS, *inside])))
    out = {
        "zclib_version": zclib.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        **portable(params),
    }
    if files:
        out["data_sha256"] = {portable_path(p): sha256(p) for p in files}
    return out


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


def data_relative(path: str, data_root: str | os.PathLike) -> str:
    """``path`` relative to a data root, as ``$ZCLIB_DATA/<rest>``, when it lies
    under it (compared as strings, so a path recorded on another machine works);
    otherwise :func:`portable_path` of it.

    Args:
        path: a recorded path, e.g. ``/mnt/data/cifar10/cifar10-images.tar.gz``.
        data_root: the folder holding the dataset folders on the machine that
            recorded it (e.g. ``/mnt/data``).

    Returns:
        E.g. ``$ZCLIB_DATA/cifar10/cifar10-images.tar.gz``.
    """
    root = str(data_root).rstrip("/") + "/"
    s = str(path)
    if s.startswith(root):
        return f"${ENV_VAR}/" + s[len(root) :]
    return portable_path(s) if s else s


def rewrite_data_source(table: str | os.PathLike, data_root: str) -> int:
    """Make a score table's recorded data paths relative to its data root, in place.

    Rewrites the ``data_source`` column, the ``data_source`` of the table's
    recorded meta (``attrs["meta"]``) and of its ``<table>.meta.json`` beside it;
    every other column is checked unchanged before the file is replaced.

    Args:
        table: a ``.parquet`` score table.
        data_root: see :func:`data_relative`.

    Returns:
        The number of distinct paths rewritten (0: nothing to do, file untouched).
    """
    import json

    import pandas as pd

    from zclib.fileio import read_parquet, write_parquet_atomic, write_text_atomic

    table = Path(table)
    df = read_parquet(table)
    old = df["data_source"].astype(str)
    new = old.map(lambda p: data_relative(p, data_root))
    changed = int(old[old != new].nunique())
    if not changed:
        return 0
    out = df.copy()
    out["data_source"] = new
    meta = dict(df.attrs.get("meta", {}))
    if "data_source" in meta:
        meta["data_source"] = data_relative(meta["data_source"], data_root)
    out.attrs = {**df.attrs, "meta": meta} if df.attrs else {}
    rest = [c for c in df.columns if c != "data_source"]
    pd.testing.assert_frame_equal(out[rest], df[rest])  # scores unchanged
    write_parquet_atomic(out, table)
    side = table.with_name(table.name + ".meta.json")
    if side.exists():
        m = json.loads(side.read_text())
        if "data_source" in m:
            m["data_source"] = data_relative(m["data_source"], data_root)
            write_text_atomic(json.dumps(m, indent=2), side)  # as the export wrote
    return changed
