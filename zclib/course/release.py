"""Build the course release: ``otter assign`` on every master, deterministic zips.

    python -m zclib.course build                # all masters -> course/release/
    python -m zclib.course build --only 01_rank_correlation

Layout written (``release`` is ``course/release/`` unless given; wiped first):

* ``release/student/<name>/<name>.ipynb`` and the data files the master lists
  (what students get; no solutions, no hidden tests);
* ``release/autograder/<name>/<name>.ipynb`` (the solution notebook),
  ``<name>-autograder.zip`` (what :func:`zclib.course.grade` uses) and the data.

otter names the zip ``<name>-autograder_<timestamp>.zip`` and stamps every entry
with the build time; :func:`deterministic_zip` renames it and rewrites it with
sorted entries and a fixed timestamp (1980-01-01), and :func:`stable_cell_ids`
replaces the random ids of the cells otter inserts, so that rebuilding an unchanged
master gives the same bytes (checked once for the zip of 03_search). ``otter
assign`` runs the master's tests against its solutions and fails when they do not
all pass (its ``run_tests``, on by default).
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from zclib.paths import PROJECT_ROOT

COURSE_DIR = PROJECT_ROOT / "course"
MASTERS_DIR = COURSE_DIR / "masters"
RELEASE_DIR = COURSE_DIR / "release"  # git-ignored: `make course` writes it
STUDENT_DIR = "student"
AUTOGRADER_DIR = "autograder"
# Tiny sizes for CI and the tests (each master declares these in its parameters
# cell): seconds per notebook instead of a minute or two.
SMOKE = {"N_ARCHS": 6, "N_RUNS": 3}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def assignment_names(masters: str | Path = MASTERS_DIR) -> list[str]:
    """Master notebook stems in order (``NN_name``)."""
    return sorted(p.stem for p in Path(masters).glob("[0-9][0-9]_*.ipynb"))


def deterministic_zip(src: str | Path, dest: str | Path) -> Path:
    """Rewrite the zip ``src`` as ``dest``: sorted entries, fixed timestamps and
    permissions, deflate level 9, so that equal contents give equal bytes.

    Args:
        src: a zip file (otter's autograder zip).
        dest: where to write; may not be ``src``.

    Returns:
        ``dest`` as a Path.
    """
    src, dest = Path(src), Path(dest)
    if src.resolve() == dest.resolve():
        raise ValueError("deterministic_zip writes a new file: dest must differ")
    with zipfile.ZipFile(src) as zin:
        entries = sorted(
            (i.filename, zin.read(i)) for i in zin.infolist() if not i.is_dir()
        )
    with zipfile.ZipFile(dest, "w") as zout:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            # run_autograder is executed by otter's containers: keep it executable
            mode = 0o755 if name == "run_autograder" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zout.writestr(info, payload, compresslevel=9)
    return dest


def with_parameters(source: str, values: dict) -> str:
    """A parameters cell's source with the given names set to new literal values.

    Each ``NAME = value  # comment`` line whose NAME is in ``values`` keeps its
    comment; names the cell does not declare are ignored.

    Args:
        source: the cell source (literal assignments, one per line).
        values: ``{NAME: new value}`` (anything ``repr`` writes as a literal).

    Returns:
        The new source.
    """
    lines = source.splitlines()
    for node in ast.parse(source).body:
        name = node.targets[0].id if isinstance(node, ast.Assign) else None
        if name in values:
            line = lines[node.lineno - 1]
            comment = line[line.index("  # ") :] if "  # " in line else ""
            lines[node.lineno - 1] = f"{name} = {values[name]!r}{comment}"
    return "\n".join(lines)


def stable_cell_ids(path: str | Path) -> None:
    """Give every cell of a notebook an id derived from its position and source.

    otter inserts cells (its init and check cells) with random ids, so two builds
    of one master would differ in them; these ids make the output reproducible.
    """
    import nbformat  # [notebooks] extra

    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        digest = hashlib.sha1(f"{i}\n{cell.source}".encode()).hexdigest()
        cell["id"] = digest[:8]
    nbformat.write(nb, path)


def _stage(masters: Path, name: str, dest: Path, smoke: bool) -> Path:
    """Copy one master and the masters' other files (data/) into ``dest``, with
    the parameters cell set to :data:`SMOKE` when ``smoke``; otter assign reads
    the data files it lists relative to the master, and names its outputs after
    it, so the copy keeps the name. Returns the copied master."""
    import nbformat  # [notebooks] extra

    shutil.copytree(
        masters, dest, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints")
    )
    nb = nbformat.read(masters / f"{name}.ipynb", as_version=4)
    if smoke:
        for cell in nb.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = with_parameters(cell.source, SMOKE)
    nbformat.write(nb, dest / f"{name}.ipynb")
    return dest / f"{name}.ipynb"


def _assign(master: Path, out: Path) -> None:
    """``otter assign master out`` with this interpreter, output kept for errors."""
    cmd = [sys.executable, "-m", "otter", "assign", master.name, str(out)]
    proc = subprocess.run(
        cmd, cwd=master.parent, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"otter assign failed for {master.name} (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def build(
    masters: str | Path = MASTERS_DIR,
    release: str | Path = RELEASE_DIR,
    only: Sequence[str] | None = None,
    smoke: bool = False,
) -> dict[str, dict[str, Path]]:
    """Run ``otter assign`` on the masters and lay out the release.

    Args:
        masters: folder of ``NN_name.ipynb`` masters (and the data they list).
        release: output folder; wiped first when it holds an earlier release
            (a folder with anything else in it is refused).
        only: assignment names to build (default: all).
        smoke: release with the :data:`SMOKE` sizes as the parameters' defaults
            (for CI: otter assign runs each solution at that size, seconds instead
            of a minute or two; the students' copies then default to it too).

    Returns:
        ``{name: {"student": notebook, "solution": notebook, "zip": zip}}``.
    """
    masters, release = Path(masters), Path(release)
    names = assignment_names(masters)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"no master {unknown}; have {names}")
        names = [n for n in names if n in only]
    if release.exists():
        extra = {p.name for p in release.iterdir()} - {STUDENT_DIR, AUTOGRADER_DIR}
        if extra:
            raise ValueError(f"{release} holds more than a release: {sorted(extra)}")
        shutil.rmtree(release)
    out: dict[str, dict[str, Path]] = {}
    for name in names:
        student = release / STUDENT_DIR / name
        grader = release / AUTOGRADER_DIR / name
        with tempfile.TemporaryDirectory() as tmp:
            dist = Path(tmp) / "dist"
            master = _stage(masters, name, Path(tmp) / "src", smoke)
            _assign(master, dist)
            (stamped,) = (dist / "autograder").glob("*-autograder_*.zip")
            shutil.copytree(dist / "student", student)
            shutil.copytree(
                dist / "autograder", grader, ignore=shutil.ignore_patterns("*.zip")
            )
            zip_path = deterministic_zip(stamped, grader / f"{name}-autograder.zip")
        for nb in (student / f"{name}.ipynb", grader / f"{name}.ipynb"):
            stable_cell_ids(nb)
        out[name] = {
            "student": student / f"{name}.ipynb",
            "solution": grader / f"{name}.ipynb",
            "zip": zip_path,
        }
    return out
