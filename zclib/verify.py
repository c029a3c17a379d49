"""Check shipped full-space scores by recomputing a random sample on this machine.

    python -m zclib verify-scores --n 20            # all shipped datasets
    make verify-scores

The shipped tables were computed on a GPU; CPU arithmetic differs slightly (other
convolution algorithms, summation order), so each proxy has a stated tolerance:
``|ours - shipped| <= RTOL[p] * |shipped| + ATOL_IQR[p] * IQR(shipped column)``.
The IQR term matters for signed sums that can cross zero (grasp). The tolerances
were set from measured CPU-vs-GPU differences (README, issue notes); jacob_cov and
zico are the most sensitive (eigenvalues of a near-singular correlation matrix;
ratios |g1|+|g2| / |g1-g2| of two batches' gradients).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zclib import chunks, network, results
from zclib.fileio import read_parquet
from zclib.names import DATASETS, variant_column
from zclib.scoring import score_archs
from zclib.stats import spearman

# Set from measured CPU (2.13, fp32) vs the H100 tables shipped until 2026-12-03
# (2.11+cu130, cuDNN convolutions in TF32, PyTorch's default then; results/scores/
# README.md); the clean fp32 tables agree far closer (fp32/verify*.json). grasp, a
# signed sum of -w*Hg terms, is the most sensitive; a ReLU code flip moves naswot
# by ~1e-6. A variant's column (fisher_foresight) is held to its proxy's tolerance.
RTOL = {
    "grad_norm": 0.05,
    "snip": 0.05,
    "grasp": 0.1,
    "fisher": 0.1,
    "synflow": 1e-9,
    "jacob_cov": 5e-3,
    "naswot": 1e-5,
    "zico": 0.05,
    "params": 1e-9,
    "flops": 1e-9,
    # The suite's proxies (the full-space `suite` job), set 2026-12-03 from the
    # family each belongs to, with a margin over what 20 cells of the clean CIFAR-10
    # table measured (CPU 2 threads vs the job's 1-thread workers; max relative
    # difference in brackets): l2_norm a sum of weight norms (0); plain a signed
    # grad*w sum, like snip, crossing zero (4.4e-4; 1.1e-4 of the IQR); epe_nas and
    # meco correlation / eigenvalue statistics, like jacob_cov (5e-16, 8e-9); zen a
    # log of a feature norm (8e-9); swap a count of distinct ReLU patterns, which a
    # code flip moves by one, like naswot (0).
    "l2_norm": 1e-6,
    "plain": 0.05,
    "epe_nas": 5e-3,
    "zen": 1e-4,
    "meco": 5e-3,
    "swap": 1e-4,
}
ATOL_IQR = {
    "grasp": 1.0,
    "fisher": 0.05,
    "jacob_cov": 1e-3,
    "zico": 0.01,
    "plain": 0.01,
    "epe_nas": 1e-3,
    "meco": 1e-3,
}
MIN_RANK_RHO = 0.95  # Spearman of recomputed vs shipped over the sample, per proxy


def load_table(path: str | Path) -> pd.DataFrame:
    """A score table from its file, or from the finished chunks of a run still in
    progress (``<path>.parts/``: its rows and the configuration its ``run.json``
    records), with ``attrs["coverage"]`` (non-NaN scores per column).

    Raises:
        FileNotFoundError: neither the file nor a parts folder with chunks exists.
    """
    path = Path(path)
    if path.is_file():
        df = read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    else:
        folder = chunks.parts_dir(path)
        parts = chunks.read_parts(folder)
        if not parts:
            raise FileNotFoundError(f"no score table {path} and no chunks in {folder}")
        df = pd.concat(list(parts.values()), ignore_index=True)
        run = json.loads((folder / "run.json").read_text())
        for key in ("seed", "batch_size", "variant", "norm", "stand_in_name"):
            if key in run and key not in df:
                df[key] = run[key]
    df.attrs["coverage"] = {c: int(df[c].notna().sum()) for c in df.columns}
    return df


def verify(
    dataset: str,
    n: int = 20,
    seed: int = 1,
    proxies=None,
    progress: bool = True,
    table: str | Path | None = None,
) -> pd.DataFrame:
    """Recompute ``n`` random architectures of a score table; one row per (arch,
    column): every proxy column, and a network variant's (``fisher_foresight``,
    recomputed on that network).

    Scored on the images the table records (for ImageNet16-120 the stand-in it was
    made from, which need not be the one data discovery prefers now).

    Args:
        table: a table file or an unfinished run's output path (see
            :func:`load_table`); default: the shipped table of ``dataset``.

    Returns:
        Columns arch_str, proxy, shipped, recomputed, abs_diff, rel_diff, tol, ok
        (NaN on both sides counts as agreement).
    """
    table = results.shipped(dataset) if table is None else load_table(table)
    if table is None:
        raise FileNotFoundError(
            f"no shipped scores for {dataset} in {results.SCORES_DIR}"
        )
    meta = table.iloc[0]
    wanted = list(proxies or RTOL)
    # column -> proxy, per network variant: the table's own, and a variant's columns
    # (``fisher_foresight``: fisher on the foresight network, zclib.names)
    groups = {meta["variant"]: {p: p for p in wanted if p in table.columns}}
    for v in network.VARIANTS:
        cols = {variant_column(p, v): p for p in wanted if v != meta["variant"]}
        cols = {c: p for c, p in cols.items() if c in table.columns}
        if cols:
            groups[v] = cols
    full = [
        c
        for cols in groups.values()
        for c in cols
        if table.attrs["coverage"].get(c) == len(table)
    ]
    have = table.dropna(subset=full)
    rng = np.random.default_rng(seed)
    pick = have.iloc[rng.choice(len(have), size=min(n, len(have)), replace=False)]
    archs = list(pick["arch_str"])
    ship = table.set_index("arch_str")
    rows = []
    for variant, cols in groups.items():
        rec = score_archs(
            archs,
            dataset,
            sorted(set(cols.values())),
            seed=int(meta["seed"]),
            batch_size=int(meta["batch_size"]),
            variant=variant,
            norm=meta["norm"],
            stand_in=results.table_stand_in(table, dataset),  # the table's own images
            progress=progress,
        )
        rows += _compared(dataset, rec, ship, cols)
    return pd.DataFrame(rows)


def _compared(
    dataset: str, rec: pd.DataFrame, ship: pd.DataFrame, cols: dict[str, str]
) -> list[dict]:
    """One row per (recomputed arch, table column) with the column's tolerance."""
    rows = []
    for _, r in rec.iterrows():
        for c, p in cols.items():
            a, b = r[p], ship.at[r["arch_str"], c]
            if pd.isna(b):
                continue  # not covered by a partial table
            col = ship[c].dropna()
            tol = RTOL[p] * abs(b) + ATOL_IQR.get(p, 0.0) * float(
                col.quantile(0.75) - col.quantile(0.25)
            )
            both_nan = pd.isna(a) and pd.isna(b)
            diff = abs(a - b) if not both_nan else 0.0
            rows.append(
                {
                    "dataset": dataset,
                    "arch_str": r["arch_str"],
                    "proxy": c,
                    "shipped": b,
                    "recomputed": a,
                    "abs_diff": diff,
                    "rel_diff": (
                        diff / abs(b)
                        if b not in (0, 0.0) and not pd.isna(b)
                        else np.nan
                    ),
                    "tol": tol,
                    "ok": bool(both_nan or diff <= tol),
                }
            )
    return rows


