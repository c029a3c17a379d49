"""The course kit (issue 18): otter-grader assignments built from the study.

    python -m zclib.course build                      # make course
    python -m zclib.course grade SUBMISSIONS          # make grade SUBMISSIONS=dir
    python -m zclib.course data                       # rewrite course/masters/data/

Masters are ``course/masters/NN_name.ipynb`` (otter's visible markup: ``# BEGIN
QUESTION``, ``# BEGIN SOLUTION``, ``# BEGIN TESTS``, hidden tests ``hidden: true``;
exception-based tests, because OK-format tests need stored outputs and the project
stores notebooks without them). :func:`build` runs ``otter assign`` on each and lays
out ``course/release/student/<name>/`` (what students get) and
``course/release/autograder/<name>/`` (the solution notebook and
``<name>-autograder.zip``, renamed from otter's timestamped name and re-zipped with
fixed timestamps so that two builds give the same bytes). :func:`grade` grades a
folder of submissions with ``otter run`` (never ``otter grade``, which needs Docker
and downloads at set-up) and reads each ``results.json`` (``otter run`` exits 0 even
at 0 points). The committed data are :mod:`zclib.course.data`.

Modules: :mod:`.release` (release and autograder zips), :mod:`.grading` (grades.csv and
feedback), :mod:`.data` (the compact table the assignments read).
"""

from zclib.course.grading import grade, grade_one
from zclib.course.release import (
    AUTOGRADER_DIR,
    MASTERS_DIR,
    RELEASE_DIR,
    SMOKE,
    STUDENT_DIR,
    assignment_names,
    build,
    deterministic_zip,
)

__all__ = [
    "AUTOGRADER_DIR",
    "MASTERS_DIR",
    "RELEASE_DIR",
    "SMOKE",
    "STUDENT_DIR",
    "assignment_names",
    "build",
    "deterministic_zip",
    "grade",
    "grade_one",
]
