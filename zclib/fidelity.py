"""Ours against the published value, and which numbers rest on stand-in images.

    from zclib import results       # re-exports these: results.compare, ...
    results.compare(0.62, 0.64, tol=0.03)          # True
    results.compare(0.60, 0.64, 0.03, checked=False)   # "n/a"
    results.is_stand_in("ImageNet16-120")          # True
    results.stand_in_note("mixed-classes")         # "ImageNet16-120 scores from ..."

One tolerance check for every notebook (:func:`compare`, today: within or not, or
not checked); statuses beyond that belong here too, so every notebook gets them.
Which stand-in a dataset's scores rest on is :func:`zclib.results.score_stand_in`
(read from the shipped table's recorded data source); :func:`stand_in_note` words it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zclib.data.sources import stand_in_label
from zclib.names import canonical_dataset

# Datasets whose shipped proxy scores were computed on stand-in images.
STAND_IN_DATASETS = ("ImageNet16-120",)
NOT_CHECKED = "n/a"  # compare(): no tolerance applies (stand-in, or not comparable)


def is_stand_in(dataset: str) -> bool:
    """Whether a dataset's proxy scores come from stand-in images (not the official
    ones): the one flag every notebook labels and excludes from tolerances with."""
    return canonical_dataset(dataset) in STAND_IN_DATASETS


def stand_in_note(name: str | None, what: str = "scores") -> str:
    """The caveat every number computed from stand-in images carries, naming them.

    Args:
        name: which stand-in (a key of ``zclib.data.STAND_INS``, as
            :func:`zclib.results.score_stand_in` gives it); None or an unknown
            name: the note says which one is not recorded.
        what: what rests on the images (``"proxy scores"`` in the search
            notebooks' records).

    Returns:
        E.g. ``"ImageNet16-120 scores from stand-in (10 official + 110 other
        classes) images, not the official ones; accuracies are the benchmark's. "``
        (ends with a space: the records append to it).
    """
    return (
        f"ImageNet16-120 {what} from {stand_in_label(name or '')} images, not the "
        "official ones; accuracies are the benchmark's. "
    )


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
