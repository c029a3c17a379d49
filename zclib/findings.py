"""What the study found, as the front pages say it: counts by status, one
sentence per exhibit, what moved between versions, and ``results/README.md``.

    from zclib import findings
    s = findings.load_summary()                 # results/99_summary/summary.csv
    findings.status_counts(s)                   # {"within": 127, "outside": 35, ...}
    [e.finding for e in findings.exhibits()]    # one sentence per notebook
    findings.moved(findings.summary_at("v0.1.0"), s)   # what CHANGELOG.md lists

Everything comes from data: the counts and findings from the summary notebook's
``99_summary/summary.csv`` (its ``status`` column where it has one, else from
``within``), the titles from the notebooks' title cells, the provenance from each
``numbers.json``. The static site is :mod:`zclib.report`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zclib.paths import PROJECT_ROOT, RESULTS_DIR

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
# the one figure of each exhibit the front pages show (a PNG stem in its folder)
KEY_FIGURES = {
    "00_data_check": "accuracy_hist",
    "01_table_spearman_nb201": "reproduced_vs_published",
    "02_zico_vs_params": "zico_minus_params_bootstrap",
    "03_naswot_correlation": "naswot_vs_accuracy",
    "04_search_course_project": "course_tables_published_vs_ours",
    "05_search_baselines_time_budget": "best_so_far_vs_time",
    "06_search_zero_cost_speedup": "best_so_far_vs_trained_models",
    "07_econas_reduced_training": "fig1_correlation_vs_cost",
    "99_summary": "published_vs_reproduced",
}


SUMMARY = "99_summary"


# statuses in the order the counts are shown (issue 16's among them); any other
# status the summary writes follows these, sorted
STATUS_ORDER = ("within", "consistent within sampling error", "explained")
STATUS_ORDER += ("pending", "outside", "no tolerance")


@dataclass(frozen=True)
class Exhibit:
    """One notebook as the front pages show it.

    Attributes:
        name: notebook stem.
        title: its title cell's first line, without ``# ``.
        finding: one sentence from the summary's rows (or its record count).
        figure: the key figure's PNG under the results root, or None if absent.
        executed: the executed notebook under the results root, or None.
        smoke: the parameters of :data:`zclib.notebooks.SMOKE` it ran with ({}:
            a run at the study's size).
    """

    name: str
    title: str
    finding: str
    figure: Path | None
    executed: Path | None
    smoke: dict


def load_summary(results_dir: str | Path | None = None) -> pd.DataFrame:
    """The summary notebook's table (``<root>/99_summary/summary.csv``) with a
    ``status`` column: the summary's own where it has one, else from ``within``
    (True: within, False: outside, empty: no tolerance).

    Args:
        results_dir: results root (default ``results/``).

    Returns:
        One row per published number; an empty frame if the summary has not run.
    """
    path = Path(results_dir or RESULTS_DIR) / SUMMARY / "summary.csv"
    if not path.exists():
        return pd.DataFrame(columns=["notebook", "status"])
    return _with_status(pd.read_csv(path))


def _with_status(df: pd.DataFrame) -> pd.DataFrame:
    if "status" not in df:
        within = df["within"].astype(str).str.lower().map(_WITHIN)
        df["status"] = within.fillna("no tolerance")
    return df


_WITHIN = {"true": "within", "false": "outside"}  # summary.csv's within column


def status_counts(summary: pd.DataFrame) -> dict[str, int]:
    """Rows per status, in :data:`STATUS_ORDER` (then any other status, sorted);
    statuses with no row are left out.

    Args:
        summary: :func:`load_summary`'s table.

    Returns:
        ``{status: count}``.
    """
    counts = summary["status"].value_counts() if len(summary) else pd.Series()
    order = [s for s in STATUS_ORDER if s in counts]
    order += sorted(s for s in counts.index if s not in STATUS_ORDER)
    return {s: int(counts[s]) for s in order}


def finding(rows: pd.DataFrame, n_recorded: int = 0) -> str:
    """One sentence on how an exhibit's published numbers came out.

    Args:
        rows: the summary's rows of one notebook (:func:`load_summary`).
        n_recorded: numbers the notebook recorded (said when none is compared).

    Returns:
        e.g. "33 published numbers compared: 15 within tolerance, 10 outside and 8
        without a stated tolerance (...); the furthest off is fisher:... on
        cifar10 (ours 0.542, published 0.36)."
    """
    if not len(rows):
        return (
            f"Records {n_recorded} numbers of its own; none has a published "
            "counterpart to compare with."
        )
    counts = status_counts(rows)
    parts = [f"{n} {_status_phrase(s)}" for s, n in counts.items()]
    text = f"{len(rows)} published numbers compared: " + _join(parts)
    n_stand_in = int(rows["stand_in"].fillna(False).astype(bool).sum())
    if n_stand_in:
        text += f" ({n_stand_in} on stand-in data)"
    out = rows[rows["status"] == "outside"]
    if len(out):
        tol = out["tolerance"].astype(float).replace(0, np.nan)
        off = (out["delta"].astype(float).abs() / tol).fillna(0.0)
        worst = out.loc[off.idxmax()]
        text += (
            f"; the furthest off is {worst['metric']} on {worst['dataset']} "
            f"(ours {worst['reproduced']:.3g}, published {worst['published']:.3g})"
        )
    return text + "."


def _status_phrase(status: str) -> str:
    return {
        "within": "within tolerance",
        "outside": "outside",
        "no tolerance": "without a stated tolerance",
    }.get(status, status)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def notebook_title(name: str) -> str:
    """The first line of a notebook's title cell, without ``# ``."""
    nb = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text())
    first = "".join(nb["cells"][0]["source"]).splitlines()[0]
    return first.lstrip("# ").strip()


