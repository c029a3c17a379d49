"""ZiCo's Fig. 4 ablation (Li et al. 2023): its rank correlation with accuracy vs the
number of batches and vs the batch size, on random NATS-TSS cells of CIFAR-100.

    python -m zclib.exhibits.zico_ablation --dataset cifar100 --n 300 --workers 2

    from zclib.exhibits import zico_ablation as za
    rho = za.read("cifar100")           # what notebook 02 shows (empty: not run)
    fig = za.figure(rho)

One pass per cell and batch size: ZiCo over B batches reads only the gradients of
batches 0..B-1 (train-mode BatchNorm normalises each batch by its own statistics and
no weight changes between batches), and the scorer's batches of one seed are
prefixes of each other (:func:`zclib.data.get_batches`), so one pass of 10 batches
gives ZiCo for B = 2, 4, 6, 8, 10: bit for bit what five scorer runs with
``zico_batches=B`` give (tested), at a third of the cost. The batch-size sweep
scores 2 batches at each size.

Deviations from the paper's Fig. 4, stated in notebook 02: fewer cells than its
2,000 on CPU (the count is in the JSON and the figure, with bootstrap CIs); seed
0's batches and initialisation; batch sizes 1, 2, 8, 16, 32, 64, 128 (the paper's
axis runs 1-128). ZiCo's spread is over batches (the reference's ``np.std`` over
the per-batch gradients), so one image per batch is a valid point. Scores are
kept resumably per chunk of 25 cells under ``results/spread/scores/zico_ablation/``
(committed: a longer run resumes in a later session); the correlations go to
``results/spread/zico_ablation_<dataset>.json`` (written and read as the seed
spread's, :func:`zclib.exhibits.score_spread.write`), which notebook 02 reads.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from zclib import chunks, proxies, results, space, stats
from zclib.exhibits import score_spread
from zclib.network import build
from zclib.progress import bar
from zclib.proxies.passes import Pass
from zclib.proxies.zico import zico_from_grads
from zclib.scoring import Scorer, part_key

BATCHES = (2, 4, 6, 8, 10)  # Fig. 4 (left): number of batches, at batch size 64
BATCH_SIZES = (1, 2, 8, 16, 32, 64, 128)  # Fig. 4 (right): batch size, at 2 batches
BASE_SIZE, BASE_BATCHES = 64, 2  # the scorer's defaults: where the two sweeps meet
CHUNK = 25  # cells per cached chunk
CACHE = score_spread.CACHE / "zico_ablation"
EXHIBIT = "zico_ablation"  # the JSON's prefix in score_spread.OUT


def passes(
    batches: Sequence[int] = BATCHES, sizes: Sequence[int] = BATCH_SIZES
) -> list[tuple[int, tuple[int, ...]]]:
    """``(batch size, batch counts)`` per pass over the cells: the batch-count sweep
    at :data:`BASE_SIZE`, then each other size at :data:`BASE_BATCHES`."""
    out = [(BASE_SIZE, tuple(sorted({BASE_BATCHES, *map(int, batches)})))]
    return out + [(int(s), (BASE_BATCHES,)) for s in sizes if int(s) != BASE_SIZE]


class PrefixScorer:
    """ZiCo over the first ``k`` batches for every ``k`` in ``counts``, from one
    pass of ``max(counts)`` batches per cell (see the module docstring).

    Args:
        dataset, batch_size, seed, stand_in: as :class:`zclib.scoring.Scorer`.
        counts: batch counts (each >= 2).
    """

    def __init__(self, dataset, batch_size, counts, seed=0, stand_in=None):
        self.counts = tuple(sorted(int(k) for k in counts))
        self.scorer = Scorer(
            dataset,
            "zico",
            seed=seed,
            batch_size=batch_size,
            zico_batches=max(self.counts),
            stand_in=stand_in,
            pack=1,
        )
        self.spec = proxies.get("zico")

    def config(self) -> dict:
        """The scorer's configuration (its data folder left out) and the counts."""
        cfg = self.scorer.config()
        cfg.pop("data_source")
        return {**cfg, "counts": list(self.counts)}

    def score(self, arch) -> dict:
        """arch_str, index and ``zico_b<k>`` per count (NaN where not finite)."""
        s = self.scorer
        cell = space.as_cell(arch)
        net = build(cell, s.dataset, variant=s.variant, seed=s.seed)
        grads = Pass(net, s.batches, needs=self.spec.needs)["batch_weight_grads"]
        arch_str = space.format_arch(cell)
        row = {"arch_str": arch_str, "index": space.benchmark_index(arch_str)}
        for k in self.counts:
            row[column(k)] = proxies.reduce(self.spec, zico_from_grads(grads[:k]))
        return row


