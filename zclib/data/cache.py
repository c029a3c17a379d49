"""Decoded splits cached as ``.npz`` (keyed by a fingerprint of the source files) and
in-process; the public loaders read through it.

    from zclib.data import load_split
    images, labels = load_split("cifar10", "train")   # uint8 50000 x 32 x 32 x 3
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from zclib import names, paths
from zclib.data.decoders import decode_split
from zclib.data.sources import DataSource, check_split, find_source, split_files

CACHE_ENV_VAR = "ZCLIB_CACHE"  # overrides the .npz cache folder (default data/cache)
CACHE_VERSION = 1  # bump when decoding changes, so old .npz files are not reused
DIGEST_MAX_BYTES = 1 << 20  # source files up to 1 MiB are keyed by content too


def cache_dir(override: str | Path | None = None) -> Path:
    """The .npz cache folder: ``override``, else ``$ZCLIB_CACHE``, else data/cache."""
    if override is not None:
        return Path(override)
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env).expanduser() if env else paths.DATA_DIR / "cache"


def fingerprint(source: DataSource, split: str) -> str:
    """Hash of what ``split`` reads from ``source``, naming the stand-in it is.

    Per file: resolved path, size, mtime, and for files up to
    :data:`DIGEST_MAX_BYTES` a SHA-256 of the content. The two offline ImageNet16
    stand-ins are files of the same size written in the same second, so a copy
    of one over the other that keeps the mtime (``cp -p``) still gets a new key.
    For a JPEG folder tree: of the split and class folders (cheap; their mtimes
    change when images are added, removed or renamed, not when edited in place).

    Args:
        source: from :func:`find_source`.
        split: the split read.

    Returns:
        16 hex digits, part of the ``.npz`` name.
    """
    if source.format == "image-tar":
        files = [source.path]
    elif source.format == "image-folder":
        if not (source.path / split).is_dir():
            raise FileNotFoundError(f"{source.path}: no {split}/<class>/ folders")
        files = [
            source.path / split,
            *sorted(p for p in (source.path / split).iterdir() if p.is_dir()),
        ]
    else:
        files = split_files(source, split)
    stats = [
        (str(f.resolve()), st.st_size, st.st_mtime_ns, _digest(f, st.st_size))
        for f in files
        for st in [f.stat()]
    ]
    blob = json.dumps(
        [
            CACHE_VERSION,
            source.dataset,
            source.format,
            source.stand_in_name,
            split,
            stats,
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _digest(f: Path, size: int) -> str:
    """SHA-256 of a small file's bytes ("" for folders and large files)."""
    if size > DIGEST_MAX_BYTES or not f.is_file():
        return ""
    return hashlib.sha256(f.read_bytes()).hexdigest()


def _save_npz(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write atomically: a temp file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, images=images, labels=labels)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the cache is not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=8)
def cached_arrays(
    source: DataSource, split: str, fp: str, cache: Path
) -> tuple[np.ndarray, np.ndarray]:
    npz = cache / f"{source.dataset}-{split}-{fp}.npz"
    if npz.exists():
        try:
            with np.load(npz, allow_pickle=False) as z:
                images, labels = z["images"], z["labels"]
        except (OSError, ValueError, KeyError) as e:
            warnings.warn(f"ignoring unreadable cache {npz}: {e}", stacklevel=3)
        else:
            return _frozen(images), _frozen(labels)
    images, labels = decode_split(source, split)
    try:
        _save_npz(npz, images, labels)
    except OSError as e:  # a read-only checkout still works, just slower
        warnings.warn(f"could not write cache {npz}: {e}", stacklevel=3)
    return _frozen(images), _frozen(labels)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)  # shared through the lru_cache: callers must copy
    return a


def clear_cache() -> None:
    """Forget the in-process arrays (the .npz files stay)."""
    cached_arrays.cache_clear()


# ---------------------------------------------------------------- public loaders
@dataclasses.dataclass(frozen=True)
class ImageSplit:
    """One split of a dataset: read-only arrays plus where they came from."""

    images: np.ndarray  # uint8 N x H x W x 3, RGB
    labels: np.ndarray  # int64 N, 0-based
    source: DataSource
    split: str

    def __len__(self) -> int:
        return len(self.labels)


def load_dataset(
    dataset: str,
    split: str = "train",
    *,
    cache: str | Path | None = None,
    stand_in: str | None = None,
) -> ImageSplit:
    """Load one split, from the in-process cache, the .npz cache, or the source.

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"`` (or an alias).
        split: ``"train"`` or ``"test"``; ImageNet16-120 also ``"valid"``.
        cache: .npz cache folder (default ``$ZCLIB_CACHE`` or ``data/cache``).
        stand_in: which ImageNet16-120 images (see :func:`find_source`; None:
            discovery's choice).

    Returns:
        An :class:`ImageSplit` (its arrays are read-only; copy before editing).
    """
    ds = names.canonical_dataset(dataset)
    check_split(ds, split)
    source = find_source(ds, stand_in)
    images, labels = cached_arrays(
        source, split, fingerprint(source, split), cache_dir(cache)
    )
    return ImageSplit(images, labels, source, split)


def load_split(
    dataset: str,
    split: str = "train",
    *,
    cache: str | Path | None = None,
    stand_in: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 N x H x W x 3, labels int64 N)``; see :func:`load_dataset`."""
    s = load_dataset(dataset, split, cache=cache, stand_in=stand_in)
    return s.images, s.labels
