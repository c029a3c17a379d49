"""Byte-reproducible results: portable paths, fixed figure metadata, provenance over
the inputs, wall-clock rows kept out of numbers.json, and a notebook run twice.

    .venv/bin/python -m pytest -q tests/test_byte_reproducible.py
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from zclib import notebooks, plotting, provenance, records  # noqa: E402
from zclib.paths import PROJECT_ROOT  # noqa: E402


def test_figures_save_to_the_same_bytes(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    a = plotting.save(fig, tmp_path / "a", "f")
    b = plotting.save(fig, tmp_path / "b", "f")
    plt.close(fig)
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert b"CreationDate" not in a[1].read_bytes()


def test_commit_is_the_last_one_that_changed_the_inputs():
    commit, _ = provenance.git_commit()
    log = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--", *provenance.INPUTS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert commit == log


def test_provenance_hashes_the_data_files_it_names(tmp_path):
    f = tmp_path / "table.csv"
    f.write_text("a,b\n1,2\n")
    rec = provenance.provenance(table=str(f), n=3, other="not a file")
    assert rec["data_sha256"] == {str(f): hashlib.sha256(f.read_bytes()).hexdigest()}
    # a project file is named relative to the project
    rec = provenance.provenance(tables=["pyproject.toml"])
    assert list(rec["data_sha256"]) == ["pyproject.toml"]


def test_data_source_rewritten_relative_to_the_data_root(tmp_path):
    t = tmp_path / "nb201_x.parquet"
    df = pd.DataFrame({"index": [0, 1], "snip": [0.5, float("nan")]})
    df["data_source"] = "/mnt/box/data/cifar10/cifar10-images.tar.gz"
    df.attrs = {"meta": {"data_source": df["data_source"][0], "seed": 0}}
    df.to_parquet(t, index=False)
    side = t.with_name(t.name + ".meta.json")
    side.write_text(json.dumps({"data_source": df["data_source"][0]}))
    assert provenance.rewrite_data_source(t, "/mnt/box/data") == 1
    out = pd.read_parquet(t)
    want = "$ZCLIB_DATA/cifar10/cifar10-images.tar.gz"
    assert set(out["data_source"]) == {want}
    assert out.attrs["meta"] == {"data_source": want, "seed": 0}
    pd.testing.assert_frame_equal(out[["index", "snip"]], df[["index", "snip"]])
    assert json.loads(side.read_text())["data_source"] == want
    assert provenance.rewrite_data_source(t, "/mnt/box/data") == 0  # idempotent


def test_timed_rows_go_to_timings_json(tmp_path):
    rows = [
        {"experiment": "e", "metric": "spearman(snip)", "dataset": "d", "value": 0.5},
        {"experiment": "e", "metric": "cpu_seconds(snip)", "dataset": "d", "value": 2},
    ]
    records.record("nb", rows, {"SEED": 0}, results_dir=tmp_path / "nb")
    _, numbers = records.read_numbers("nb", tmp_path)
    assert list(numbers["metric"]) == ["spearman(snip)"]
    timed = records.read_timings("nb", tmp_path)
    assert list(timed["metric"]) == ["cpu_seconds(snip)"]


def test_a_notebook_run_twice_writes_the_same_bytes(tmp_path, shared_dir):
    """99 (summary: tables, Markdown, figure, numbers) on a fixture root of one
    recorded notebook, twice: every file it writes is byte-identical."""
    src = tmp_path / "02_zico_vs_params"
    rows = [
        {
            "experiment": "x/table",
            "metric": f"kendall_tau({p}, test_acc)",
            "dataset": "cifar10",
            "value": v,
            "published": 0.5,
            "tolerance": 0.05,
        }
        for p, v in (("snip", 0.52), ("synflow", 0.61))
    ]
    records.record("02_zico_vs_params", rows, {"SEED": 0}, results_dir=src)
    out = tmp_path / "99_summary"

    def run() -> dict:
        notebooks.run("99_summary", results_dir=tmp_path)
        return {
            f.name: f.read_bytes()
            for f in sorted(out.iterdir())
            if f.is_file() and f.suffix != ".ipynb"
        }

    first, second = run(), run()
    assert {"summary.md", "summary.csv", "numbers.json"} <= set(first)
    assert "published_vs_reproduced.png" in first
    for name in first:
        assert first[name] == second[name], name