def exhibits(results_dir: str | Path | None = None) -> list[Exhibit]:
    """Every notebook of the study, in reading order, as the front pages show it.

    Args:
        results_dir: results root (default ``results/``).
    """
    from zclib import notebooks

    root = Path(results_dir or RESULTS_DIR)
    summary = load_summary(root)
    out = []
    for name in notebooks.notebook_names():
        numbers = root / name / "numbers.json"
        n_rec = (
            len(json.loads(numbers.read_text())["numbers"]) if numbers.is_file() else 0
        )
        rows = summary[summary["notebook"] == name]
        if name == SUMMARY:
            text = _summary_sentence(summary)
        else:
            text = finding(rows, n_rec)
        fig = root / name / f"{KEY_FIGURES.get(name, '')}.png"
        executed = root / name / f"{name}.ipynb"
        out.append(
            Exhibit(
                name=name,
                title=notebook_title(name),
                finding=text,
                figure=fig if fig.is_file() else None,
                executed=executed if executed.is_file() else None,
                smoke=smoke_parameters(executed) if executed.is_file() else {},
            )
        )
    return out


def smoke_parameters(executed: Path) -> dict:
    """The smoke sizes (:data:`zclib.notebooks.SMOKE`) an executed notebook was
    given, from the parameters papermill recorded in it ({}: none)."""
    from zclib.notebooks import SMOKE

    nb = json.loads(Path(executed).read_text())
    given = nb.get("metadata", {}).get("papermill", {}).get("parameters", {})
    return {k: v for k, v in given.items() if k in SMOKE and SMOKE[k] == v}


def _summary_sentence(summary: pd.DataFrame) -> str:
    if not len(summary):
        return "The summary has not been run: no published numbers gathered yet."
    counts = status_counts(summary)
    return (
        f"All {len(summary)} published numbers beside ours: "
        + _join([f"{n} {_status_phrase(s)}" for s, n in counts.items()])
        + "."
    )


def provenance_of(name: str, results_dir: str | Path | None = None) -> dict:
    """The provenance ``<root>/<name>/numbers.json`` records ({} if absent)."""
    path = Path(results_dir or RESULTS_DIR) / name / "numbers.json"
    return json.loads(path.read_text())["provenance"] if path.exists() else {}


def readme_markdown(results_dir: str | Path | None = None) -> str:
    """``results/README.md``: counts by status, then every exhibit's key figure
    with its finding, as a code-hosting site shows markdown (paths relative to
    ``results/``).

    Args:
        results_dir: results root (default ``results/``, the committed results).
    """
    root = Path(results_dir or RESULTS_DIR)
    summary = load_summary(root)
    lines = [
        "# Results: published vs reproduced",
        "",
        "Written by `make report` (`python -m zclib report --readme`) from the "
        "committed results; the full table is "
        f"[`{SUMMARY}/summary.md`]({SUMMARY}/summary.md), each notebook's numbers "
        "with provenance are in `<notebook>/numbers.json`. The executed notebooks "
        "are not in git: `make reproduce && make report` builds them as a static "
        "site in `results/report/`.",
        "",
        "| status | numbers |",
        "| --- | ---: |",
        *[f"| {s} | {n} |" for s, n in status_counts(summary).items()],
        "",
    ]
    for ex in exhibits(root):
        lines += [f"## {ex.title}", "", ex.finding, ""]
        if ex.figure is not None:
            rel = ex.figure.relative_to(root).as_posix()
            lines += [f"![{ex.name}: {ex.figure.stem}]({rel})", ""]
        nb = f"notebooks/{ex.name}.ipynb"
        lines += [f"Notebook: [`{nb}`](../{nb})", ""]
    return "\n".join(lines)


def write_readme(results_dir: str | Path | None = None) -> Path:
    """Write :func:`readme_markdown` to ``<root>/README.md``; returns its path."""
    from zclib.fileio import write_text_atomic

    root = Path(results_dir or RESULTS_DIR)
    return write_text_atomic(readme_markdown(root), root / "README.md")


KEY = ["notebook", "experiment", "metric", "dataset"]  # one published number


def moved(old: pd.DataFrame, new: pd.DataFrame, atol: float = 1e-9) -> pd.DataFrame:
    """The published-vs-reproduced rows that changed between two summaries (what
    CHANGELOG.md lists per version): a reproduced value that moved by more than
    ``atol``, a status that changed, or a number compared in only one of them.

    Args:
        old, new: :func:`load_summary` tables (e.g. at a version's tag and now).
        atol: absolute change below which a value has not moved.

    Returns:
        ``KEY`` columns, ``old``/``new`` reproduced value and status, ``change``
        ("moved", "status", "added", "removed"), sorted by ``KEY``.
    """
    cols = [*KEY, "reproduced", "status"]
    m = old[cols].merge(
        new[cols], on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    delta = (m["reproduced_new"] - m["reproduced_old"]).abs()
    m["change"] = np.select(
        [
            m["_merge"] == "left_only",
            m["_merge"] == "right_only",
            m["status_old"] != m["status_new"],
            delta > atol,
        ],
        ["removed", "added", "status", "moved"],
        default="",
    )
    out = m[m["change"] != ""].drop(columns="_merge")
    return out.sort_values(KEY, kind="stable").reset_index(drop=True)


def summary_at(rev: str) -> pd.DataFrame:
    """:func:`load_summary` of the committed ``results/`` at a git revision (a
    version tag ``v0.1.0``, a commit)."""
    import io
    import subprocess

    rel = f"results/{SUMMARY}/summary.csv"
    text = subprocess.run(
        ["git", "show", f"{rev}:{rel}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _with_status(pd.read_csv(io.StringIO(text)))
