"""Did the proxy pass get slower? An interleaved A/B of an earlier commit and this tree.

    python results/checks/speed_ab.py ac1fe1c        # 3 rounds, the six proxies
    python results/checks/speed_ab.py HEAD~1 3 swap  # rounds, proxies

The earlier commit is checked out in a temporary git worktree; each round times
``Scorer(proxies).score(arch)`` on the same 10 cells (``space.sample(10, 0)``, the
cells of ``make bench``), CIFAR-10, batch 64, seed 0, torch at 2 threads, first the
one tree and then the other (the order alternates per round), each in a fresh
process after one untimed warm-up arch, network construction included as in
``make bench``. Scores of the two trees are compared too. Run it on a quiet
machine (pause a background job). Writes ``results/bench/ab_<old>_<new>.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIX = "grad_norm,snip,grasp,fisher,synflow,jacob_cov"


def time_archs(archs_file: str, proxies: str, threads: int) -> None:
    """In a child process: time each arch with the zclib on sys.path, print JSON."""
    import torch

    torch.set_num_threads(threads)
    import zclib
    from zclib import scoring

    archs = json.loads(Path(archs_file).read_text())
    scorer = scoring.Scorer(
        dataset="cifar10", proxies=proxies.split(","), seed=0, batch_size=64
    )
    scorer.score(archs[0])  # warm-up, not counted
    rows = []
    for arch in archs:
        cpu, wall = time.process_time(), time.perf_counter()
        s = scorer.score(arch)
        rows.append(
            {
                "arch": arch,
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "scores": {k: float(s[k]) for k in proxies.split(",")},
            }
        )
    print(json.dumps({"zclib": zclib.__file__, "rows": rows}))


def run_tree(tree: Path, archs_file: str, proxies: str, threads: int) -> list[dict]:
    """The child's rows; it fails unless the child imported that tree's zclib."""
    env = dict(
        os.environ,
        PYTHONPATH=str(tree),
        ZCLIB_DATA=str(ROOT.parent / "shared" / "data"),
    )
    out = subprocess.run(
        [sys.executable, __file__, "--one", archs_file, proxies, str(threads)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    res = json.loads(out.stdout)
    if not Path(res["zclib"]).is_relative_to(tree):
        raise RuntimeError(f"{tree}: the child imported {res['zclib']}")
    return res["rows"]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def main(old: str, rounds: int = 3, proxies: str = SIX, threads: int = 2) -> None:
    from zclib import space

    old_sha, new_sha = (
        git("rev-parse", "--short", old),
        git("rev-parse", "--short", "HEAD"),
    )
    dirty = bool(git("status", "--porcelain", "--", "zclib"))
    with tempfile.TemporaryDirectory() as tmp:
        archs_file = str(Path(tmp) / "archs.json")
        Path(archs_file).write_text(json.dumps(list(space.sample(10, 0))))
        worktree = Path(tmp) / "old"
        git("worktree", "add", "--detach", str(worktree), old_sha)
        try:
            trees = {"old": worktree, "new": ROOT}
            runs = []
            for r in range(rounds):
                order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
                for side in order:
                    rows = run_tree(trees[side], archs_file, proxies, threads)
                    runs.append({"round": r, "side": side, "rows": rows})
                    mean = sum(x["wall_s"] for x in rows) / len(rows)
                    print(f"round {r} {side}: {mean:.3f} s/arch", file=sys.stderr)
        finally:
            git("worktree", "remove", "--force", str(worktree))

    def per_arch(side: str, key: str) -> list[float]:
        return [
            sum(x[key] for x in run["rows"]) / len(run["rows"])
            for run in runs
            if run["side"] == side
        ]

    first = {s: next(run["rows"] for run in runs if run["side"] == s) for s in trees}
    max_rel = max(
        abs(a["scores"][p] - b["scores"][p]) / max(abs(a["scores"][p]), 1e-300)
        for a, b in zip(first["old"], first["new"], strict=True)
        for p in proxies.split(",")
    )
    summary = {
        side: {
            "wall_s_per_arch": per_arch(side, "wall_s"),
            "cpu_s_per_arch": per_arch(side, "cpu_s"),
        }
        for side in ("old", "new")
    }
    mean = {s: sum(v["wall_s_per_arch"]) / rounds for s, v in summary.items()}
    res = {
        "what": "interleaved A/B of Scorer.score, same cells, batch, seed, threads",
        "old": old_sha,
        "new": new_sha + ("+dirty" if dirty else ""),
        "proxies": proxies.split(","),
        "threads": threads,
        "cells": "space.sample(10, 0)",
        "load_after": os.getloadavg(),
        "summary": summary,
        "new_over_old_wall": mean["new"] / mean["old"],
        "scores_max_rel_diff": max_rel,
        "runs": runs,
    }
    tag = "" if proxies == SIX else "_" + proxies.replace(",", "-")
    path = ROOT / "results" / "bench" / f"ab_{old_sha}_{new_sha}{tag}.json"
    path.write_text(json.dumps(res, indent=1) + "\n")
    print(
        f"old {mean['old']:.3f} s/arch, new {mean['new']:.3f} s/arch "
        f"(new/old {res['new_over_old_wall']:.3f}); scores max rel diff {max_rel:.3g}"
        f" -> {path.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        time_archs(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(
            sys.argv[1],
            *(int(a) for a in sys.argv[2:3]),
            *sys.argv[3:4],  # proxies, comma-separated
        )
