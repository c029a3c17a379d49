"""The numbers each notebook records: ``results/<notebook>/numbers.json``.

    from zclib import records
    out = records.notebook_dir("01_table_spearman_nb201")   # results/<name>/, created
    records.record("01_table_spearman_nb201", rows, params)  # numbers + provenance
    records.read_numbers("01_table_spearman_nb201")          # (provenance, table)
    records.load_records()                                   # every notebook's numbers

A row is ``experiment, metric, dataset, value`` and, where the paper printed one,
``published`` (+ ``tolerance``), ``stand_in`` (bool), ``note``; NaN/inf are written
as null so the file stays strict JSON. Provenance: :func:`zclib.provenance.provenance`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zclib.fileio import write_text_atomic
from zclib.paths import PROJECT_ROOT, RESULTS_DIR
from zclib.provenance import provenance

# Where a notebook writes when no RESULTS_DIR is given. The Jupyter kernel `zclib`
# (make env) sets it to results/interactive, so that Run All in JupyterLab never
# rewrites the committed results; papermill runs always pass RESULTS_DIR.
RESULTS_ENV_VAR = "ZCLIB_RESULTS_DIR"


def notebook_dir(name: str, results_dir: str | Path | None = None) -> Path:
    """The folder a notebook writes to, created: ``results_dir`` when given, else
    ``$ZCLIB_RESULTS_DIR/<name>/`` (relative to the project; the ``zclib`` kernel
    sets ``results/interactive``), else ``results/<name>/``."""
    env = os.environ.get(RESULTS_ENV_VAR)
    default = (PROJECT_ROOT / env) if env else RESULTS_DIR
    d = Path(results_dir) if results_dir else default / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def record(
    name: str, rows: Sequence[dict], params: dict, results_dir: str | Path | None = None
) -> Path:
    """Write a notebook's key numbers to ``<dir>/numbers.json`` (atomically).

    Each row: ``experiment, metric, dataset, value`` and, where the paper printed
    one, ``published`` (+ ``tolerance``), ``stand_in`` (bool), ``note``.
    """
    rows = [_clean(r) for r in rows]
    for r in rows:
        missing = {"experiment", "metric", "dataset", "value"} - set(r)
        if missing:
            raise ValueError(f"record row {r} lacks {sorted(missing)}")
    payload = {"notebook": name, "provenance": provenance(**params), "numbers": rows}
    path = notebook_dir(name, results_dir) / "numbers.json"
    return write_text_atomic(json.dumps(payload, indent=2, default=_json_default), path)


def read_numbers(
    name: str, results_dir: str | Path | None = None
) -> tuple[dict, pd.DataFrame]:
    """One notebook's ``<results root>/<name>/numbers.json``: (provenance, numbers).

    Raises:
        FileNotFoundError: the notebook has not recorded anything there.
        ValueError: the file belongs to another notebook.
    """
    root = Path(results_dir) if results_dir else RESULTS_DIR
    payload = json.loads((root / name / "numbers.json").read_text())
    if payload.get("notebook") != name:
        raise ValueError(f"{root / name}/numbers.json is {payload.get('notebook')!r}'s")
    return payload["provenance"], pd.DataFrame(payload["numbers"])


def load_records(results_dir: str | Path | None = None) -> pd.DataFrame:
    """All ``numbers.json`` under ``results/`` as one table (column ``notebook``)."""
    root = Path(results_dir) if results_dir else RESULTS_DIR
    frames = []
    for f in sorted(root.glob("*/numbers.json")):
        payload = json.loads(f.read_text())
        df = pd.DataFrame(payload["numbers"])
        df.insert(0, "notebook", payload["notebook"])
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _clean(row: dict) -> dict:
    """JSON-safe values: numpy scalars as Python ones, NaN/inf (numpy or plain) as
    null, so ``numbers.json`` stays strict JSON."""
    return {
        k: _json_default(v) if isinstance(v, np.generic | float) else v
        for k, v in row.items()
    }


def _json_default(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v if isinstance(v, str | int | float | bool | type(None)) else str(v)
