"""Slow tier: every notebook at its default size reproduces its committed numbers.

    make test-slow        # = pytest -m slow (about 5-10 min on 2 CPU cores)

Runs all notebooks, in order, into a temporary results folder with the shipped
score tables and training runs, and compares each ``numbers.json`` with the
committed one row by row: same rows, same fields, floats equal to 1e-9 relative.
Numbers measured on the machine that runs them (timings) are exempt from the value
check, and only those: see :data:`TIMED`.
"""

from __future__ import annotations

import json
import math

import pytest

from zclib import notebooks
from zclib.paths import RESULTS_DIR
from zclib.records import TIMED  # kept out of numbers.json; exempt in older files

NAMES = notebooks.notebook_names()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, shared_dir):
    out = tmp_path_factory.mktemp("reproduce")
    for name in NAMES:  # in order: 99_summary reads the others' numbers
        notebooks.run(name, results_dir=out)
    return out


def _rows(root, name):
    return json.loads((root / name / "numbers.json").read_text())["numbers"]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def differences(committed: list[dict], fresh: list[dict]) -> list[str]:
    """Human-readable differences between two numbers lists (empty: the same)."""
    if len(committed) != len(fresh):
        return [f"{len(committed)} committed rows, {len(fresh)} fresh"]
    out = []
    for i, (c, f) in enumerate(zip(committed, fresh, strict=True)):
        timed = bool(TIMED.match(str(c.get("metric", ""))))
        for k in sorted(set(c) | set(f)):
            if timed and k == "value":
                continue
            if not _same(c.get(k), f.get(k)):
                out.append(
                    f"row {i} {c.get('metric')} / {c.get('dataset')}: "
                    f"{k} {c.get(k)!r} -> {f.get(k)!r}"
                )
    return out


def test_differences_sees_a_changed_number_and_exempts_only_timings():
    row = {
        "experiment": "e",
        "metric": "spearman(snip)",
        "dataset": "cifar10",
        "value": 0.5,
    }
    assert differences([row], [row]) == []
    assert differences([row], [{**row, "value": 0.5 + 1e-6}])
    timed = {**row, "metric": "cpu_seconds(snip)"}
    assert differences([timed], [{**timed, "value": 9.0}]) == []
    assert differences([timed], [{**timed, "note": "other"}])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_reproduces_its_committed_numbers(fresh, name):
    diff = differences(_rows(RESULTS_DIR, name), _rows(fresh, name))
    assert not diff, f"{name}: {len(diff)} differences:\n" + "\n".join(diff[:20])