def rank_agreement(rows: pd.DataFrame) -> float:
    """Spearman of recomputed vs shipped scores (NaN when < 5 finite pairs or
    constant)."""
    if len(rows) < 5 or rows["shipped"].nunique() < 2:
        return float("nan")
    return spearman(rows["recomputed"], rows["shipped"])[0]


def _arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    ap.add_argument("--n", type=int, default=20, help="archs per dataset")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS))
    ap.add_argument(
        "--table",
        default=None,
        help="verify this table (a file, or an unfinished run's --out path: its "
        "finished chunks) instead of the shipped one; one dataset",
    )
    ap.add_argument("--out", default=str(results.SCORES_DIR / "verify.json"))
    return ap


def add_cli(sub) -> None:
    """Register ``verify-scores`` with the ``python -m zclib`` parser."""
    v = sub.add_parser(
        "verify-scores", help="recompute a sample of shipped scores on CPU"
    )
    _arguments(v).set_defaults(func=_cmd_verify)


def main(argv: list[str] | None = None) -> int:
    """CLI: verify every shipped dataset; exit 1 if any score is out of tolerance."""
    return _cmd_verify(
        _arguments(argparse.ArgumentParser(prog="zclib verify-scores")).parse_args(argv)
    )


def _cmd_verify(args: argparse.Namespace) -> int:
    if args.table is not None:
        if len(args.datasets) != 1:
            raise ValueError("--table needs exactly one --datasets entry")
        frames = [verify(args.datasets[0], args.n, args.seed, table=args.table)]
    else:
        frames = [
            verify(ds, args.n, args.seed)
            for ds in args.datasets
            if results.shipped(ds) is not None
        ]
    if not frames:
        print("no shipped scores to verify", file=sys.stderr)
        return 1
    df = pd.concat(frames, ignore_index=True)
    summary = (
        df.groupby(["dataset", "proxy"])
        .agg(
            n=("ok", "size"),
            ok=("ok", "sum"),
            max_rel_diff=("rel_diff", "max"),
            median_rel_diff=("rel_diff", "median"),
            max_abs_diff=("abs_diff", "max"),
        )
        .reset_index()
    )
    summary["rank_rho"] = [
        rank_agreement(df[(df.dataset == d) & (df.proxy == p)])
        for d, p in zip(summary.dataset, summary.proxy, strict=True)
    ]
    print(summary.to_string(index=False))
    ranks_ok = bool((summary["rank_rho"].fillna(1.0) >= MIN_RANK_RHO).all())
    payload = {
        "table": args.table or "shipped",
        "n_per_dataset": args.n,
        "seed": args.seed,
        "rtol": RTOL,
        "atol_iqr": ATOL_IQR,
        "min_rank_rho": MIN_RANK_RHO,
        "all_ok": bool(df["ok"].all()) and ranks_ok,
        "summary": summary.to_dict(orient="records"),
    }
    with open(args.out, "w") as f:
        json.dump(payload, f, indent=2, default=float)
    print(
        f"{'OK' if payload['all_ok'] else 'MISMATCH'}: "
        f"{int(df['ok'].sum())}/{len(df)} "
        f"scores within tolerance; wrote {args.out}",
        file=sys.stderr,
    )
    return 0 if payload["all_ok"] else 1
