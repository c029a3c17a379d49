"""Run the study's notebooks headless with papermill, in reading order.

    python -m zclib notebooks                 # all, default parameters (make reproduce)
    python -m zclib notebooks --smoke         # all, tiny size (make smoke, the tests)
    python -m zclib notebooks --only 01_table_spearman_nb201 --smoke

Each notebook ``notebooks/NN_name.ipynb`` runs with the ``zclib`` kernel (falls back
to ``python3`` when that kernel is not registered); the executed copy goes to
``<results>/<name>/<name>.ipynb`` next to the figures and ``numbers.json`` it writes.
Smoke sizes live in one place, :data:`SMOKE`, applied to the parameters each
notebook declares.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from zclib.paths import PROJECT_ROOT, RESULTS_DIR

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
# Tiny sizes for CI: every notebook must honour these parameter names when it has them.
SMOKE = {
    "N_ARCHS": 40,
    "N_BOOT": 20,
    "N_RUNS": 3,
    "MELLOR_RUNS": 3,  # 04: Mellor et al. Table 2a runs (paper: 500)
    "COURSE_RS_RUNS": 3,  # 04: course tabulation, random-search runs (theirs: 30)
    "COURSE_REA_RUNS": 2,  # 04: course tabulation, REA runs (theirs: 10)
    "SUITE_N": 50,  # 01, 02: cells of the full-space suite job (default 1,000)
    "SMOKE": True,
}


def notebook_names() -> list[str]:
    """Notebook stems in reading order (the NN_ prefix sorts them)."""
    return sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


class MissingExtraError(ImportError):
    """The ``[notebooks]`` extra (papermill, Jupyter) is not installed."""


def _notebook_tools():
    """papermill, nbformat: the ``[notebooks]`` extra, imported here and not at
    module top because the library itself does not need them."""
    try:
        import nbformat
        import papermill
    except ImportError as exc:
        raise MissingExtraError(
            f"running notebooks needs the [notebooks] extra ({exc.name} is missing): "
            "pip install -e '.[notebooks]' (make env installs it)"
        ) from None
    return papermill, nbformat


def _kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager  # [notebooks] extra

    return "zclib" if "zclib" in KernelSpecManager().find_kernel_specs() else "python3"


def declared_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters``."""
    _, nbformat = _notebook_tools()
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse(cell.source)
            return {
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
    raise ValueError(f"{path} has no cell tagged 'parameters'")


def run(
    name: str,
    smoke: bool = False,
    results_dir: str | Path | None = None,
    params: dict | None = None,
) -> Path:
    """Execute one notebook; returns the executed copy's path.

    Args:
        name: notebook stem, e.g. ``"01_table_spearman_nb201"``.
        smoke: apply :data:`SMOKE` sizes (those the notebook declares).
        results_dir: root for outputs (default ``results/``); the notebook writes to
            ``<results_dir>/<name>/`` through its ``RESULTS_DIR`` parameter.
        params: further parameter overrides.
    """
    pm, _ = _notebook_tools()
    src = NOTEBOOK_DIR / f"{name}.ipynb"
    if not src.exists():
        raise FileNotFoundError(f"no notebook {src}; have {notebook_names()}")
    declared = declared_parameters(src)
    # absolute: the notebook runs in notebooks/, a relative path would land there
    root = Path(results_dir).absolute() if results_dir else RESULTS_DIR
    out_dir = root / name
    out_dir.mkdir(parents=True, exist_ok=True)
    p = {k: v for k, v in SMOKE.items() if k in declared} if smoke else {}
    p.update(params or {})
    if "RESULTS_DIR" in declared:
        p["RESULTS_DIR"] = _param_path(out_dir)
    if "RESULTS_ROOT" in declared:
        p["RESULTS_ROOT"] = _param_path(root)
    dest = out_dir / f"{name}.ipynb"
    pm.execute_notebook(
        str(src),
        str(dest),
        parameters=p,
        kernel_name=_kernel(),
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
    )
    return dest


def _param_path(path: Path) -> str:
    """A folder as the injected parameters cell shows it: relative to notebooks/
    (the kernel's working directory) inside the project, so an executed copy shows
    no machine's absolute path; absolute outside it (a temporary folder)."""
    path = Path(path).absolute()
    if PROJECT_ROOT == path or PROJECT_ROOT in path.parents:
        return os.path.relpath(path, NOTEBOOK_DIR)
    return str(path)


def _arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    ap.add_argument("--only", nargs="*", help="notebook stems to run")
    ap.add_argument("--results-dir", default=None)
    return ap


def _cmd_notebooks(args: argparse.Namespace) -> int:
    names = args.only or notebook_names()
    for name in names:
        t0 = time.time()
        print(f"[notebooks] {name} ...", file=sys.stderr, flush=True)
        dest = run(name, smoke=args.smoke, results_dir=args.results_dir)
        print(
            f"[notebooks] {name} done in {time.time() - t0:.0f} s -> {dest}",
            file=sys.stderr,
            flush=True,
        )
    return 0


def add_cli(sub) -> None:
    """Register ``notebooks`` with the ``python -m zclib`` parser."""
    nb = sub.add_parser("notebooks", help="run the notebooks headless (papermill)")
    _arguments(nb).set_defaults(func=_cmd_notebooks)


def main(argv: list[str] | None = None) -> int:
    """CLI (``python -m zclib.notebooks``): run notebooks in order, report the time
    each took."""
    return _cmd_notebooks(
        _arguments(argparse.ArgumentParser(prog="zclib notebooks")).parse_args(argv)
    )


if __name__ == "__main__":
    sys.exit(main())
