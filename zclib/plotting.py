"""Figure style, saving as PNG + PDF, and the plot kinds several exhibits share.

    from zclib import plotting
    plotting.setup()
    fig = plotting.rho_heatmap(wide_rho, label="Spearman ρ vs test acc")
    plotting.save(fig, out_dir, "spearman_heatmap")

Figures of one exhibit only are drawn here too when they carry logic a reader of
the notebook need not see (axis choice, band drawing); their data comes in as
tables, never from disk.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

PROXY_LABELS = {
    "grad_norm": "grad_norm",
    "snip": "snip",
    "grasp": "grasp",
    "fisher": "fisher",
    "synflow": "synflow",
    "jacob_cov": "jacob_cov",
    "naswot": "NASWOT",
    "zico": "ZiCo",
    "params": "#params",
    "flops": "FLOPs",
    "vote": "vote",
}


def setup() -> None:
    """Readable seaborn defaults (paper context, white grid, colour-blind palette)
    and pandas' float display (:func:`display_float`)."""
    import pandas as pd
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    matplotlib.rcParams.update(
        {"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight"}
    )
    pd.set_option("display.float_format", display_float)


def display_float(v: float) -> str:
    """How a table shows a float: a whole number of 100 or more (a count stored as
    a float beside NaN or fractions, e.g. 15625.0) as an integer, a nonzero value
    below 10^-precision in scientific notation, anything else with pandas'
    ``display.precision`` decimals (the notebooks set 3).

    Args:
        v: the value.

    Returns:
        e.g. ``"15625"``, ``"0.514"``, ``"3.20e-07"``.
    """
    import pandas as pd

    prec = pd.get_option("display.precision")
    if not np.isfinite(v):
        return str(v)
    if v == round(v) and abs(v) >= 100:
        return f"{v:.0f}"
    if v != 0 and abs(v) < 10**-prec:
        return f"{v:.{max(prec - 1, 1)}e}"
    return f"{v:.{prec}f}"


# fixed file metadata, so that saving the same figure twice gives the same bytes:
# no creation date in the PDF (matplotlib's default is the clock, or
# SOURCE_DATE_EPOCH when set), the PNG's "Software" names the matplotlib version only
SAVE_METADATA = {"png": {}, "pdf": {"CreationDate": None}}


def save(fig, out_dir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``<out_dir>/<name>.png`` and ``.pdf``, byte-reproducibly
    (:data:`SAVE_METADATA`).

    Args:
        fig: a matplotlib figure.
        out_dir: folder (created).
        name: file stem.

    Returns:
        The two paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p, metadata=SAVE_METADATA[p.suffix[1:]])
    return paths


def score_axis(x: np.ndarray, name: str, bounded=()) -> str:
    """Axis kind for one score column: "log" where the positive scores span more
    than two orders of magnitude, "symlog" for signed scores that do, else "linear"
    (always for the names in ``bounded``: scores on a fixed scale)."""
    x = x[np.isfinite(x)]
    pos = x[x > 0]
    if name in bounded:
        return "linear"
    if (
        x.min() >= 0
        and pos.size > 1
        and np.quantile(pos, 0.995) / np.quantile(pos, 0.005) > 1e2
    ):
        return "log"
    med = np.median(np.abs(x[x != 0])) if np.any(x != 0) else 1.0
    if x.min() < 0 and np.abs(x).max() / med > 1e2:
        return "symlog"
    return "linear"


def hexpanel(
    ax, x, y, name: str, rho: float, n_rho: int, label: str | None = None, bounded=()
) -> None:
    """Hexbin density (log colour) of score ``x`` against accuracy ``y`` on the axis
    :func:`score_axis` picks (log: zero scores counted, not drawn; symlog:
    sign(x)·log10(1+|x|)), with ρ and its n in the corner."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    ax.set_title(label or name, fontsize=10)
    if x.size < 2:
        ax.text(0.5, 0.5, "no finite scores", transform=ax.transAxes, ha="center")
        return
    kind, note = score_axis(x, name, bounded), ""
    if kind == "log":
        zero = int((x <= 0).sum())
        x, y = x[x > 0], y[x > 0]
        note = f"\n{zero} zero scores not shown" if zero else ""
    elif kind == "symlog":
        x = np.sign(x) * np.log10(1 + np.abs(x))
    ax.hexbin(
        x,
        y,
        gridsize=40 if len(x) > 2000 else 20,
        bins="log",
        mincnt=1,
        cmap="viridis",
        xscale="log" if kind == "log" else "linear",
        linewidths=0,
    )
    ax.set_xlabel(
        {"log": "score (log)", "symlog": "sign·log10(1+|score|)", "linear": "score"}[
            kind
        ],
        fontsize=8,
    )
    ax.text(
        0.97,
        0.04,
        f"ρ = {rho:+.3f}  (n = {n_rho:,}){note}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        bbox={"fc": "white", "alpha": 0.8, "lw": 0},
    )
    ax.tick_params(labelsize=8)


def rho_heatmap(wide, label: str, title: str | None = None):
    """Annotated heat map of signed correlations in [-1, 1] (rows: scores,
    columns: e.g. dataset × subset); returns the figure."""
    import seaborn as sns

    size = (1.9 * wide.shape[1] + 3, 0.42 * wide.shape[0] + 1.5)
    fig, ax = plt.subplots(figsize=size)
    sns.heatmap(
        wide,
        annot=True,
        fmt=".2f",
        cmap="vlag",
        vmin=-1,
        vmax=1,
        center=0,
        cbar_kws={"label": label},
        ax=ax,
    )
    if title:
        ax.set_title(title)
    ax.tick_params(axis="x", rotation=0)
    return fig


def published_band(ax, xs, published, tol: float | None, **scatter) -> None:
    """The published values as black bars at ``xs``, with a grey ±``tol`` band
    behind each (no band when ``tol`` is None: nothing is held to it)."""
    if tol is not None:
        for x, v in zip(xs, published, strict=True):
            ax.fill_between(
                [x - 0.35, x + 0.35], v - tol, v + tol, color="0.85", lw=0, zorder=0
            )
    ax.scatter(
        xs, published, marker="_", s=400, color="black", lw=2.5, zorder=3, **scatter
    )


def ours_beside_published(
    ax, y, ours, ours_sd, published, published_sd, published_label: str
) -> None:
    """Mean ± 1 sd of ours (filled, just above row y) beside the paper's (open,
    just below): the Mellor et al. comparison figures of notebooks 04 and 05."""
    ax.errorbar(
        ours, y - 0.1, xerr=ours_sd, fmt="o", color="C0", capsize=3, label="ours, ±1 sd"
    )
    ax.errorbar(
        published,
        y + 0.1,
        xerr=published_sd,
        fmt="o",
        mfc="none",
        mec="k",
        ecolor="0.5",
        capsize=3,
        label=published_label,
    )
