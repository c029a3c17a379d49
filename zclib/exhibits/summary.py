"""Notebook 99: every published number a notebook set against one of its own.

from zclib import records, results
from zclib.exhibits import summary
cmp = summary.published_vs_reproduced(records.load_records(), ["cifar10"])
print(summary.page(cmp, "results", missing=[]))   # summary.md: the front page

Each number gets a status (:func:`zclib.fidelity.assess`) from its tolerance, the
standard errors its notebook recorded (``se``, ``se_published``) and the pointers
it records (``explained``, ``pending``, ``check``) or, failing those, the ones
:mod:`zclib.deviations` lists for it. The page opens with one line of counts per
status, then a table per exhibit, then the deviations worst first (|Δ| in units of
the tolerance) with their explanation; the full table is ``summary.csv``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import deviations, results

COLS = [
    "notebook",
    "experiment",
    "metric",
    "dataset",
    "tabulation",
    "published",
    "reproduced",
    "delta",
    "tolerance",
    "se_ours",
    "se_published",
    "within",
    "status",
    "pointer",
    "reason",
    "stand_in",
    "note",
]
STATUS_COLORS = {
    "within": "C0",
    "consistent within sampling error": "C2",
    "explained": "C1",
    "pending": "C4",
    "outside": "#d62728",
    "no tolerance": "0.5",
}
SHOWN = ["notebook", "experiment", "metric", "dataset", "published", "reproduced"]


def published_vs_reproduced(records: pd.DataFrame, datasets) -> pd.DataFrame:
    """One row per recorded number with a published value.

    Args:
        records: :func:`zclib.records.load_records`.
        datasets: the order of datasets within an experiment.

    Returns:
        :data:`COLS`: delta, ``within`` from :func:`zclib.results.compare` (None
        where no tolerance was stated), ``status`` and ``pointer`` from
        :func:`zclib.results.assess`, ``reason`` from :mod:`zclib.deviations`;
        stand-in rows say so in ``note``. Sorted by notebook, experiment, metric
        and the order of ``datasets``.
    """
    records = records.copy()
    for col in (
        "published",
        "tolerance",
        "stand_in",
        "note",
        "se",
        "se_published",
        "tabulation",
        "explained",
        "pending",
        "check",
    ):
        if col not in records:
            records[col] = "" if col == "note" else np.nan
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
        cmp["stand_in"] = cmp["stand_in"].astype(object).eq(True)
        status = []
        for r in cmp.to_dict("records"):
            ptr = deviations.pointers(r)
            a = results.assess(
                r["reproduced"],
                r["published"],
                r["tolerance"],
                r["se"],
                r["se_published"],
                explained=ptr["explained"],
                pending=ptr["pending"],
                check=ptr["check"],
            )
            status.append(
                {
                    "se_ours": a["se_ours"],
                    "se_published": a["se_published"],
                    "status": a["status"],
                    "pointer": a["pointer"],
                    "reason": ptr["reason"] if a["pointer"] else None,
                }
            )
        st = pd.DataFrame(status, index=cmp.index)
        cmp = cmp.drop(columns=["se_published"]).join(st)
        cmp["tabulation"] = cmp["tabulation"].where(cmp["tabulation"].notna(), None)
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
    """n_compared, n_within, n_outside, n_no_tol, n_stand_in (tolerance only), and
    ``status``: the number of rows of each of :data:`zclib.results.STATUSES`."""
    n_cmp = len(summary)
    n_within = int((summary["within"] == True).sum())  # noqa: E712 (object column)
    n_outside = int((summary["within"] == False).sum())  # noqa: E712
    st = summary["status"] if n_cmp else pd.Series(dtype=object)
    return {
        "n_compared": n_cmp,
        "n_within": n_within,
        "n_outside": n_outside,
        "n_no_tol": n_cmp - n_within - n_outside,
        "n_stand_in": int(summary["stand_in"].sum()) if n_cmp else 0,
        "status": {s: int((st == s).sum()) for s in results.STATUSES},
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


def by_exhibit(summary: pd.DataFrame) -> pd.DataFrame:
    """Counts per status (columns, :data:`zclib.results.STATUSES` order) for each
    notebook and experiment (rows), with the tabulations used."""
    if not len(summary):
        return pd.DataFrame(columns=["notebook", "experiment", *results.STATUSES])
    t = pd.crosstab([summary["notebook"], summary["experiment"]], summary["status"])
    t = t.reindex(columns=list(results.STATUSES), fill_value=0)
    tab = summary.groupby(["notebook", "experiment"])["tabulation"].agg(
        lambda s: "; ".join(sorted(set(s.dropna())))
    )
    return t.assign(compared=t.sum(axis=1), tabulation=tab).reset_index()


def worst_first(summary: pd.DataFrame) -> pd.DataFrame:
    """The deviations: rows neither within nor consistent nor without tolerance,
    worst first (|delta| / tolerance), with status, pointer and reason."""
    ok = {results.STATUSES[0], results.STATUSES[1], results.STATUSES[-1]}
    d = summary[~summary["status"].isin(ok)] if len(summary) else summary
    if not len(d):
        return d.reindex(columns=[*SHOWN, "delta", "status", "pointer", "reason"])
    d = d.assign(_x=(d["delta"].abs() / d["tolerance"]).fillna(np.inf))
    d = d.sort_values("_x", ascending=False, kind="stable")
    return d[[*SHOWN, "delta", "tolerance", "status", "pointer", "reason"]]


def page(summary: pd.DataFrame, where: str, missing) -> str:
    """summary.md: counts per status, a table per exhibit, the deviations worst
    first, the figure; the full table stays in summary.csv.

    Args:
        summary: :func:`published_vs_reproduced`.
        where: the results root as recorded (relative to the project).
        missing: notebooks that have not recorded numbers.

    Returns:
        The Markdown text.
    """
    n = counts(summary)
    line = ", ".join(f"{v} {k}" for k, v in n["status"].items())
    lines = [
        "# Published vs reproduced",
        "",
        f"Source: `{where}`. {n['n_compared']} published numbers: {line}; "
        f"{n['n_stand_in']} on stand-in data (ImageNet16-120 stand-in images, no "
        "tolerance).",
        "",
    ]
    if missing:
        lines += [f"Not run yet: {', '.join(missing)}.", ""]
    no_ptr = summary[(summary["status"] == "outside") & summary["pointer"].isna()]
    if len(summary) and len(no_ptr):
        lines += [f"**{len(no_ptr)} outside without a pointer to a check.**", ""]
    lines += ["## Per exhibit", "", markdown_table(by_exhibit(summary)), ""]
    if len(summary) and summary["tabulation"].notna().any():
        lines += [
            "`tabulation` is how *our* rows were tabulated. The course project's "
            "published means (cossu_course/*) pool every cell a search evaluated "
            "(its code, read at commit 5a6f120): our rows of that tabulation are "
            "compared with them, and so are our best-cell rows (what a search "
            "returns), whose deviations that difference explains.",
            "",
        ]
    dev = worst_first(summary)
    lines += [
        "## Deviations, worst first",
        "",
        "|Δ| in units of the tolerance; each with the check that explains it, "
        "measures a candidate cause, or the issue that will settle it.",
        "",
        markdown_table(dev),
        "",
        "![published vs reproduced](published_vs_reproduced.png)",
        "",
        "The full table (every number, its tabulation, standard errors and note) is "
        "`summary.csv`.",
        "",
    ]
    return "\n".join(lines)


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
            for status, color in STATUS_COLORS.items():
                m = (d["stand_in"] == stand_in) & (d["status"] == status)
                if m.any():
                    label = ("stand-in" if stand_in else "real data") + ", " + status
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
