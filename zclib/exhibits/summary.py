"""Notebook 99: every published number a notebook set against one of its own.

from zclib import records, results
from zclib.exhibits import summary
cmp = summary.published_vs_reproduced(records.load_records(), ["cifar10"])
print(summary.markdown_table(cmp))
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import results

COLS = [
    "notebook",
    "experiment",
    "metric",
    "dataset",
    "published",
    "reproduced",
    "delta",
    "tolerance",
    "within",
    "stand_in",
    "note",
]


def published_vs_reproduced(records: pd.DataFrame, datasets) -> pd.DataFrame:
    """One row per recorded number with a published value: delta, and ``within``
    from :func:`zclib.results.compare` (None where no tolerance was stated);
    stand-in rows say so in ``note``. Sorted by notebook, experiment, metric and
    the order of ``datasets``."""
    records = records.copy()
    for col in ("published", "tolerance", "stand_in", "note"):
        if col not in records:
            records[col] = np.nan if col != "note" else ""
    cmp = records[records["published"].notna()].copy() if len(records) else records
    cmp = cmp.rename(columns={"value": "reproduced"})
    if len(cmp):
        cmp["published"] = cmp["published"].astype(float)
        cmp["reproduced"] = cmp["reproduced"].astype(float)
        cmp["delta"] = cmp["reproduced"] - cmp["published"]
        within = [
            results.compare(r, p, t)
            for r, p, t in zip(
                cmp["reproduced"],
                cmp["published"],
                cmp["tolerance"].astype(float),
                strict=True,
            )
        ]
        cmp["within"] = pd.Series(
            [None if w == results.NOT_CHECKED else w for w in within],
            index=cmp.index,
            dtype=object,
        )
        cmp["stand_in"] = cmp["stand_in"].fillna(False).astype(bool)
        note = cmp["note"].fillna("").astype(str)
        cmp["note"] = np.where(
            cmp["stand_in"] & ~note.str.contains("stand-in"),
            "STAND-IN DATA. " + note,
            note,
        )
        order = {ds: i for i, ds in enumerate(datasets)}
        cmp["_ds"] = cmp["dataset"].map(order).fillna(len(order))
        cmp = cmp.sort_values(
            ["notebook", "experiment", "metric", "_ds"], kind="stable"
        )
    return cmp.reindex(columns=COLS).reset_index(drop=True)


def counts(summary: pd.DataFrame) -> dict:
    """n_compared, n_within, n_outside, n_no_tol, n_stand_in."""
    n_cmp = len(summary)
    n_within = int((summary["within"] == True).sum())  # noqa: E712 (object column)
    n_outside = int((summary["within"] == False).sum())  # noqa: E712
    return {
        "n_compared": n_cmp,
        "n_within": n_within,
        "n_outside": n_outside,
        "n_no_tol": n_cmp - n_within - n_outside,
        "n_stand_in": int(summary["stand_in"].sum()) if n_cmp else 0,
    }


def by_notebook(summary: pd.DataFrame) -> pd.DataFrame:
    """compared / within / outside / stand_in per notebook."""
    if not len(summary):
        return pd.DataFrame(columns=["compared", "within", "outside", "stand_in"])
    return summary.groupby("notebook").agg(
        compared=("metric", "size"),
        within=("within", lambda s: int((s == True).sum())),  # noqa: E712
        outside=("within", lambda s: int((s == False).sum())),  # noqa: E712
        stand_in=("stand_in", "sum"),
    )


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""

    def fmt(v):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return ""
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = [
        "| " + " | ".join(fmt(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def figure(summary: pd.DataFrame):
    """Published (x) against reproduced (y), one panel per notebook; None when
    there is nothing to plot."""
    nbs = list(dict.fromkeys(summary["notebook"])) if len(summary) else []
    if not nbs:
        return None
    fig, axes = plt.subplots(1, len(nbs), figsize=(4.6 * len(nbs), 4.6), squeeze=False)
    for ax, nb in zip(axes[0], nbs, strict=True):
        d = summary[summary["notebook"] == nb]
        lo = float(min(d["published"].min(), d["reproduced"].min()))
        hi = float(max(d["published"].max(), d["reproduced"].max()))
        pad = 0.05 * (hi - lo or 1.0)
        line = np.array([lo - pad, hi + pad])
        ax.plot(line, line, color="0.4", lw=1, ls="--", label="y = x")
        tols = d["tolerance"].dropna().unique()
        if len(tols) == 1:
            ax.fill_between(
                line,
                line - tols[0],
                line + tols[0],
                color="0.85",
                zorder=0,
                label=f"± {tols[0]:g}",
            )
        for stand_in, marker in ((False, "o"), (True, "X")):
            for ok, color in ((True, "C0"), (None, "0.5"), (False, "#d62728")):
                is_ok = d["within"].map(lambda v, ok=ok: v is ok)
                m = (d["stand_in"] == stand_in) & is_ok
                if m.any():
                    label = (
                        ("stand-in" if stand_in else "real data")
                        + ", "
                        + {True: "within tol.", False: "outside tol.", None: "no tol."}[
                            ok
                        ]
                    )
                    ax.scatter(
                        d.loc[m, "published"],
                        d.loc[m, "reproduced"],
                        marker=marker,
                        color=color,
                        s=45,
                        alpha=0.85,
                        label=label,
                    )
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_title(nb, fontsize=10)
        ax.set_xlabel("published")
        ax.set_ylabel("reproduced")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
