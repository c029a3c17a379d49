"""Does the reference's data protocol move any proxy's rho?

    python results/checks/data_protocol.py cifar100 200 [workers]

Two ways our batch differs from the one the zero-cost-proxy reference code draws:
(1) for CIFAR-100 the default ``norm="foresight"`` uses mean = std = 0.5, where the
reference uses CIFAR-10's constants (``norm="foresight_exact"``); (2) the reference
draws its batch from the training loader, i.e. through random crop (black padding)
and flip (``augment=True``). Scores the first N cells of the seed-0 sample on the
foresight network (the network of the published table) under three settings, same
images, same init: ``default`` (foresight, plain), ``exact_norm`` (foresight_exact,
plain) and ``exact_norm+augment`` (foresight_exact, augmented), and reports each
proxy's Spearman rho with the 200-epoch test accuracy and the paired bootstrap
difference to ``default``. Writes ``data_protocol_<dataset>.json``.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from zclib import results, space, stats
from zclib.provenance import provenance
from zclib.scoring import score_archs

PROXIES = [
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "synflow",
    "jacob_cov",
    "naswot",
    "zico",
]
SETTINGS = {
    "default": ("foresight", False),
    "exact_norm": ("foresight_exact", False),
    "exact_norm+augment": ("foresight_exact", True),
}


def main():
    ds = results.canonical_dataset(sys.argv[1] if len(sys.argv) > 1 else "cifar100")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    archs = space.sample(n, 0)
    tabs, secs = {}, {}
    for name, (norm, augment) in SETTINGS.items():
        t0 = time.time()
        tabs[name] = results.with_accuracy(
            score_archs(
                archs,
                ds,
                PROXIES,
                variant="foresight",
                norm=norm,
                augment=augment,
                workers=workers,
                chunk_size=10,
            ),
            ds,
        )
        secs[name] = time.time() - t0
    acc = tabs["default"]["test_acc"].to_numpy(dtype=float)
    out = {
        "what": __doc__,
        "dataset": ds,
        "n": n,
        "variant": "foresight",
        "seed": 0,
        "batch_size": 64,
        "settings": {k: {"norm": v[0], "augment": v[1]} for k, v in SETTINGS.items()},
        "seconds": secs,
        "rows": [],
    }
    for p in PROXIES:
        base = tabs["default"][p].to_numpy(dtype=float)
        row = {"proxy": p}
        for name, tab in tabs.items():
            x = tab[p].to_numpy(dtype=float)
            rho, lo, hi = stats.bootstrap_ci(x, acc, n_boot=1000, seed=0)
            row[name] = {"rho": rho, "ci95": [lo, hi]}
            if name != "default":
                pb = stats.paired_bootstrap(
                    x, base, acc, stat="spearman", n_boot=1000, seed=0
                )
                row[name]["minus_default"] = {
                    "diff": pb["delta"],
                    "ci95": [pb["lo"], pb["hi"]],
                }
        out["rows"].append(row)
        print(
            p,
            {k: round(v["rho"], 4) for k, v in row.items() if k != "proxy"},
            {
                k: round(v["minus_default"]["diff"], 4)
                for k, v in row.items()
                if k not in ("proxy", "default")
            },
            flush=True,
        )
    diffs = [
        r[k]["minus_default"]["diff"]
        for r in out["rows"]
        for k in ("exact_norm", "exact_norm+augment")
    ]
    assert np.isfinite(diffs).all()
    out["diff_range"] = {
        k: [
            min(r[k]["minus_default"]["diff"] for r in out["rows"]),
            max(r[k]["minus_default"]["diff"] for r in out["rows"]),
        ]
        for k in ("exact_norm", "exact_norm+augment")
    }
    out["provenance"] = provenance()
    Path(__file__).with_name(f"data_protocol_{ds}.json").write_text(
        json.dumps(out, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
