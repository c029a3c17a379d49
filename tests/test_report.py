"""The static report, results/README.md, the Jupyter set-up (no browser here).

    .venv/bin/python -m pytest -q tests/test_report.py

The front pages' data (counts, findings, README) come from zclib.findings; the
pages are checked in a real browser by tests/test_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from zclib import findings, jupyter, notebooks, plotting, records, report
from zclib.paths import PROJECT_ROOT, RESULTS_DIR

# a 1x1 PNG, as an image output of an executed notebook
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
    "AABJRU5ErkJggg=="
)


def _summary_csv(root: Path, rows: list[dict]) -> None:
    (root / findings.SUMMARY).mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / findings.SUMMARY / "summary.csv", index=False)


def _row(nb, metric, reproduced, published, tol, within, stand_in=False):
    return {
        "notebook": nb,
        "experiment": "e",
        "metric": metric,
        "dataset": "cifar10",
        "published": published,
        "reproduced": reproduced,
        "delta": reproduced - published,
        "tolerance": tol,
        "within": within,
        "stand_in": stand_in,
        "note": "",
    }


def _executed(root: Path, name: str, smoke: bool, error: bool = False) -> Path:
    """A stand-in for an executed notebook: a figure, a widget bar, provenance."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": dict(notebooks.SMOKE) if smoke else {}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    cell = nbformat.v4.new_code_cell("plot()", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG}),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "decoding images: 100%",
            },
        ),
    ]
    if error:
        cell.outputs.append(
            nbformat.v4.new_output(
                "error", ename="ValueError", evalue="boom", traceback=["ValueError"]
            )
        )
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, d / f"{name}.ipynb")
    records.record(name, [], {"DEVICE": "cpu", "SEED": 0}, results_dir=d)
    (d / f"{findings.KEY_FIGURES[name]}.png").write_bytes(b"png")
    return d / f"{name}.ipynb"


def test_status_from_within_and_counts(tmp_path):
    nb = "01_table_spearman_nb201"
    _summary_csv(
        tmp_path,
        [
            _row(nb, "a", 0.5, 0.5, 0.03, True),
            _row(nb, "b", 0.9, 0.5, 0.03, False),
            _row(nb, "c", 0.6, 0.5, 0.03, False),
            _row(nb, "d", 0.6, 0.5, None, None, stand_in=True),
        ],
    )
    s = findings.load_summary(tmp_path)
    assert list(s["status"]) == ["within", "outside", "outside", "no tolerance"]
    assert findings.status_counts(s) == {"within": 1, "outside": 2, "no tolerance": 1}
    text = findings.finding(s)
    assert text.startswith("4 published numbers compared: 1 within tolerance, 2 ")
    assert "(1 on stand-in data)" in text
    assert "furthest off is b on cifar10 (ours 0.9, published 0.5)" in text


def test_summary_status_column_wins(tmp_path):
    row = _row("04_search_course_project", "a", 1.0, 0.0, 0.1, False)
    _summary_csv(tmp_path, [{**row, "status": "explained"}])
    s = findings.load_summary(tmp_path)
    assert findings.status_counts(s) == {"explained": 1}
    assert "outside" not in findings.finding(s)


def test_finding_without_published_numbers():
    empty = pd.DataFrame(columns=["notebook", "status"])
    assert findings.finding(empty, 24).startswith("Records 24 numbers")


def test_build_offline_pages_with_provenance(tmp_path):
    root, out = tmp_path / "results", tmp_path / "site"
    _summary_csv(root, [_row("01_table_spearman_nb201", "a", 0.5, 0.5, 0.03, True)])
    _executed(root, "01_table_spearman_nb201", smoke=False)
    _executed(root, "00_data_check", smoke=False)
    index = report.build(root, out)
    pages = sorted(p.name for p in (out / "notebooks").glob("*.html"))
    assert pages == ["00_data_check.html", "01_table_spearman_nb201.html"]
    front = index.read_text()
    assert "<td>within</td><td>1</td>" in front
    for ex in ("00_data_check", "01_table_spearman_nb201"):
        src = f"figures/{ex}/{findings.KEY_FIGURES[ex]}.png"
        assert f'src="{src}"' in front and (out / src).is_file()
        assert f'href="notebooks/{ex}.html"' in front
    assert "(not executed: no page)" in front  # 02 ... have no executed copy
    assert "Smoke run" not in front
    for page in [index, *(out / "notebooks").glob("*.html")]:
        text = page.read_text()
        assert 'class="zclib-prov"' in text and "report built at commit" in text
        if page != index:  # the front page's numbers are 99_summary's (absent)
            assert "numbers recorded at commit" in text and "<b>device</b>: cpu" in text
        tags = re.findall(r"<(?:script|link|img)\b[^>]*>", text)
        assert not [t for t in tags if re.search(r"(src|href)=\"(https?:)?//", t)]
    nb_page = (out / "notebooks" / "00_data_check.html").read_text()
    assert "require.js" not in nb_page and "mathjax" not in nb_page.lower()
    assert "decoding images: 100%" in nb_page  # the widget's text form
    assert "data:image/png;base64" in nb_page
    assert 'class="zclib-cell-error"' not in nb_page