def column(k: int) -> str:
    """The score column of ZiCo over ``k`` batches."""
    return f"zico_b{k}"


_WORKER: PrefixScorer | None = None


def _init(kwargs: dict) -> None:
    global _WORKER
    torch.set_num_threads(1)
    _WORKER = PrefixScorer(**kwargs)


def _chunk(task: tuple[int, list[str]]) -> tuple[int, list[dict]]:
    k, archs = task
    return k, [_WORKER.score(a) for a in archs]


def scores(
    dataset: str,
    batch_size: int,
    counts: Sequence[int],
    n: int,
    workers: int = 1,
    progress: bool = False,
    cache: str | Path | None = None,
) -> pd.DataFrame:
    """ZiCo per count on the first ``n`` cells of ``zclib.space.sample(n, 0)``,
    resumable: chunks of :data:`CHUNK` cells under ``cache`` (default
    :data:`CACHE`) guarded by the run's identity (:mod:`zclib.chunks`). The
    sample's first cells do not depend on ``n``, so a run on more cells reuses
    every chunk that holds the same cells (a chunk with other cells, e.g. the last
    partial one, is scored again)."""
    global _WORKER
    archs = space.sample(n, 0)
    kwargs = dict(
        dataset=dataset,
        batch_size=int(batch_size),
        counts=tuple(counts),
        stand_in=results.score_stand_in(dataset),
    )
    probe = PrefixScorer(**kwargs)
    tag = f"{probe.scorer.dataset}_bs{batch_size}_b{'-'.join(map(str, counts))}"
    ident = {**probe.config(), "chunk_size": CHUNK, "sample_seed": 0}
    folder = chunks.open_parts(Path(cache or CACHE) / f"{tag}.parts", ident)
    tasks = [(k, archs[i : i + CHUNK]) for k, i in enumerate(range(0, n, CHUNK))]
    done = {}
    for k, chunk in tasks:  # the sample's prefixes agree: a larger n reuses chunks
        df = chunks.read_part(chunks.part_path(folder, part_key(k)))
        if df is not None and list(df["arch_str"]) == chunk:
            done[k] = df
    todo = [t for t in tasks if t[0] not in done]
    b = bar(
        n,
        initial=sum(map(len, done.values())),
        desc=f"zico bs{batch_size} {dataset}",
        unit="arch",
        enabled=progress,
    )

    def save(k: int, rows: list[dict]) -> None:
        done[k] = pd.DataFrame(rows)
        chunks.write_part(folder, part_key(k), done[k])
        b.update(len(rows))

    try:
        if workers <= 1 or len(todo) <= 1:
            _WORKER = probe
            for t in todo:
                save(*_chunk(t))
        else:
            with mp.get_context("spawn").Pool(workers, _init, (kwargs,)) as pool:
                for k, rows in pool.imap_unordered(_chunk, todo):
                    save(k, rows)
    finally:
        b.close()
    return pd.concat([done[k] for k, _ in tasks], ignore_index=True)


def correlations(
    dataset: str,
    n: int,
    workers: int = 1,
    progress: bool = False,
    n_boot: int = 1000,
    cache: str | Path | None = None,
) -> pd.DataFrame:
    """Spearman and Kendall of ZiCo with the 200-epoch test accuracy, with 95%
    bootstrap CIs, for every point of both sweeps.

    Returns:
        One row per (sweep, batch_size, batches): spearman, kendall, their CIs
        (``spearman_lo`` ...), n_used.
    """
    rows = []
    for size, counts in passes():
        df = scores(dataset, size, counts, n, workers, progress, cache)
        df = results.with_accuracy(df, dataset)
        acc = df["test_acc"].to_numpy()
        for k in counts:
            sweeps = []
            if size == BASE_SIZE:
                sweeps.append("batches")
            if k == BASE_BATCHES:
                sweeps.append("batch_size")
            row = {"batch_size": size, "batches": k, "sweep": ",".join(sweeps)}
            for stat in ("spearman", "kendall"):
                est, lo, hi = stats.bootstrap_ci(
                    df[column(k)].to_numpy(), acc, stat=stat, n_boot=n_boot, seed=0
                )
                row |= {stat: est, f"{stat}_lo": lo, f"{stat}_hi": hi}
            row["n_used"] = int(df[column(k)].notna().sum())
            rows.append(row)
    return pd.DataFrame(rows)


def write(rho: pd.DataFrame, dataset: str, n: int, out: str | Path | None = None):
    """``<out>/zico_ablation_<dataset>.json`` (default ``results/spread``)."""
    params = dict(n=n, passes=passes(), accuracy="test_acc")
    return score_spread.write(rho, EXHIBIT, dataset, out, **params)


