"""Deterministic, seeded minibatches (independent of the global RNG), optionally
through the reference's training transforms.

    from zclib.data import get_batch
    batch = get_batch("cifar10", batch_size=64, seed=0, index=0)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from zclib.augment import pad_crop_flip
from zclib.data.cache import load_dataset
from zclib.data.norms import normalization


@dataclasses.dataclass(frozen=True)
class Batch:
    """A normalised minibatch and how it was drawn."""

    x: torch.Tensor  # float N x 3 x H x W, normalised with meta["mean"], meta["std"]
    y: torch.Tensor  # int64 N
    meta: dict


def get_batch(
    dataset: str,
    batch_size: int = 64,
    seed: int = 0,
    split: str = "train",
    norm: str = "foresight",
    index: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    *,
    augment: bool = False,
    cache: str | Path | None = None,
    stand_in: str | None = None,
) -> Batch:
    """Draw a deterministic minibatch (independent of the global RNG state).

    The indices are ``default_rng([seed, index]).choice(N, batch_size,
    replace=False)``, so each ``index`` is an independent batch for that seed.
    By default the images are used as stored. The reference code draws its batch
    from the *training* loader, i.e. through its training transforms; ``augment``
    applies those (:func:`reference_augment`, drawn from ``default_rng([seed,
    index, 1])``). Measured effect on every proxy's Spearman rho: -0.009..+0.002,
    each within its paired bootstrap CI of zero (results/checks/data_protocol.py),
    so the default stays un-augmented.

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"`` (or an alias).
        batch_size: images per batch (at most the split size).
        seed: non-negative int.
        split: see :func:`load_dataset`.
        norm: a key of :data:`NORMS` (see :func:`normalization`).
        index: which batch for this seed (0, 1, ...; ZiCo needs two or more).
        device: where ``x`` and ``y`` go.
        dtype: floating dtype of ``x`` (normalisation is done in it).
        augment: apply the reference's training transforms (see above).
        cache: .npz cache folder (see :func:`load_dataset`).
        stand_in: which ImageNet16-120 images (see
            :func:`zclib.data.find_source`; None: discovery's choice).

    Returns:
        A :class:`Batch`; ``meta`` holds dataset, split, seed, batch_size, index,
        norm, augment, mean, std, source, format, stand_in, stand_in_name (which
        stand-in, "" for official data), note, n_images and indices.
    """
    if seed < 0 or index < 0 or batch_size < 1:
        raise ValueError(
            f"need seed >= 0, index >= 0, batch_size >= 1; got "
            f"seed={seed}, index={index}, batch_size={batch_size}"
        )
    mean, std = normalization(dataset, norm)
    s = load_dataset(dataset, split, cache=cache, stand_in=stand_in)
    n = len(s)
    if batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} exceeds the {n} images of {s.source.dataset} "
            f"{split!r} at {s.source.path}"
            + (f" (a {s.source.stand_in_name} stand-in)" if s.source.stand_in else "")
        )
    idx = np.random.default_rng([seed, index]).choice(n, size=batch_size, replace=False)
    images = s.images[idx]
    if augment:
        images = reference_augment(images, np.random.default_rng([seed, index, 1]))
    x = torch.from_numpy(images).to(device=device, dtype=dtype)  # N x H x W x 3
    x = x.permute(0, 3, 1, 2).div(255)  # N x 3 x H x W in [0, 1]
    m = torch.tensor(mean, dtype=dtype, device=device).view(1, 3, 1, 1)
    sd = torch.tensor(std, dtype=dtype, device=device).view(1, 3, 1, 1)
    x = ((x - m) / sd).contiguous()
    y = torch.from_numpy(s.labels[idx]).to(device)
    meta = {
        "dataset": s.source.dataset,
        "split": split,
        "seed": seed,
        "batch_size": batch_size,
        "index": index,
        "norm": norm,
        "augment": bool(augment),
        "mean": tuple(mean),
        "std": tuple(std),
        "source": str(s.source.path),
        "format": s.source.format,
        "stand_in": s.source.stand_in,
        "stand_in_name": s.source.stand_in_name,
        "note": s.source.note,
        "n_images": n,
        "indices": idx.tolist(),
    }
    return Batch(x, y, meta)


REFERENCE_PAD = {32: 4, 16: 2}  # RandomCrop padding by image side (foresight)


def reference_augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The reference's training transforms on raw images N x H x W x 3 (uint8).

    As foresight's ``get_cifar_dataloaders``: ``RandomCrop(side, padding=pad)``
    (black padding of the raw image; pad 4 for 32 px, 2 for 16 px), then
    ``RandomHorizontalFlip()``; per image, offsets uniform in ``0..2*pad`` and a
    flip with probability 1/2, drawn from ``rng`` (offsets first, then flips); the
    cropping is :func:`zclib.augment.pad_crop_flip`'s.

    Returns:
        A new array of the same shape and dtype.
    """
    n, h, w, _ = images.shape
    if h != w or h not in REFERENCE_PAD:
        raise ValueError(f"reference_augment takes 32x32 or 16x16 images, got {h}x{w}")
    pad = REFERENCE_PAD[h]
    off = rng.integers(0, 2 * pad + 1, size=(n, 2))  # (row, column) per image
    flip = rng.random(n) < 0.5
    # N x H x W x 3 viewed as N x 3 x H x W (a copy only if read-only)
    x = torch.from_numpy(np.require(images, requirements=["C", "W"]))
    x = x.permute(0, 3, 1, 2)
    out = pad_crop_flip(x, pad, torch.from_numpy(off), torch.from_numpy(flip))
    return np.ascontiguousarray(out.permute(0, 2, 3, 1).numpy())


def get_batches(dataset: str, batch_size: int, seed: int, n: int, **kw) -> list[Batch]:
    """Batches ``index=0..n-1`` of one seed (``kw``: as :func:`get_batch`): what
    the scorer uses and what pre-drawn batch files hold."""
    return [get_batch(dataset, batch_size, seed, index=b, **kw) for b in range(n)]
