"""How much a proxy's rank correlation moves with the scorer's seed.

    python -m zclib.exhibits.score_spread seeds --dataset cifar10 --n 1000

    from zclib.exhibits import score_spread as ss
    rho = ss.rho_by_config("cifar10", ss.seed_configs((0, 1, 2)), ["snip"], n=20)
    ss.interval(rho)          # per proxy: single-seed rho, min/max/sd over seeds

The **seed spread** of every proxy (issue 16, part 6): ρ with accuracy under three
weight-initialisation seeds (0, 1, 2, all on batch draw 0) and a second batch draw
(seed 0 on draw 1) on a 1,000-cell sample per dataset, shown in notebook 01 as an
interval beside the single-seed value; notebook 02 asks whether ZiCo's interval lies
clear of #params (:func:`against_fixed`). Each configuration is a set of
:class:`zclib.scoring.Scorer` settings (``seed``: the initialisation; ``batch_seed``:
the minibatches); its scores are computed on the same cells (``zclib.space.sample(n,
0)``, the first cells of the full-space job's order) and kept resumably under
``results/spread/scores/`` (committed: a run spans sessions). Seed 0 on draw 0 is the
full-space job's setting, so its scores are read from that job's fp32 chunks
(``results/scores/fp32``, :func:`zclib.fullspace.merge.read_prefix`) when it has
them, scored here otherwise. The results go to
``results/spread/<exhibit>_<dataset>.json`` (what the notebooks read). ZiCo's Fig. 4
ablation (batches, batch size) is :mod:`zclib.exhibits.zico_ablation`.

The images are those data discovery finds (:func:`zclib.data.find_source`: for
ImageNet16-120 the official-classes stand-in unless the official download is
there), as in the full-space job; the scores are computed on CPU here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from zclib import data, results, scoring, space, stats
from zclib.fullspace import jobs as fjobs
from zclib.fullspace import merge
from zclib.names import canonical_dataset
from zclib.paths import RESULTS_DIR
from zclib.provenance import provenance

OUT = RESULTS_DIR / "spread"
CACHE = OUT / "scores"  # the configurations' score tables and chunks (committed)
SEEDS = (0, 1, 2)  # weight-init seeds, each on the first batch draw
BATCH_SEEDS = (0, 1)  # batch draws, each at the first init seed


def seed_configs(
    seeds: Sequence[int] = SEEDS, batch_seeds: Sequence[int] = BATCH_SEEDS
) -> list[dict]:
    """Scorer settings of the seed spread: every init seed on the first batch draw,
    then every other batch draw at the first init seed (batch 64)."""
    b0, s0 = int(batch_seeds[0]), int(seeds[0])
    configs = [{"seed": int(s), "batch_seed": b0} for s in seeds]
    return configs + [{"seed": s0, "batch_seed": int(b)} for b in batch_seeds[1:]]


def _stand_in(dataset: str) -> str:
    """The images the spread is scored on, by name (as the full-space job)."""
    return (
        data.find_source(dataset).stand_in_name if results.is_stand_in(dataset) else ""
    )


def from_fullspace(
    dataset: str, config: dict, proxies: Sequence[str], n: int, root=fjobs.ROOT
) -> pd.DataFrame | None:
    """The full-space job's scores of the first ``n`` cells when ``config`` is its
    setting (seed 0 on draw 0), its ``all`` table scores ``proxies`` and its chunks
    of those cells are there, on the same images; None otherwise."""
    ds = canonical_dataset(dataset)
    own = {"seed": fjobs.SEED, "batch_seed": fjobs.SEED}
    if {"batch_seed": config.get("seed"), **config} != own:
        return None
    if not set(proxies) <= set(fjobs.TABLE_PROXIES):
        return None
    job = fjobs.Job(ds, "all", fjobs.TABLE_PROXIES)
    try:
        df = merge.read_prefix(job, n, root)
    except merge.Incomplete:
        return None
    if results.is_stand_in(ds) and merge.stand_in_name(job, root) != _stand_in(ds):
        return None  # other images
    return df[["arch_str", "index", *proxies]]


def label(config: dict) -> str:
    """A configuration as a short string, e.g. ``batch_size=64,seed=1``."""
    return ",".join(f"{k}={v}" for k, v in sorted(config.items()))


def scores(
    dataset: str,
    config: dict,
    proxies: Sequence[str],
    n: int,
    progress: bool = False,
    device: str = "cpu",
    workers: int = 1,
) -> pd.DataFrame:
    """Scores of ``proxies`` on the first ``n`` cells of the seed-0 sample with the
    scorer settings ``config``: the full-space job's (:func:`from_fullspace`) or
    scored here, resumably under :data:`CACHE`.

    Args:
        dataset: dataset name.
        config: :class:`zclib.scoring.Scorer` keyword arguments (seed, batch_seed,
            batch_size, zico_batches).
        proxies: proxy names.
        n: cells.
        progress: progress bar.
        device, workers: where and in how many processes to score.

    Returns:
        ``arch_str``, ``index`` and one column per proxy, in sample order.
    """
    reused = from_fullspace(dataset, config, proxies, n)
    if reused is not None:
        return reused
    archs = space.sample(n, 0)
    tag = label(config).replace(",", "_").replace("=", "")
    out = CACHE / f"{dataset}_n{n}_{'-'.join(proxies)}_{tag}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    df = scoring.score_archs(
        archs,
        dataset,
        list(proxies),
        stand_in=_stand_in(dataset),
        out=out,
        progress=progress,
        device=device,
        workers=workers,
        **config,
    )
    df = df.drop_duplicates("arch_str").set_index("arch_str").loc[archs].reset_index()
    return df


def rho_by_config(
    dataset: str,
    configs: Sequence[dict],
    proxies: Sequence[str],
    n: int,
    accuracy: str = "test_acc",
    progress: bool = False,
    device: str = "cpu",
    workers: int = 1,
) -> pd.DataFrame:
    """Spearman and Kendall of every proxy with ``accuracy``, per configuration.

    Args:
        dataset, proxies, n, progress, device, workers: see :func:`scores`.
        configs: scorer settings (:func:`seed_configs`).
        accuracy: benchmark column.

    Returns:
        One row per configuration and proxy: config (label), the settings as
        columns, proxy, spearman, kendall, n_used.
    """
    rows = []
    for cfg in configs:
        df = scores(dataset, cfg, proxies, n, progress, device, workers)
        df = results.with_accuracy(df, dataset)
        for p in proxies:
            # signed, as recorded (the notebooks' tables show |rho|)
            rho, used = stats.spearman(df[p], df[accuracy])
            tau, _ = stats.kendall(df[p], df[accuracy])
            rows.append(
                {
                    "config": label(cfg),
                    **cfg,
                    "proxy": p,
                    "spearman": rho,
                    "kendall": tau,
                    "n_used": used,
                }
            )
    return pd.DataFrame(rows)


def interval(rho: pd.DataFrame, stat: str = "spearman") -> pd.DataFrame:
    """Per proxy: the first configuration's value (the single-seed number) and the
    min, max, mean and sd over all configurations.

    Args:
        rho: :func:`rho_by_config`.
        stat: ``"spearman"`` or ``"kendall"``.

    Returns:
        Indexed by proxy: single, lo, hi, mean, sd, configs.
    """
    g = rho.groupby("proxy", sort=False)[stat]
    return pd.DataFrame(
        {
            "single": g.first(),
            "lo": g.min(),
            "hi": g.max(),
            "mean": g.mean(),
            "sd": g.std(ddof=1),
            "configs": g.size(),
        }
    )


def write(
    rho: pd.DataFrame,
    exhibit: str,
    dataset: str,
    out: str | Path | None = None,
    **params,
) -> Path:
    """``<out>/<exhibit>_<dataset>.json`` (default :data:`OUT`): rows, provenance."""
    root = Path(out or OUT)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{exhibit}_{dataset}.json"
    payload = {
        "exhibit": exhibit,
        "dataset": dataset,
        "provenance": provenance(**params),
        "rows": json.loads(rho.to_json(orient="records")),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def read(exhibit: str, dataset: str, root: str | Path | None = None) -> pd.DataFrame:
    """The rows :func:`write` wrote (empty when that run has not been made)."""
    f = Path(root or OUT) / f"{exhibit}_{dataset}.json"
    if not f.exists():
        return pd.DataFrame()
    return pd.DataFrame(json.loads(f.read_text())["rows"])


def spread_table(
    datasets: Sequence[str], exhibit: str = "seeds", root: str | Path | None = None
) -> pd.DataFrame:
    """|Spearman| per proxy and dataset: the first configuration's value beside
    the interval over all configurations (what notebooks 01 and 02 show).

    Args:
        datasets: datasets to show (those not run yet are listed as such).
        exhibit: the JSON files' prefix (``"seeds"``).
        root: folder of the JSON files (default :data:`OUT`).

    Returns:
        One row per dataset (labelled "(stand-in)" where the images are) and
        proxy: single, lo, hi, sd, configs, n (cells); a dataset without a run has
        one row with proxy "(not run)".
    """
    rows = []
    for ds in datasets:
        iv, n = _abs_interval(exhibit, ds, root)
        if iv is None:
            rows.append({"dataset": results.ds_label(ds), "proxy": "(not run)"})
            continue
        for p, r in iv.iterrows():
            rows.append(
                {"dataset": results.ds_label(ds), "proxy": p, **r.to_dict(), "n": n}
            )
    return pd.DataFrame(rows)


def ranking(table: pd.DataFrame) -> dict[str, str]:
    """Per dataset, the proxies by mean |ρ|, best first, joined by ``≈`` where a
    proxy's range over the settings overlaps its neighbour's (the difference is
    within the seed noise) and by ``>`` where it does not.

    Args:
        table: :func:`spread_table`.

    Returns:
        dataset label -> e.g. ``"zico ≈ naswot > synflow > ..."`` (datasets not
        run are left out).
    """
    out = {}
    for ds, g in table.dropna(subset=["lo"]).groupby("dataset", sort=False):
        g = g.sort_values("mean", ascending=False).reset_index(drop=True)
        text = g.loc[0, "proxy"]
        for a, b in zip(g.index[:-1], g.index[1:], strict=True):
            overlap = g.loc[b, "hi"] >= g.loc[a, "lo"]  # b's mean <= a's
            text += (" ≈ " if overlap else " > ") + g.loc[b, "proxy"]
        out[ds] = text
    return out


def against_fixed(
    datasets: Sequence[str],
    proxy: str,
    fixed: str,
    exhibit: str = "seeds",
    root: str | Path | None = None,
) -> pd.DataFrame:
    """Is ``proxy``'s lead over a proxy that no scorer setting moves (``params``,
    ``flops``) larger than its own seed noise? Notebook 02's question, on the spread's
    cells; the full table of every proxy is notebook 01's.

    Args:
        datasets: datasets to show (those not run yet are left out).
        proxy: a proxy of the spread run (e.g. ``"zico"``).
        fixed: a deterministic proxy, read from the shipped tables on the same
            cells (``space.sample(n, 0)``).
        exhibit, root: see :func:`spread_table`.

    Returns:
        One row per dataset run: dataset, n, ``proxy``'s |Spearman| at seed 0 and
        its [lo, hi] over the settings, ``fixed``'s |Spearman|, ``lead`` (seed 0's
        |ρ| minus ``fixed``'s), ``range`` (hi - lo), and the verdict
        (``"zico > params"`` when the whole range lies above, ``"params > zico"``
        when below, ``"within the seed noise"`` otherwise).
    """
    rows = []
    for ds in datasets:
        iv, n = _abs_interval(exhibit, ds, root)
        if iv is None or proxy not in iv.index:
            continue
        df = results.with_accuracy(results.load_scores(ds, [fixed], n_archs=n), ds)
        other = abs(stats.spearman(df[fixed], df["test_acc"])[0])
        lo, hi = iv.loc[proxy, "lo"], iv.loc[proxy, "hi"]
        if lo > other:
            verdict = f"{proxy} > {fixed}"
        elif hi < other:
            verdict = f"{fixed} > {proxy}"
        else:
            verdict = "within the seed noise"
        rows.append(
            {
                "dataset": results.ds_label(ds),
                "n": n,
                proxy: iv.loc[proxy, "single"],
                "lo": lo,
                "hi": hi,
                fixed: other,
                "lead": iv.loc[proxy, "single"] - other,  # at seed 0
                "range": hi - lo,  # the seed noise
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame):
    """One panel per dataset run: each proxy's seed-0 |ρ| (dot) and its range over
    the scorer settings (bar), proxies in the first panel's order."""
    t = table.dropna(subset=["lo"])
    dss = list(dict.fromkeys(t["dataset"]))
    fig, axes = plt.subplots(1, len(dss), figsize=(4 * len(dss), 3.8), squeeze=False)
    first = t[t["dataset"] == dss[0]].sort_values("mean", ascending=False)
    order = list(first["proxy"])
    for ax, ds in zip(axes[0], dss, strict=True):
        g = t[t["dataset"] == ds].set_index("proxy").loc[order]
        y = range(len(order))
        err = [g["single"] - g["lo"], g["hi"] - g["single"]]
        ax.errorbar(g["single"], y, xerr=err, fmt="o", capsize=4, color="C0")
        ax.set_yticks(list(y), order)
        ax.invert_yaxis()
        ax.set_xlabel("|Spearman ρ| with test accuracy")
        ax.set_title(ds, fontsize=11)
    n = int(t["n"].max())
    fig.suptitle(
        f"Seed spread on {n} cells: seed 0 (dot) and the range over "
        f"{int(t['configs'].max())} scorer settings (bar)",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def _abs_interval(exhibit: str, ds: str, root) -> tuple[pd.DataFrame | None, int]:
    """:func:`interval` of |Spearman| for one dataset's run (None: not run), and
    its cells."""
    rho = read(exhibit, ds, root)
    if rho.empty:
        return None, 0
    n = int(rho["n_used"].max())
    return interval(rho.assign(spearman=rho["spearman"].abs())), n


def records(
    datasets: Sequence[str], exhibit: str = "seeds", root: str | Path | None = None
) -> list[dict]:
    """numbers.json rows: per dataset run and proxy, seed 0's |Spearman| with the
    range over the scorer settings as ``ci_lo``/``ci_hi`` (no published values)."""
    rows = []
    for ds in datasets:
        iv, n = _abs_interval(exhibit, ds, root)
        if iv is None:
            continue
        rows += [
            {
                "experiment": "seed_spread",
                "metric": f"|spearman|({p}, test_acc), seed 0",
                "dataset": ds,
                "value": r["single"],
                "ci_lo": r["lo"],
                "ci_hi": r["hi"],
                "sd": r["sd"],
                "n": n,
                "stand_in": results.is_stand_in(ds),
                "note": f"range over {int(r['configs'])} scorer settings (init "
                "seeds 0-2 on batch draw 0, seed 0 on draw 1), first cells of the "
                "seed-0 sample, fp32 CPU",
            }
            for p, r in iv.iterrows()
        ]
    return rows


def main(argv=None) -> None:
    """``seeds`` for one dataset: score, correlate, write (see above)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exhibit", choices=["seeds"])
    ap.add_argument("--dataset", default="cifar10")
    ap.add_argument("--n", type=int, default=1000, help="cells (first of seed 0)")
    ap.add_argument("--proxies", default=None, help="comma list (default: all)")
    ap.add_argument("--out", default=None, help="folder (default: results/spread)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--workers", type=int, default=1, help="scorer processes")
    a = ap.parse_args(argv)
    configs = seed_configs()
    proxies = a.proxies.split(",") if a.proxies else list(SPREAD_PROXIES)
    rho = rho_by_config(
        a.dataset,
        configs,
        proxies,
        a.n,
        progress=True,
        device=a.device,
        workers=a.workers,
    )
    path = write(
        rho, a.exhibit, a.dataset, a.out, n=a.n, configs=configs, proxies=proxies
    )
    print(interval(rho).round(4).to_string())
    print(f"-> {path}")


# the proxies of notebooks 01 and 02's tables: the full-space tables' but the costs
# (#params and FLOPs do not depend on a seed); fisher: the official network
SPREAD_PROXIES = tuple(p for p in fjobs.TABLE_PROXIES if p not in ("params", "flops"))


if __name__ == "__main__":
    main()
