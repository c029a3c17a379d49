"""One figure style for every notebook, and saving as PNG + PDF.

    from zclib import plotting
    plotting.setup()
    fig, ax = plt.subplots(); ...; plotting.save(fig, out_dir, "spearman_table")
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

PROXY_LABELS = {
    "grad_norm": "grad_norm", "snip": "snip", "grasp": "grasp", "fisher": "fisher",
    "synflow": "synflow", "jacob_cov": "jacob_cov", "naswot": "NASWOT", "zico": "ZiCo",
    "params": "#params", "flops": "FLOPs", "vote": "vote",
}


def setup() -> None:
    """Readable seaborn defaults (paper context, white grid, colour-blind palette)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150,
                                "savefig.bbox": "tight"})


def save(fig, out_dir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``<out_dir>/<name>.png`` and ``.pdf``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p)
    return paths
