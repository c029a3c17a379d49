"""Dataset pickles, read safely: only numpy array reconstruction is admitted.

from zclib.data import load_pickle
d = load_pickle("cifar-10-batches-py/data_batch_1")   # {'data': ..., 'labels': ...}
"""

from __future__ import annotations

import importlib
import pickle
import struct
from pathlib import Path

import numpy as np


def _numpy_multiarray():
    """numpy's multiarray module (``numpy._core`` in numpy 2, ``numpy.core`` in 1)."""
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("cannot find numpy's multiarray module")


_MA = _numpy_multiarray()
# The only globals these formats need: array and scalar reconstruction. Pickles
# written under numpy 1 name numpy.core, under numpy 2 numpy._core.
SAFE_GLOBALS = {
    (mod, name): obj
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name, obj in (("_reconstruct", _MA._reconstruct), ("scalar", _MA.scalar))
} | {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that admits only numpy array reconstruction (see SAFE_GLOBALS)."""

    def __init__(self, file, *, source: str = "<pickle>", **kwargs):
        super().__init__(file, **kwargs)
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{self.source}: refusing to load global {module}.{name}; dataset "
                "pickles may only reference numpy array reconstruction "
                f"({', '.join(sorted({f'{m}.{n}' for m, n in SAFE_GLOBALS}))})"
            ) from None


def load_pickle(path: str | Path):
    """Unpickle one dataset file safely.

    Args:
        path: an official CIFAR / ImageNet16 pickle (python 2 or 3).

    Returns:
        The unpickled object (a dict for these formats).

    Raises:
        pickle.UnpicklingError: a forbidden global, or a truncated/corrupt file
            (the message names the file).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        # latin1: python-2 str (array bytes, keys) decodes losslessly (numpy's advice)
        unpickler = RestrictedUnpickler(fh, source=str(path), encoding="latin1")
        try:
            return unpickler.load()
        except pickle.UnpicklingError as e:
            if str(path) in str(e):
                raise
            raise pickle.UnpicklingError(
                f"{path}: corrupt or truncated pickle ({e})"
            ) from e
        except (
            EOFError,
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            AttributeError,
            MemoryError,
            struct.error,
        ) as e:
            raise pickle.UnpicklingError(
                f"{path}: corrupt or truncated pickle "
                f"({type(e).__name__}: {e}); re-download the file"
            ) from e


def _str_keys(obj, path: Path) -> dict:
    """A pickled dict with str keys (python-3 bytes keys are decoded)."""
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict, got {type(obj).__name__}")
    return {
        k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()
    }


def read_batch(
    path: Path, label_key: str, row_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """(data N x row_len uint8, labels N int64) of one official batch, validated."""
    d = _str_keys(load_pickle(path), path)
    for key in ("data", label_key):
        if key not in d:
            raise ValueError(f"{path}: missing key {key!r} (has {sorted(d)})")
    data = np.asarray(d["data"])
    labels = np.asarray(d[label_key])
    if data.ndim != 2 or data.shape[1] != row_len:
        raise ValueError(f"{path}: 'data' must be N x {row_len}, got {data.shape}")
    if data.dtype != np.uint8:
        in_range = data.size == 0 or (data.min() >= 0 and data.max() <= 255)
        if data.dtype.kind not in "iu" or not in_range:
            raise ValueError(f"{path}: 'data' must be uint8 pixels, got {data.dtype}")
        data = data.astype(np.uint8)
    if labels.ndim != 1 or len(labels) != len(data):
        raise ValueError(
            f"{path}: {label_key!r} has shape {labels.shape}, "
            f"expected ({len(data)},) to match 'data'"
        )
    if labels.size and labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: {label_key!r} must be integers, got {labels.dtype}")
    return data, labels.astype(np.int64)


def chw_rows_to_hwc(data: np.ndarray, size: int) -> np.ndarray:
    # rows are channel-major (R plane, G plane, B plane; each row-major size x size)
    return np.ascontiguousarray(data.reshape(-1, 3, size, size).transpose(0, 2, 3, 1))
