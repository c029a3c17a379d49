"""Every notebook in notebooks/ is stored as the study's conventions require.

    .venv/bin/python -m pytest -q tests/test_notebooks_stored.py

No outputs or execution counts in git, the project kernel, a title cell, then a
cell tagged ``parameters`` of literal upper-case assignments each with a comment,
the parameters papermill and ``make smoke`` rely on, and a last cell that records
the notebook's numbers. Runs in a second; the smoke runs are in tests/test_nb_*.py.
"""

from __future__ import annotations

import ast

import nbformat
import pytest

from zclib import notebooks

NAMES = notebooks.notebook_names()
ALWAYS = {"SEED", "RESULTS_DIR"}  # every notebook declares these
# a notebook declaring a size knob must call it by its SMOKE name
SIZE_KNOBS = set(notebooks.SMOKE)


def test_every_notebook_is_checked():
    assert len(NAMES) >= 8 and NAMES[0].startswith("00_")


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name):
    nb = nbformat.read(notebooks.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [], f"{name}: a code cell has stored outputs"
        assert cell.execution_count is None, f"{name}: a cell has an execution count"
    assert nb.metadata.kernelspec.name == "zclib"


@pytest.mark.parametrize("name", NAMES)
def test_title_then_literal_commented_parameters(name):
    path = notebooks.NOTEBOOK_DIR / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = nb.cells[1]
    assert "parameters" in params.metadata.get("tags", [])
    declared = notebooks.declared_parameters(path)
    assert ALWAYS <= declared, ALWAYS - declared
    assert declared & SIZE_KNOBS or name == "99_summary", f"{name}: no size knob"
    for node in ast.parse(params.source).body:
        assert isinstance(node, ast.Assign), f"{name}: not an assignment: {node}"
        (target,) = node.targets
        assert target.id.isupper(), f"{name}: parameter {target.id} not upper-case"
        ast.literal_eval(node.value)  # literal values only (papermill overrides them)
    for line in params.source.splitlines():
        if line.strip():
            assert "  # " in line, f"{name}: uncommented parameter: {line}"


@pytest.mark.parametrize("name", NAMES)
def test_last_code_cell_records_numbers(name):
    nb = nbformat.read(notebooks.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert "records.record(" in last.source


@pytest.mark.parametrize("name", NAMES)
def test_papermill_sees_every_parameter(name):
    """papermill parses the parameters cell with a regex that gives up on a line
    whose comment holds ' = ' (the parameter is then 'unknown' and only injected
    with a warning); every declared parameter must be one papermill recognises."""
    import papermill as pm

    path = notebooks.NOTEBOOK_DIR / f"{name}.ipynb"
    assert set(pm.inspect_notebook(str(path))) == notebooks.declared_parameters(path)


MAX_CODE_LINES = 200  # a notebook reads as its exhibit; logic lives in zclib


@pytest.mark.parametrize("name", NAMES)
def test_thin_no_functions_or_classes(name):
    """No ``def``/``class``/``lambda`` in a notebook and at most MAX_CODE_LINES code
    lines: what a second notebook (or a test) would need belongs in zclib."""
    nb = nbformat.read(notebooks.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    for src in code:
        for node in ast.walk(ast.parse(src)):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{name}: {type(node).__name__} at line {node.lineno} of:\n{src}"
    n_lines = sum(len(src.splitlines()) for src in code)
    assert n_lines <= MAX_CODE_LINES, f"{name}: {n_lines} code lines"
