"""Benchmark columns and proxy scores of one dataset as arrays by benchmark index.

    from zclib.search import lookup
    lk = lookup.load("cifar100", ["naswot", "synflow"])
    lk.acc("valid_acc_12ep")      # (15,625,) by benchmark index
    lk.proxy["synflow"]           # oriented (higher = better), NaN as -inf
    lk.raw["synflow"]             # the score as shipped (NaN kept)

Scores come from :func:`zclib.results.load_scores` (the shipped full-space tables
when present), accuracies and training times from :func:`zclib.bench.load_table`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zclib import bench, results
from zclib import proxies as zp
from zclib.names import canonical_dataset
from zclib.paths import RESULTS_DIR
from zclib.provenance import portable_path
from zclib.search.core import by_index, proxy_fitness

SPEED_JSON = RESULTS_DIR / "bench" / "cpu_cifar10_b64.json"


@dataclasses.dataclass
class Lookup:
    """One dataset: the benchmark table (row i = index i) and proxy arrays."""

    dataset: str
    table: pd.DataFrame
    raw: dict[str, np.ndarray]
    proxy: dict[str, np.ndarray]
    stand_in: bool  # proxy scores computed on stand-in images
    source: str  # where the scores came from

    def acc(self, column: str) -> np.ndarray:
        """A benchmark column (accuracy, time) by benchmark index."""
        return self.table[column].to_numpy(dtype=float)


def load(
    dataset: str,
    proxies: Sequence[str] = ("naswot", "synflow"),
    seed: int = 0,
    batch_size: int = 64,
) -> Lookup:
    """Benchmark table and proxy scores of ``dataset`` (all 15,625 cells).

    Args:
        dataset: any alias of :func:`zclib.names.canonical_dataset`.
        proxies: proxy names (their registered direction orients them).
        seed, batch_size: settings of the score tables (shipped: 0 and 64).
    """

    ds = canonical_dataset(dataset)
    table = bench.load_table(ds)
    if not np.array_equal(table["index"].to_numpy(), np.arange(len(table))):
        raise ValueError(f"benchmark table of {ds} is not in index order")
    raw, oriented = {}, {}
    stand_in, source = results.is_stand_in(ds), ""
    if proxies:
        scores = results.load_scores(
            ds, list(proxies), seed=seed, batch_size=batch_size
        )
        for p in proxies:
            raw[p] = by_index(scores, p)
            oriented[p] = proxy_fitness(raw[p], zp.get(p).direction)
        source = str(scores.attrs.get("source", scores.attrs.get("origin", "")))
        source = portable_path(source) if source else source  # shown in tables
    return Lookup(ds, table, raw, oriented, stand_in, source)


def scoring_seconds(proxy: str) -> float:
    """Median CPU seconds to score one cell with ``proxy`` (2 cores, batch 64,
    CIFAR-10), from the speed benchmark's JSON; NaN when it has not been run."""
    try:
        d = json.loads(SPEED_JSON.read_text())
        return float(d["singles"][proxy]["median"])
    except (OSError, KeyError, ValueError):
        return math.nan


def note_number(note: str | float, *keys: str) -> float:
    """The number printed after the first of ``keys`` found in a published row's
    note, e.g. ``note_number("std 10.056; score mean 1720.614 (std 113.901)",
    "score mean")`` is 1720.614 (``"std"`` gives the first std, 10.056). NaN when
    none is found."""
    if not isinstance(note, str):
        return math.nan
    for key in keys:
        m = re.search(rf"{re.escape(key)}\s+\(?([-+]?\d+(?:\.\d+)?)", note)
        if m:
            return float(m.group(1))
    return math.nan
