"""Ours against the published value, and which numbers rest on stand-in images.

    from zclib import results       # re-exports these: results.compare, ...
    results.compare(0.62, 0.64, tol=0.03)          # True
    results.compare(0.60, 0.64, 0.03, checked=False)   # "n/a"
    results.is_stand_in("ImageNet16-120")          # True

One tolerance check for every notebook (:func:`compare`, today: within or not, or
not checked); statuses beyond that belong here too, so every notebook gets them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib.names import canonical_dataset

# Datasets whose shipped proxy scores were computed on stand-in images, and the note
# every number computed from them carries.
STAND_IN_DATASETS = ("ImageNet16-120",)
STAND_IN_NOTE = (
    "ImageNet16-120 scores from a 120-image stand-in batch (not the "
    "official images); accuracies are the benchmark's. "
)
# the same, worded for the search notebooks (04, 06), whose records carry it as is
STAND_IN_PROXY_NOTE = (
    "ImageNet16-120 proxy scores from a 120-image stand-in batch "
    "(not the official images); accuracies are the benchmark's. "
)
NOT_CHECKED = "n/a"  # compare(): no tolerance applies (stand-in, or not comparable)


def is_stand_in(dataset: str) -> bool:
    """Whether a dataset's proxy scores come from stand-in images (not the official
    ones): the one flag every notebook labels and excludes from tolerances with."""
    return canonical_dataset(dataset) in STAND_IN_DATASETS


def compare(ours, published, tol: float | None, checked=True):
    """Whether ours reproduces the published value: ``|ours - published| <= tol``.

    Args:
        ours, published: scalars, or arrays/Series of equal length (elementwise).
        tol: the stated tolerance; None (or NaN): nothing is checked.
        checked: False (or a boolean array: False where) no comparison applies,
            e.g. a stand-in dataset or another accuracy target than the paper's.

    Returns:
        Scalars: True / False, or :data:`NOT_CHECKED` where not checked. Arrays: a
        Series of the same (bool dtype when everything is checked). A NaN value
        is never within.
    """
    if tol is not None and np.ndim(tol) == 0 and not np.isfinite(tol):
        tol = None  # a NaN tolerance (e.g. a recorded null): none stated
    if np.ndim(ours) == 0 and np.ndim(published) == 0 and np.ndim(checked) == 0:
        if tol is None or not checked:
            return NOT_CHECKED
        return bool(abs(ours - published) <= tol)
    index = ours.index if isinstance(ours, pd.Series) else None
    diff = np.abs(np.asarray(ours, dtype=float) - np.asarray(published, dtype=float))
    within = pd.Series(diff <= (np.nan if tol is None else tol), index=index)
    if tol is None:
        return pd.Series(NOT_CHECKED, index=within.index, dtype=object)
    if np.ndim(checked) == 0 and checked:
        return within
    mask = np.broadcast_to(np.asarray(checked, dtype=bool), within.shape)
    return within.astype(object).where(mask, NOT_CHECKED)
