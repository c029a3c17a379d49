"""Grade a folder of submissions with ``otter run``: grades.csv and feedback.

    python -m zclib.course grade SUBMISSIONS --out course/grades

``SUBMISSIONS`` holds one folder per student, named after the student, with the
notebooks named as released (``alice/01_rank_correlation.ipynb``, ...). Each
notebook is graded by ``otter run`` against ``<name>-autograder.zip`` of the
release (non-containerised: the notebook runs in this environment, so zclib and
torch must be installed here; ``otter grade`` is not used: it needs Docker and
downloads at set-up). ``otter run`` exits 0 whatever the score, so the points are
read from its ``results.json``.

Written under ``out``:

* ``grades.csv``: one row per student, ``student``, one column of points per
  ``<assignment>/<question>``, ``total``; a missing notebook scores 0;
* ``max_points.csv``: the one row of what each column can reach;
* ``feedback/<student>/<assignment>.json`` (otter's results.json) and ``.txt``
  (each question's points and test output, hidden tests included: hand it out
  after the deadline).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from zclib.course.release import AUTOGRADER_DIR, RELEASE_DIR

PUBLIC = "Public Tests"  # otter's summary entry of the public tests (no points)


def grade_one(notebook: str | Path, autograder_zip: str | Path) -> dict:
    """Grade one notebook with ``otter run`` and return its ``results.json``.

    Args:
        notebook: the submitted ``.ipynb``.
        autograder_zip: the assignment's ``<name>-autograder.zip``.

    Returns:
        otter's results: ``{"tests": [{"name", "score", "max_score", "output",
        ...}, ...]}``, one entry per question plus a "Public Tests" summary.
    """
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "otter",
            "run",
            "--no-logo",
            "-a",
            str(Path(autograder_zip).resolve()),
            "-o",
            tmp,
            str(Path(notebook).resolve()),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        path = Path(tmp) / "results.json"
        if proc.returncode != 0 or not path.exists():
            raise RuntimeError(
                f"otter run failed on {notebook} (exit {proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return json.loads(path.read_text())


def _grade_if_there(notebook: Path, autograder_zip: Path) -> dict | None:
    """:func:`grade_one`, or None for a notebook that was not submitted."""
    return grade_one(notebook, autograder_zip) if notebook.exists() else None


def question_points(results: dict) -> dict[str, tuple[float, float]]:
    """``{question: (score, max_score)}`` from an otter results.json."""
    return {
        t["name"]: (float(t["score"]), float(t["max_score"]))
        for t in results["tests"]
        if t["name"] != PUBLIC
    }


def _feedback_text(student: str, name: str, results: dict | None) -> str:
    if results is None:
        return f"{student} / {name}: not submitted (0 points)\n"
    points = question_points(results)
    got = sum(s for s, _ in points.values())
    top = sum(m for _, m in points.values())
    lines = [f"{student} / {name}: {got:g} / {top:g} points", ""]
    for t in results["tests"]:
        if t["name"] == PUBLIC:
            continue
        lines += [
            f"## {t['name']}: {t['score']:g} / {t['max_score']:g}",
            t["output"],
            "",
        ]
    return "\n".join(lines)


def grade(
    submissions: str | Path,
    release: str | Path = RELEASE_DIR,
    out: str | Path | None = None,
    jobs: int = 1,
) -> pd.DataFrame:
    """Grade every student folder of ``submissions`` on every released assignment.

    Args:
        submissions: one folder per student holding ``<assignment>.ipynb`` files.
        release: the release :func:`zclib.course.build` wrote.
        out: output folder (default: ``submissions``' sibling ``grades``).
        jobs: notebooks graded at once (each in its own ``otter run`` process and
            kernel; about one per CPU core).

    Returns:
        The grades table written to ``out/grades.csv`` (one row per student).
    """
    submissions, release = Path(submissions), Path(release)
    out = Path(out) if out else submissions.parent / "grades"
    graders = release / AUTOGRADER_DIR
    names = (
        sorted(p.name for p in graders.iterdir() if p.is_dir())
        if graders.exists()
        else []
    )
    if not names:
        raise FileNotFoundError(f"no autograder under {release}: run make course")
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    if not students:
        raise FileNotFoundError(f"no student folders in {submissions}")
    clean(out)
    todo = [
        (student, name, submissions / student / f"{name}.ipynb")
        for student in students
        for name in names
    ]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # otter runs
        done = pool.map(
            lambda t: _grade_if_there(t[2], graders / t[1] / f"{t[1]}-autograder.zip"),
            todo,
        )
        results_of = {(s, n): r for (s, n, _), r in zip(todo, done, strict=True)}
    maxima: dict[str, float] = {}
    rows = []
    for student in students:
        row: dict[str, float | str] = {"student": student}
        fb = out / "feedback" / student
        fb.mkdir(parents=True, exist_ok=True)
        for name in names:
            results = results_of[student, name]
            if results is not None:
                (fb / f"{name}.json").write_text(json.dumps(results, indent=1))
                for q, (score, top) in question_points(results).items():
                    row[f"{name}/{q}"] = score
                    maxima[f"{name}/{q}"] = top
            (fb / f"{name}.txt").write_text(_feedback_text(student, name, results))
        rows.append(row)
    if not maxima:
        raise RuntimeError("no submission could be graded, so no question is known")
    cols = sorted(maxima)
    df = pd.DataFrame(rows).reindex(columns=["student", *cols]).fillna(0.0)
    df["total"] = df[cols].sum(axis=1)
    top = pd.DataFrame([{**maxima, "total": sum(maxima.values())}])
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "grades.csv", index=False)
    top.to_csv(out / "max_points.csv", index=False)
    return df


def clean(out: str | Path) -> None:
    """Remove an earlier grading output (grades.csv, max_points.csv, feedback/)."""
    out = Path(out)
    for f in ("grades.csv", "max_points.csv"):
        (out / f).unlink(missing_ok=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
