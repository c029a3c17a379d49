"""Resumable chunked results: a folder of Parquet parts guarded by ``run.json``.

    from zclib import chunks
    folder = chunks.open_parts(chunks.parts_dir("s.parquet"), ident)  # s.parquet.parts/
    df = chunks.read_part(chunks.part_path(folder, "part-00000"))  # None: recompute
    chunks.write_part(folder, "part-00000", df)                    # atomic

The one cache of the long jobs: the scorer (:func:`zclib.scoring.score_archs`) and
the training sweep (:func:`zclib.train.sweep`). Its format is settled (version
:data:`FORMAT_VERSION`); a long scoring job resumes folders written by it, so a
change that breaks reading them must bump the version and keep reading version 1.

Format, version 1:

- ``<out>.parts/`` beside the final table ``<out>`` (:func:`parts_dir`).
- ``run.json``: a JSON object, the *identity* of the run (every setting that
  determines the results; the caller decides the keys) plus ``"chunks_format": 1``.
  Written once, atomically, when the folder is first opened; a later run with
  another identity is refused (``ValueError`` naming the keys that differ). A
  ``run.json`` without ``chunks_format`` (written before it was recorded) is
  version 1. A key added to an identity later is given, for older files, the value
  that older runs implied (``legacy``; e.g. the scorer's ``augment: false``, or a
  function of the old record, e.g. the scorer's ``stand_in_name``).
  Identities: the scorer's configuration (:meth:`zclib.scoring.Scorer.config`
  without the data folder) + ``chunk_size`` + ``archs_sha1`` (SHA-1 of the
  newline-joined arch strings); the sweep's ``{"kind": "train-sweep"}`` (each run's
  settings are in its key).
- One chunk per file ``<key>.parquet`` (Parquet, no index): the scorer's keys are
  ``part-00000``, ``part-00001``, ... (the index of the chunk in the arch list);
  the sweep's are each run's :func:`zclib.train.run_key`. Each is written to
  ``.<name>.<pid>.tmp`` and renamed (:func:`zclib.fileio.atomic_path`), so a killed
  run leaves whole chunks only (and possibly dot-prefixed temp files, ignored).
- A chunk that cannot be read (e.g. a truncated copy) is reported with a
  :class:`DamagedChunkWarning` naming the file and treated as missing: the caller
  recomputes it and the rewrite replaces it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa

from zclib.fileio import read_parquet, write_parquet_atomic, write_text_atomic

FORMAT_VERSION = 1  # of the folder layout and run.json; see the module docstring
GUARD = "run.json"  # the identity file in every parts folder
SUFFIX = ".parquet"  # of every chunk file


class DamagedChunkWarning(UserWarning):
    """A chunk file could not be read; it is recomputed."""


def parts_dir(out: str | Path) -> Path:
    """The parts folder of the final table ``out``: ``<out>.parts/``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def part_path(folder: str | Path, key: str) -> Path:
    """The file of chunk ``key``: ``<folder>/<key>.parquet``."""
    return Path(folder) / f"{key}{SUFFIX}"


def open_parts(
    folder: str | Path, ident: Mapping, legacy: Mapping | None = None
) -> Path:
    """Create ``folder`` with its ``run.json``, or check that it belongs to ``ident``.

    Args:
        folder: the parts folder (see :func:`parts_dir`).
        ident: the run's identity (JSON-ready; see the module docstring).
        legacy: values of identity keys that older ``run.json`` files lack; a
            callable value is called with the old record and gives the value.

    Returns:
        ``folder`` as a Path.

    Raises:
        ValueError: the folder holds chunks of another run, or of a newer format.
    """
    folder = Path(folder)
    guard = folder / GUARD
    ident = dict(ident)
    if guard.exists():
        old = json.loads(guard.read_text())
        for key, implied in (legacy or {}).items():
            if key not in old and key in ident:  # only keys this identity has
                old[key] = implied(old) if callable(implied) else implied
        version = old.pop("chunks_format", 1)  # unrecorded before version 1 was named
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{folder} was written in chunk format {version}; this "
                f"zclib reads up to {FORMAT_VERSION}: update zclib"
            )
        if old != ident:
            diff = {
                k: (old.get(k), ident.get(k))
                for k in ident.keys() | old.keys()
                if old.get(k) != ident.get(k)
            }
            raise ValueError(
                f"{folder} holds chunks of a different run ({diff}); delete it or "
                "choose another --out"
            )
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        json.dumps({**ident, "chunks_format": FORMAT_VERSION}, indent=2), guard
    )
    return folder


def read_part(path: str | Path) -> pd.DataFrame | None:
    """One chunk, or None when it is missing or damaged (warned, naming the file)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        warnings.warn(
            f"damaged chunk {path} ({type(exc).__name__}: {exc}); it is recomputed",
            DamagedChunkWarning,
            stacklevel=2,
        )
        return None


def read_parts(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every readable chunk of ``folder`` by key, in key order ({} if no folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    out = {}
    for f in sorted(folder.glob(f"*{SUFFIX}")):
        df = read_part(f)
        if df is not None:
            out[f.name[: -len(SUFFIX)]] = df
    return out


def write_part(folder: str | Path, key: str, df: pd.DataFrame) -> Path:
    """Write chunk ``key`` atomically (replacing a damaged one)."""
    return write_parquet_atomic(df, part_path(folder, key))


def remove_parts(folder: str | Path) -> None:
    """Delete the chunks and ``run.json``, then the folder if nothing else is in it."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for f in folder.glob(f"*{SUFFIX}"):
        f.unlink()
    (folder / GUARD).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # something else in there (a temp file in flight): leave it
        pass