def test_smoke_and_error_pages_are_marked(tmp_path):
    root, out = tmp_path / "results", tmp_path / "site"
    _executed(root, "00_data_check", smoke=True, error=True)
    report.build(root, out)
    page = (out / "notebooks" / "00_data_check.html").read_text()
    assert "Smoke run" in page and "Smoke run" in (out / "index.html").read_text()
    assert page.count('class="zclib-cell-error"') == 1


def test_build_keeps_screenshots_only(tmp_path):
    root, out = tmp_path / "results", tmp_path / "site"
    _executed(root, "00_data_check", smoke=False)
    (out / "screenshots").mkdir(parents=True)
    (out / "screenshots" / "front.png").write_bytes(b"x")
    (out / "stale.html").write_text("old")
    report.build(root, out)
    assert (out / "screenshots" / "front.png").exists()
    assert not (out / "stale.html").exists()


def test_committed_readme_embeds_every_key_figure():
    """results/README.md shows each exhibit's committed figure and finding
    (regenerate with `python -m zclib report --readme` when results change)."""
    readme = (RESULTS_DIR / "README.md").read_text()
    for ex in findings.exhibits():
        assert f"## {ex.title}" in readme
        if ex.figure is not None:
            rel = ex.figure.relative_to(RESULTS_DIR).as_posix()
            assert f"]({rel})" in readme and (RESULTS_DIR / rel).is_file()
    for s, n in findings.status_counts(findings.load_summary()).items():
        assert f"| {s} | {n} |" in readme
    stale = "stale: python -m zclib report --readme"
    assert readme == findings.readme_markdown(), stale


class _Manager:
    root_dir = str(PROJECT_ROOT)


def _nb_model():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"state": {}}
    return {"type": "notebook", "content": json.loads(nbformat.writes(nb))}


def test_save_hook_strips_only_notebooks_folder():
    model = _nb_model()
    jupyter.strip_outputs(model, "notebooks/00_data_check.ipynb", _Manager())
    cell = model["content"]["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "widgets" not in model["content"]["metadata"]
    kept = _nb_model()
    jupyter.strip_outputs(kept, "results/interactive/x/x.ipynb", _Manager())
    assert kept["content"]["cells"][0]["outputs"]


def test_install_writes_server_config(tmp_path):
    cfg = json.loads(jupyter.install(tmp_path).read_text())
    assert cfg["ContentsManager"]["pre_save_hook"] == jupyter.HOOK
    from jupyter_server.services.contents.filemanager import FileContentsManager

    assert FileContentsManager(pre_save_hook=jupyter.HOOK).pre_save_hook is (
        jupyter.strip_outputs
    )


def test_interactive_runs_write_under_the_env_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(records.RESULTS_ENV_VAR, str(tmp_path / "interactive"))
    assert records.notebook_dir("00_data_check") == tmp_path / "interactive" / (
        "00_data_check"
    )
    assert records.notebook_dir("x", tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv(records.RESULTS_ENV_VAR)
    assert records.notebook_dir("00_data_check") == RESULTS_DIR / "00_data_check"


def test_counts_display_as_integers():
    with pd.option_context("display.precision", 3):
        assert plotting.display_float(15625.0) == "15625"
        assert plotting.display_float(0.5141) == "0.514"
        assert plotting.display_float(10.0) == "10.000"
        assert plotting.display_float(3.2e-7) == "3.20e-07"
        assert plotting.display_float(float("nan")) == "nan"


def test_injected_result_paths_are_relative_inside_the_project(tmp_path):
    inside = notebooks._param_path(RESULTS_DIR / "smoke" / "00_data_check")
    assert inside == "../results/smoke/00_data_check"
    assert notebooks._param_path(tmp_path) == str(tmp_path)


@pytest.mark.parametrize("name", notebooks.notebook_names())
def test_every_notebook_has_a_key_figure(name):
    assert name in findings.KEY_FIGURES


def test_moved_lists_changed_numbers_and_statuses():
    nb = "04_search_course_project"
    old = findings._with_status(
        pd.DataFrame(
            [
                _row(nb, "same", 0.5, 0.5, 0.1, True),
                _row(nb, "moved", 0.5, 0.5, 0.1, True),
                _row(nb, "flip", 0.55, 0.5, 0.1, True),
                _row(nb, "gone", 0.5, 0.5, 0.1, True),
            ]
        )
    )
    new = findings._with_status(
        pd.DataFrame(
            [
                _row(nb, "same", 0.5, 0.5, 0.1, True),
                _row(nb, "moved", 0.52, 0.5, 0.1, True),
                _row(nb, "flip", 0.65, 0.5, 0.1, False),
                _row(nb, "new", 0.5, 0.5, 0.1, True),
            ]
        )
    )
    diff = findings.moved(old, new)
    assert dict(zip(diff["metric"], diff["change"], strict=True)) == {
        "flip": "status",
        "gone": "removed",
        "moved": "moved",
        "new": "added",
    }
    assert findings.moved(old, old).empty


def test_citation_and_changelog_name_the_version():
    import tomllib

    import yaml

    version = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "version"
    ]
    cff = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == version
    titles = [r["title"] for r in cff["references"]]
    assert any("Zero-Cost Proxies" in t for t in titles)
    assert any("ZiCo" in t for t in titles)
    assert any("Training Free Neural Architecture Search" in t for t in titles)
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text()
    assert f"## v{version}" in changelog
