"""What issue 14's switch to the clean fp32 tables moved: every recorded number of
notebooks 01 and 02, before -> after.

    python results/checks/switch_moved.py [REV [CSV]]  # default: TF32_COMMIT
    python results/checks/switch_moved.py b0d743d complete_moved.csv

Reads each notebook's ``numbers.json`` at ``REV`` (the last commit that shipped the
TF32 tables, whose numbers were recorded from them) and in the working tree, keys
the rows by (experiment, metric, dataset), and writes ``switch_moved.csv`` (or
``CSV``) beside this file: old and new value, the change, and the old and new ``n``
(fisher's sample grew from 3,000 cells to 15,625; ``fisher_channel`` rows went, the
``fisher`` rows of notebook 02 came). It prints, per notebook and experiment, how
many numbers moved and the largest move. The notebooks' published-vs-reproduced
view of the same change is ``python -m zclib report --moved-since REV``.
``complete_moved.csv``: the second step, from the tables while the full-space job
was filling (fisher_fs on 3,000 cells, the suite's proxies on 1,000) to the
complete ones (all 15,625 for both).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zclib.paths import PROJECT_ROOT, RESULTS_DIR

HERE = Path(__file__).parent
TF32_COMMIT = "e031dfdaaad367682c802f83281bea210eccde82"
NOTEBOOKS = ("01_table_spearman_nb201", "02_zico_vs_params")
KEY = ["experiment", "metric", "dataset"]


def numbers(text: str) -> pd.DataFrame:
    df = pd.DataFrame(json.loads(text)["numbers"])
    return df[[*KEY, "value", *(["n"] if "n" in df else [])]]


def at(rev: str, name: str) -> pd.DataFrame:
    rel = f"results/{name}/numbers.json"
    show = ["git", "show", f"{rev}:{rel}"]
    out = subprocess.run(show, cwd=PROJECT_ROOT, capture_output=True, check=True)
    return numbers(out.stdout.decode())


def compare(rev: str) -> pd.DataFrame:
    frames = []
    for name in NOTEBOOKS:
        old = at(rev, name)
        new = numbers((RESULTS_DIR / name / "numbers.json").read_text())
        m = old.merge(new, on=KEY, how="outer", suffixes=("_old", "_new"))
        m.insert(0, "notebook", name)
        frames.append(m)
    m = pd.concat(frames, ignore_index=True)
    m["change"] = m["value_new"] - m["value_old"]
    return m


def main():
    rev = sys.argv[1] if len(sys.argv) > 1 else TF32_COMMIT
    out = HERE / (sys.argv[2] if len(sys.argv) > 2 else "switch_moved.csv")
    m = compare(rev)
    m.to_csv(out, index=False, float_format="%.6g")
    both = m.dropna(subset=["value_old", "value_new"])
    moved = both[both["change"].abs() > 1e-9]
    print(f"{len(both)} numbers in both, {len(moved)} moved; ", end="")
    print(f"{int(m['value_old'].isna().sum())} new, ", end="")
    print(f"{int(m['value_new'].isna().sum())} gone (or NaN)")
    for (nb, exp), g in both.groupby(["notebook", "experiment"]):
        k = g["change"].abs().idxmax() if np.isfinite(g["change"]).any() else None
        worst = (
            ""
            if k is None
            else (
                f"; largest {g.at[k, 'change']:+.4f} ({g.at[k, 'metric']}, "
                f"{g.at[k, 'dataset']})"
            )
        )
        n_moved = int((g["change"].abs() > 1e-9).sum())
        print(f"  {nb} {exp}: {n_moved} of {len(g)} moved{worst}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
