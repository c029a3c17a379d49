"""Pre-drawn batches: the scorer's minibatches drawn here, read where no images are.

    from zclib.data import predrawn
    path = predrawn.save("data/gpu", "cifar10", n_batches=2)   # needs the images
    batches, record = predrawn.load(path)   # Batches as get_batch gave them

A device machine has neither the images nor the packages that decode them (PIL).
:func:`save` draws batches ``0..n_batches-1`` with :func:`zclib.data.get_batch` and
writes their arrays and meta to one ``.npz`` (no pickles: the meta is a JSON
string); :func:`load` gives them back as :class:`~zclib.data.Batch` es whose ``x``,
``y`` and ``meta`` are exactly what ``get_batch`` returned, so a scorer fed from
the file has the same configuration (and run identity) as one that draws. The file
also records the SHA-1 of the arrays (:func:`arrays_sha1`, checked on load) and the
commit it was drawn at.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from zclib.data.sampler import Batch, get_batches
from zclib.fileio import atomic_path
from zclib.names import canonical_dataset

FORMAT = 1  # of the .npz layout below


def file_name(
    dataset: str, seed: int = 0, batch_size: int = 64, norm: str = "foresight"
) -> str:
    """``<dataset>_s<seed>_b<batch>_<norm>.npz`` (augmented files add ``_aug``
    through :func:`save`)."""
    return f"{canonical_dataset(dataset)}_s{seed}_b{batch_size}_{norm}.npz"


def arrays_sha1(batches: Sequence[Batch]) -> str:
    """SHA-1 over every batch's ``x`` then ``y`` bytes (CPU copies), in order."""
    h = hashlib.sha1()
    for b in batches:
        h.update(np.ascontiguousarray(b.x.detach().cpu().numpy()).tobytes())
        h.update(np.ascontiguousarray(b.y.detach().cpu().numpy()).tobytes())
    return h.hexdigest()


def save(
    folder: str | os.PathLike,
    dataset: str,
    n_batches: int = 2,
    *,
    seed: int = 0,
    batch_size: int = 64,
    norm: str = "foresight",
    augment: bool = False,
    stand_in: str | None = None,
) -> Path:
    """Draw batches ``0..n_batches-1`` and write them to ``folder`` (atomically).

    Args:
        folder: where the file goes (created).
        dataset: dataset name or alias.
        n_batches: batches to draw (the scorer uses the first it needs: 2 for
            ``"all"``, whose zico reads two).
        seed, batch_size, norm, augment, stand_in: as :func:`zclib.data.get_batch`.

    Returns:
        The file written (:func:`file_name`, ``_aug`` before ``.npz`` when
        augmented).
    """
    from zclib.provenance import git_commit  # not needed where the file is read

    batches = get_batches(
        dataset,
        batch_size,
        seed,
        n_batches,
        norm=norm,
        augment=augment,
        stand_in=stand_in,
    )
    name = file_name(dataset, seed, batch_size, norm)
    path = Path(folder) / (name[: -len(".npz")] + "_aug.npz" if augment else name)
    commit, dirty = git_commit()
    record = {
        "format": FORMAT,
        "metas": [b.meta for b in batches],
        "sha1": arrays_sha1(batches),
        "git_commit": commit,
        "git_dirty": dirty,
    }
    arrays = {f"x{i}": b.x.numpy() for i, b in enumerate(batches)}
    arrays |= {f"y{i}": b.y.numpy() for i, b in enumerate(batches)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, record=np.array(json.dumps(record)), **arrays)
    return path


def load(path: str | os.PathLike) -> tuple[list[Batch], dict]:
    """The batches of a file written by :func:`save`, and its record.

    Returns:
        (batches, record): ``record`` holds ``metas``, ``sha1``, ``git_commit``,
        ``git_dirty`` and ``format``; each batch's meta is one of ``metas``
        (the lists ``get_batch`` gives come back as lists, tuples as lists too).

    Raises:
        ValueError: not such a file, a newer format, or arrays whose SHA-1 is not
            the recorded one (a damaged copy).
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        if "record" not in z:
            raise ValueError(f"{path} is not a pre-drawn batch file (no record)")
        record = json.loads(str(z["record"]))
        if record.get("format", 0) > FORMAT:
            raise ValueError(f"{path}: batch file format {record['format']} is newer")
        batches = [
            Batch(
                torch.from_numpy(z[f"x{i}"].copy()),
                torch.from_numpy(z[f"y{i}"].copy()),
                {**m, "mean": tuple(m["mean"]), "std": tuple(m["std"])},
            )
            for i, m in enumerate(record["metas"])
        ]
    if arrays_sha1(batches) != record["sha1"]:
        raise ValueError(f"{path}: arrays do not match their recorded SHA-1 (damaged)")
    return batches, record


def check(
    batches: Sequence[Batch],
    dataset: str,
    seed: int,
    batch_size: int,
    norm: str,
    augment: bool,
    stand_in: str | None,
) -> None:
    """Raise ValueError when pre-drawn batches are not what a scorer asks for.

    Args:
        batches: from :func:`load`.
        dataset, seed, batch_size, norm, augment: the scorer's settings.
        stand_in: the images asked for; None accepts the file's.
    """
    want = {
        "dataset": canonical_dataset(dataset),
        "seed": seed,
        "batch_size": batch_size,
        "norm": norm,
        "augment": bool(augment),
    }
    for i, b in enumerate(batches):
        got = {k: b.meta.get(k) for k in want}
        if got != want or b.meta.get("index") != i:
            diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
            raise ValueError(
                f"pre-drawn batch {i} does not fit this run (file, run): {diff}"
                + ("" if b.meta.get("index") == i else f"; index {b.meta['index']}")
            )
    images = batches[0].meta.get("stand_in_name", "")
    if stand_in is not None and images != stand_in:
        raise ValueError(
            f"pre-drawn batches were drawn from {images or 'official'!r} images, "
            f"the run asks for {stand_in!r}"
        )
