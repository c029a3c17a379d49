"""JupyterLab set-up of the study: outputs stripped on save, the ``zclib`` kernel.

    python -m zclib.jupyter install --prefix .venv   # what `make env` runs

:func:`install` writes ``<prefix>/etc/jupyter/jupyter_server_config.d/zclib.json``,
which makes :func:`strip_outputs` Jupyter's pre-save hook: File > Save of a
notebook under the project's ``notebooks/`` folder writes it without outputs,
execution counts or widget state (what ``tests/test_notebooks_stored.py`` asks),
while the open tab keeps showing them. A notebook saved anywhere else (a copy
under ``results/interactive/``) keeps its outputs. The kernel (``ipykernel
install --env ZCLIB_RESULTS_DIR results/interactive``) makes a notebook run
interactively write its figures and ``numbers.json`` under
``results/interactive/<notebook>/`` (git-ignored) instead of the committed
``results/<notebook>/`` (:func:`zclib.records.notebook_dir`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zclib.paths import PROJECT_ROOT

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
HOOK = "zclib.jupyter.strip_outputs"
CONFIG_NAME = "zclib.json"
INTERACTIVE_DIR = "results/interactive"  # where an interactive run writes


def strip(nb: dict) -> dict:
    """``nb`` (a notebook as JSON, changed in place) without outputs, execution
    counts and widget state; returns it."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def strip_outputs(model: dict, path: str, contents_manager, **kwargs) -> None:
    """Jupyter pre-save hook: strip a notebook saved under ``notebooks/``.

    Args:
        model: the contents model being saved (``type``, ``content``).
        path: its API path, relative to the server's root.
        contents_manager: the server's contents manager (its ``root_dir``).
    """
    if model.get("type") != "notebook" or not model.get("content"):
        return
    file = (Path(contents_manager.root_dir) / path).resolve()
    if NOTEBOOK_DIR.resolve() in file.parents:
        strip(model["content"])


def install(prefix: str | Path = sys.prefix) -> Path:
    """Write the server config that sets :func:`strip_outputs` as the pre-save
    hook.

    Args:
        prefix: the environment's prefix (``.venv``).

    Returns:
        The config file written.
    """
    d = Path(prefix) / "etc" / "jupyter" / "jupyter_server_config.d"
    d.mkdir(parents=True, exist_ok=True)
    cfg = {"ContentsManager": {"pre_save_hook": HOOK}}
    (d / CONFIG_NAME).write_text(json.dumps(cfg, indent=2) + "\n")
    return d / CONFIG_NAME


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m zclib.jupyter install [--prefix P]``."""
    ap = argparse.ArgumentParser(prog="python -m zclib.jupyter")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install", help="strip notebooks/ outputs on save")
    p.add_argument("--prefix", default=sys.prefix)
    args = ap.parse_args(argv)
    print(f"[jupyter] pre-save hook: {install(args.prefix)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
