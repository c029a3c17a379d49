"""The table the assignments read: ``course/masters/data/nb201_cifar10.parquet``.

    python -m zclib.course data          # rewrite it (needs the benchmark tables)

One row per NAS-Bench-201 cell (all 15,625: assignment 3 mutates cells, so it needs
every neighbour), by benchmark index (``index``; the arch string of index i is
``zclib.space.benchmark_order()[i]``), float32 columns (synflow float64: its
values pass float32's range):

* from NATS-Bench (via :func:`zclib.bench.load_table`, CIFAR-10): ``test_acc``
  (200 epochs), ``valid_acc_12ep`` and ``train_time_12ep_s`` (the 12-epoch
  schedule: what a search "trains");
* from our shipped scores (``results/scores/fp32/nb201_cifar10.parquet``, seed 0, batch
  64): ``naswot``, ``synflow``, ``snip``, ``params``.

Size: about 0.5 MB (the issue's limit for the kit's data is 1 MB; tested).
Sources and licences are stated in ``course/masters/data/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zclib.course.release import MASTERS_DIR

DATA_DIR = MASTERS_DIR / "data"
TABLE = DATA_DIR / "nb201_cifar10.parquet"
BENCH_COLUMNS = ("test_acc", "valid_acc_12ep", "train_time_12ep_s")
SCORE_COLUMNS = ("naswot", "synflow", "snip", "params")
MAX_BYTES = 1_000_000  # the kit's data budget (issue 18)


def make_table() -> pd.DataFrame:
    """The course table from the benchmark and the shipped CIFAR-10 scores.

    Returns:
        15,625 rows by benchmark index: ``index`` (int16) and float32 columns.
    """
    from zclib import bench, results

    acc = bench.load_table("cifar10")
    scores = results.shipped("cifar10")
    if scores is None:
        raise FileNotFoundError(
            f"no shipped CIFAR-10 score table in {results.SCORES_DIR}"
        )
    scores = scores.set_index("index").reindex(acc["index"])
    out = pd.DataFrame({"index": acc["index"].to_numpy(dtype=np.int16)})
    for c in BENCH_COLUMNS:
        out[c] = acc[c].to_numpy(dtype=np.float32)
    for c in SCORE_COLUMNS:
        # synflow reaches 1e38 and beyond (a product over layers): float64
        dtype = np.float64 if c == "synflow" else np.float32
        out[c] = scores[c].to_numpy(dtype=dtype)
    return out


def write_table(path: str | Path = TABLE) -> Path:
    """Write :func:`make_table` as Parquet (zstd, no pandas index); check the size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_table().to_parquet(path, index=False, compression="zstd")
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size} bytes (> {MAX_BYTES})")
    return path
