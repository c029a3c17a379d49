"""Ours against the published value, and which numbers rest on stand-in images.

    from zclib import results       # re-exports these: results.compare, ...
    results.compare(0.62, 0.64, tol=0.03)          # True
    results.compare(0.60, 0.64, 0.03, checked=False)   # "n/a"
    results.is_stand_in("ImageNet16-120")          # True
    results.stand_in_note("mixed-classes")         # "ImageNet16-120 scores from ..."
    results.assess(75.4, 75.3, 2.0)["status"]       # "within"
    results.assess(69.0, 67.4, 1.0, se_ours=0.7, se_published=0.6)["status"]
    # -> "consistent within sampling error"

One tolerance check for every notebook (:func:`compare`: within or not, or not
checked) and one status built on it (:func:`assess`, :data:`STATUSES`): within the
tolerance, consistent within sampling error (both standard errors), outside (with a
pointer to the check that measures the candidate cause), explained (with the path of
the check that explains it), pending (with the issue whose work settles it), or no
tolerance.
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
WITHIN, SAMPLING, OUTSIDE = "within", "consistent within sampling error", "outside"
EXPLAINED, PENDING, NO_TOL = "explained", "pending", "no tolerance"
# every status a published number can have, best first (the summary's order)
STATUSES = (WITHIN, SAMPLING, EXPLAINED, PENDING, OUTSIDE, NO_TOL)
Z_SAMPLING = 2.0  # |delta| <= Z * combined standard error: consistent (about 95 %)


def is_stand_in(dataset: str) -> bool:
    """Whether a dataset's proxy scores come from stand-in images (not the official
    ones): the one flag every notebook labels and excludes from tolerances with."""
    return canonical_dataset(dataset) in STAND_IN_DATASETS


def ds_label(dataset: str) -> str:
    """A dataset's name as tables and figures show it: "(stand-in)" appended where
    its scores come from stand-in images."""
    return dataset + (" (stand-in)" if is_stand_in(dataset) else "")


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


def _finite(v) -> float | None:
    """A float, or None for None/NaN/inf (a recorded null)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def assess(
    ours,
    published,
    tol: float | None,
    se_ours: float | None = None,
    se_published: float | None = None,
    *,
    checked: bool = True,
    explained: str | None = None,
    pending: str | None = None,
    check: str | None = None,
) -> dict:
    """The status of one published number against ours (see :data:`STATUSES`).

    In this order: no tolerance (none stated, or ``checked`` False); within
    (:func:`compare`); consistent within sampling error (``|delta| <=``
    :data:`Z_SAMPLING` x the root sum of squares of the standard errors that are
    known; needs at least one); explained (``explained`` given: the path of the
    check that explains the deviation); pending (``pending``: the issue whose work
    will settle it); otherwise outside, pointing at ``check`` (the check that
    measures a candidate cause; the summary lists an outside row without one).

    Args:
        ours, published: the two numbers (a NaN ours is never within).
        tol: the stated tolerance (None/NaN: none).
        se_ours, se_published: standard errors where known (None/NaN: unknown).
        checked: False where no comparison applies (e.g. stand-in images).
        explained, pending, check: pointers, as above.

    Returns:
        ``{"abs_delta", "tolerance", "se_ours", "se_published", "status",
        "pointer"}`` (NaN/None where not known; pointer None unless the status
        is explained, pending or outside).
    """
    o, p, t = _finite(ours), _finite(published), _finite(tol)
    se_o, se_p = _finite(se_ours), _finite(se_published)
    d = abs(o - p) if o is not None and p is not None else None
    out = {
        "abs_delta": np.nan if d is None else d,
        "tolerance": np.nan if t is None else t,
        "se_ours": np.nan if se_o is None else se_o,
        "se_published": np.nan if se_p is None else se_p,
        "pointer": None,
    }
    if t is None or not checked:
        return {**out, "status": NO_TOL}
    if d is not None and d <= t:
        return {**out, "status": WITHIN}
    known = [s for s in (se_o, se_p) if s is not None]
    se = float(np.sqrt(sum(s * s for s in known)))
    if d is not None and known and d <= Z_SAMPLING * se:
        return {**out, "status": SAMPLING}
    if explained:
        return {**out, "status": EXPLAINED, "pointer": explained}
    if pending:
        return {**out, "status": PENDING, "pointer": pending}
    return {**out, "status": OUTSIDE, "pointer": check}
