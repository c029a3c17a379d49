"""Does the fused pass get slower after other configurations ran in the same process?

    python results/checks/fused_after_others.py

`make bench` times every configuration in one process; its fused seconds on
``space.sample(10, 0)`` were ~30% above a fresh process's (docs/speed.md). This
times ``Scorer(six).score`` on those 10 cells (CIFAR-10, batch 64, seed 0, 2
threads) fresh, then after three naive scorings, after one packed pass of 8, and
after one scoring by the reference code. Run it on a quiet machine. Writes
``results/bench/fused_after_others.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from zclib import oracle, proxies, scoring, space
from zclib.provenance import provenance

OUT = Path(__file__).resolve().parents[1] / "bench" / "fused_after_others.json"


def main() -> None:
    torch.set_num_threads(2)
    archs = list(space.sample(10, 0))
    six = list(proxies.ABDELFATTAH)
    common = dict(dataset="cifar10", proxies=six, seed=0, batch_size=64)
    fused = scoring.Scorer(pack=1, **common)
    fused.score(archs[0])  # warm-up

    def timed(after: str) -> dict:
        wall = time.perf_counter()
        for a in archs:
            fused.score(a)
        row = {"after": after, "s_per_arch": (time.perf_counter() - wall) / len(archs)}
        print(f"fused after {after}: {row['s_per_arch']:.3f} s/arch", flush=True)
        return row

    rows = [timed("nothing (fresh)")]
    naive = scoring.Scorer(mode="naive", **common)
    for a in archs[:3]:
        naive.score(a)
    rows.append(timed("3 naive scorings"))
    scoring.Scorer(pack=8, **common).score_many(archs[:8])
    rows.append(timed("one packed pass of 8"))
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    oracle.ReferenceScorer("cifar10", x, y).score(archs[0])
    rows.append(timed("one reference scoring"))
    OUT.write_text(
        json.dumps(
            {
                "what": __doc__.split("\n")[0],
                "cells": "space.sample(10, 0)",
                "threads": 2,
                "load_after": os.getloadavg(),
                "rows": rows,
                "provenance": provenance(),
            },
            indent=1,
        )
        + "\n"
    )
    print("->", OUT)


if __name__ == "__main__":
    main()
