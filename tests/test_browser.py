"""The static report in headless Chromium: every page loads without a console
error, every image decodes, every internal link resolves, no cell raised.

    make test-browser      # this file and tests/test_jupyterlab.py

Built from the committed results (numbers, summary, figures) plus one notebook
executed at smoke size (00_data_check, ~25 s here), so it runs without `make
reproduce`. The three checks take ~35 s together here (2 busy cores). Skipped
when Debian's chromium or the [browser] extra is missing (`make chromium`),
or without ../shared (the notebook reads the NATS-Bench data).
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from zclib import browser, findings, notebooks, report
from zclib.paths import RESULTS_DIR

pytestmark = pytest.mark.browser
EXECUTED = "00_data_check"


@pytest.fixture(scope="module")
def results_root(tmp_path_factory, chromium, shared_dir):
    """Committed numbers, summary and key figures, and one executed notebook
    (it reads the NATS-Bench data: skipped without ../shared)."""
    root = tmp_path_factory.mktemp("results")
    for name in notebooks.notebook_names():
        src, dest = RESULTS_DIR / name, root / name
        dest.mkdir()
        for f in ["numbers.json", "summary.csv", f"{findings.KEY_FIGURES[name]}.png"]:
            if (src / f).is_file():
                shutil.copyfile(src / f, dest / f)
    notebooks.run(EXECUTED, smoke=True, results_dir=root)
    return root


def _site(results_root, tmp_path):
    report.build(results_root, tmp_path / "site")
    return tmp_path / "site"


def test_every_page_passes_and_screenshots_are_saved(results_root, tmp_path):
    site = _site(results_root, tmp_path)
    checks = browser.check_site(site)
    assert [c.path.name for c in checks] == ["index.html", f"{EXECUTED}.html"]
    for c in checks:
        assert c.problems == [], c.path
        assert c.n_images >= 1 and c.n_links >= 1
    front = checks[0]
    assert front.n_images == len(notebooks.notebook_names())  # one key figure each
    for shot in ("front.png", "notebook.png"):
        assert (site / "screenshots" / shot).stat().st_size > 10_000


def test_a_deleted_image_fails(results_root, tmp_path):
    site = _site(results_root, tmp_path)
    (
        site / "figures" / "02_zico_vs_params" / "zico_minus_params_bootstrap.png"
    ).unlink()
    front = browser.check_site(site, screenshots=False)[0]
    assert any("image not decoded" in p for p in front.problems), front.problems
    assert any("console" in p for p in front.problems)  # the failed load


def test_a_cell_that_raised_fails(results_root, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(results_root, root)
    path = root / EXECUTED / f"{EXECUTED}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and c.outputs)
    code.outputs.append(  # what papermill leaves in the cell that raised
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="boom", traceback=["ValueError: boom"]
        )
    )
    nbformat.write(nb, path)
    checks = browser.check_site(_site(root, tmp_path), screenshots=False)
    assert checks[0].problems == []
    assert checks[1].problems == ["1 cell(s) with an error output"]
