"""Diff two runs' numbers.json, ignoring provenance: the refactor's same-numbers check.

    python results/checks/compare_numbers.py OLD_ROOT NEW_ROOT 01_table_spearman_nb201

Prints every row (keyed by experiment, metric, dataset) that is missing on one side
or differs in any field, and exits 1 if there is any; "empty" means the recorded
numbers are identical (exactly, floats included).
"""

import json
import sys
from pathlib import Path


def rows(root: str, name: str) -> dict:
    payload = json.loads((Path(root) / name / "numbers.json").read_text())
    out = {}
    for r in payload["numbers"]:
        key = (r["experiment"], r["metric"], r["dataset"])
        assert key not in out, f"duplicate row {key}"
        out[key] = r
    return out


def main(a: str, b: str, names: list[str]) -> int:
    bad = 0
    for name in names:
        ra, rb = rows(a, name), rows(b, name)
        diff = [f"  only in {a}: {k}" for k in ra.keys() - rb.keys()]
        diff += [f"  only in {b}: {k}" for k in rb.keys() - ra.keys()]
        diff += [f"  {k}: {f}: {ra[k].get(f)!r} != {rb[k].get(f)!r}"
                 for k in ra.keys() & rb.keys()
                 for f in sorted(set(ra[k]) | set(rb[k]))
                 if ra[k].get(f) != rb[k].get(f)]
        order = list(ra) == list(rb)
        print(f"{name}: {len(ra)} rows, {len(diff)} differences"
              + ("" if order else " (row order differs)"))
        print("\n".join(sorted(diff)[:50]))
        bad += bool(diff)
    return int(bad > 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
