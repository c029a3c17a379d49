"""Diff two runs' numbers.json, ignoring provenance: the refactor's same-numbers check.

    python results/checks/compare_numbers.py OLD_ROOT NEW_ROOT 01_table_spearman_nb201
    python results/checks/compare_numbers.py --timings OLD NEW 04_search_course_project

Prints every row (keyed by experiment, metric, dataset) that is missing on one side
or differs in any field, and exits 1 if there is any; "empty" means the recorded
numbers are identical (exactly, floats included). ``--timings`` leaves out the rows
that are wall-clock measurements (:data:`TIMINGS`; they differ from run to run by
nature) and says how many it left out.
"""

import json
import re
import sys
from pathlib import Path

# metrics that are measured times (or ratios of them): never equal across runs
TIMINGS = re.compile(
    r"lookup_ms_per_run|cpu_seconds|_s_extrapolated|cheapest_vs|"
    r"econas_vs|seconds|wall"
)


def rows(root: str, name: str, timings: bool = True) -> dict:
    payload = json.loads((Path(root) / name / "numbers.json").read_text())
    out = {}
    for r in payload["numbers"]:
        key = (r["experiment"], r["metric"], r["dataset"])
        if not timings and TIMINGS.search(r["metric"]):
            continue
        assert key not in out, f"duplicate row {key}"
        out[key] = r
    return out


def main(a: str, b: str, names: list[str], timings: bool = True) -> int:
    bad = 0
    for name in names:
        ra, rb = rows(a, name, timings), rows(b, name, timings)
        skipped = len(rows(a, name)) - len(ra)
        diff = [f"  only in {a}: {k}" for k in ra.keys() - rb.keys()]
        diff += [f"  only in {b}: {k}" for k in rb.keys() - ra.keys()]
        diff += [
            f"  {k}: {f}: {ra[k].get(f)!r} != {rb[k].get(f)!r}"
            for k in ra.keys() & rb.keys()
            for f in sorted(set(ra[k]) | set(rb[k]))
            if ra[k].get(f) != rb[k].get(f)
        ]
        order = list(ra) == list(rb)
        print(
            f"{name}: {len(ra)} rows, {len(diff)} differences"
            + (f" ({skipped} timing rows left out)" if skipped else "")
            + ("" if order else " (row order differs)")
        )
        print("\n".join(sorted(diff)[:50]))
        bad += bool(diff)
    return int(bad > 0)


if __name__ == "__main__":
    args = sys.argv[1:]
    keep = "--timings" not in args
    args = [a for a in args if a != "--timings"]
    sys.exit(main(args[0], args[1], args[2:], timings=keep))
