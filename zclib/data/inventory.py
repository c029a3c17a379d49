"""What image data this machine has: one row per dataset (``python -m zclib data``).

from zclib.data import report
[(r["dataset"], r["found"], r["n_train"]) for r in report()]
"""

from __future__ import annotations

import pickle
from pathlib import Path

from zclib import names, paths
from zclib.data.cache import load_dataset
from zclib.data.sources import CANDIDATES, HOW_TO_GET, find_source

# Official sizes, to flag subsets in report(): (train, test) images.
OFFICIAL_SIZES = {
    "cifar10": (50_000, 10_000),
    "cifar100": (50_000, 10_000),
    "ImageNet16-120": (151_700, 6_000),
}


def report(*, cache: str | Path | None = None) -> list[dict]:
    """One row per dataset: what was found, where, and how many images per split.

    Decodes each split once (then served from the .npz cache).

    Args:
        cache: .npz cache folder (see :func:`load_dataset`).

    Returns:
        Dicts with keys dataset, found, path, format, stand_in, stand_in_name
        (which stand-in, "" for official data), n_train, n_test, complete (both
        splits at official size), note (names the stand-in), searched (list, or
        None when found).
    """
    rows = []
    for ds in names.DATASETS:
        row = {
            "dataset": ds,
            "found": False,
            "path": None,
            "format": None,
            "stand_in": None,
            "stand_in_name": None,
            "n_train": None,
            "n_test": None,
            "complete": False,
            "note": "",
            "searched": None,
        }
        try:
            src = find_source(ds)
        except FileNotFoundError:
            row["searched"] = paths.searched(*CANDIDATES[ds])
            row["note"] = f"not found; {HOW_TO_GET[ds]}"
            rows.append(row)
            continue
        row.update(
            found=True,
            path=str(src.path),
            format=src.format,
            stand_in=src.stand_in,
            stand_in_name=src.stand_in_name,
        )
        notes = [src.note] if src.note else []
        for split in ("train", "test"):
            try:
                row[f"n_{split}"] = len(load_dataset(ds, split, cache=cache))
            except FileNotFoundError:
                notes.append(f"no {split} split")
            except (ValueError, pickle.UnpicklingError) as e:  # shown, not raised
                notes.append(f"{split} unreadable: {e}")
        row["complete"] = (row["n_train"], row["n_test"]) == OFFICIAL_SIZES[ds]
        if not row["complete"] and row["n_train"] is not None:
            notes.append(f"official sizes are {OFFICIAL_SIZES[ds]} (train, test)")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return rows