def read(dataset: str, root: str | Path | None = None) -> pd.DataFrame:
    """The rows :func:`write` wrote (empty when the run has not been made)."""
    return score_spread.read(EXHIBIT, dataset, root)


def table(rho: pd.DataFrame) -> pd.DataFrame:
    """The sweeps as notebook 02 shows them: one row per point, ρ and τ with CIs."""
    out = rho.sort_values(["batch_size", "batches"]).copy()
    for stat in ("spearman", "kendall"):
        lo, hi = out[f"{stat}_lo"], out[f"{stat}_hi"]
        pairs = zip(lo, hi, strict=True)
        out[f"{stat} 95% CI"] = [f"[{a:.3f}, {b:.3f}]" for a, b in pairs]
    cols = ["sweep", "batch_size", "batches", "spearman", "spearman 95% CI"]
    return out[cols + ["kendall", "kendall 95% CI", "n_used"]]


def finding(rho: pd.DataFrame) -> str:
    """One Markdown sentence per sweep: the range of Spearman over its points."""
    lines = []
    for sweep, what in (("batches", "2-10 batches"), ("batch_size", "batch sizes")):
        d = rho[[sweep in str(v).split(",") for v in rho["sweep"]]].sort_values(sweep)
        lo, hi = d["spearman"].idxmin(), d["spearman"].idxmax()
        half = ((d["spearman_hi"] - d["spearman_lo"]) / 2).mean()
        lines.append(
            f"* Over {what} ({', '.join(map(str, d[sweep]))}): Spearman "
            f"{d.loc[lo, 'spearman']:.3f} (at {d.loc[lo, sweep]}) to "
            f"{d.loc[hi, 'spearman']:.3f} (at {d.loc[hi, sweep]}); a point's 95% CI "
            f"is ±{half:.3f} on average."
        )
    n = int(rho["n_used"].max())
    return f"ZiCo on {n} random CIFAR-100 cells:\n\n" + "\n".join(lines)


def records(rho: pd.DataFrame, dataset: str = "cifar100") -> list[dict]:
    """numbers.json rows (the paper's Fig. 4 tabulates no values to compare)."""
    return [
        {
            "experiment": "zico_ablation",
            "metric": f"{stat}(zico, test_acc), batch_size={r['batch_size']}, "
            f"batches={r['batches']}",
            "dataset": dataset,
            "value": r[stat],
            "ci_lo": r[f"{stat}_lo"],
            "ci_hi": r[f"{stat}_hi"],
            "n": int(r["n_used"]),
            "stand_in": results.is_stand_in(dataset),
            "note": "ZiCo Fig. 4 ablation; the paper gives a figure, no values",
        }
        for _, r in rho.iterrows()
        for stat in ("spearman", "kendall")
    ]


def figure(rho: pd.DataFrame, dataset: str = "cifar100"):
    """Fig. 4's two panels: |Spearman| and |Kendall| with 95% CIs vs the number of
    batches (batch size 64) and vs the batch size (2 batches)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    panels = [("batches", "batches", "number of batches (batch size 64)")]
    panels += [("batch_size", "batch_size", "batch size (2 batches)")]
    for ax, (sweep, x, xlabel) in zip(axes, panels, strict=True):
        d = rho[[sweep in str(v).split(",") for v in rho["sweep"]]]
        d = d.sort_values(x)
        for i, stat in enumerate(("spearman", "kendall")):
            ax.errorbar(
                d[x],
                d[stat],
                yerr=[d[stat] - d[f"{stat}_lo"], d[f"{stat}_hi"] - d[stat]],
                fmt="-o",
                capsize=3,
                color=f"C{i}",
                label=stat.capitalize(),
            )
        if x == "batch_size":
            ax.set_xscale("log", base=2)
        ax.set_xticks(list(d[x]), [str(v) for v in d[x]])
        ax.set_xlabel(xlabel)
    n = int(rho["n_used"].max())
    axes[0].set_ylabel("rank correlation vs 200-epoch test acc")
    axes[0].legend()
    fig.suptitle(f"ZiCo's Fig. 4 ablation, NATS-TSS {dataset}, {n} random cells")
    fig.tight_layout()
    return fig


def main(argv=None) -> None:
    """Score both sweeps for one dataset, correlate, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="cifar100")
    ap.add_argument("--n", type=int, default=300, help="cells (first of seed 0)")
    ap.add_argument("--workers", type=int, default=1, help="scorer processes")
    ap.add_argument("--out", default=None, help="folder (default: results/spread)")
    a = ap.parse_args(argv)
    rho = correlations(a.dataset, a.n, a.workers, progress=True)
    path = write(rho, a.dataset, a.n, a.out)
    print(rho.round(4).to_string())
    print(f"-> {path}")


if __name__ == "__main__":
    main()
