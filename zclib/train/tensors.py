"""CIFAR-10 as training tensors at a reduced resolution, and the training augmentation.

from zclib.train import load_tensors, augment
x, y = load_tensors("train", 8)          # float32 50000 x 3 x 8 x 8, int64 50000
xb = augment(x[:256], pad=1, gen=torch.Generator().manual_seed(0))
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from zclib import data
from zclib.augment import pad_crop_flip

# (split, resolution, device) -> (x, y), kept per process (a sweep reuses them)
_DATA: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def load_tensors(
    split: str, resolution: int, device="cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 ``split`` as normalised float32 N x 3 x r x r and int64 labels.

    Downsampling: average pooling over (32/r) x (32/r) blocks of the [0, 1] images
    (= area interpolation), then NB201's mean/std. Kept in memory per process.
    """
    key = (split, resolution, str(device))
    if key not in _DATA:
        images, labels = data.load_split("cifar10", split)  # uint8 N x 32 x 32 x 3
        mean, std = (
            torch.tensor(v).view(1, 3, 1, 1)
            for v in data.normalization("cifar10", "nb201")
        )
        side = images.shape[1]
        x = torch.empty(len(images), 3, resolution, resolution)
        for i in range(0, len(images), 4096):  # in chunks: no 600 MB float copy
            c = torch.from_numpy(np.array(images[i : i + 4096])).permute(0, 3, 1, 2)
            c = c.float().div_(255)
            if resolution != side:
                c = F.avg_pool2d(c, side // resolution)
            x[i : i + 4096] = (c - mean) / std
        _DATA[key] = (x.to(device), torch.from_numpy(np.array(labels)).to(device))
    return _DATA[key]


def clear_cache() -> None:
    """Forget the tensors kept by :func:`load_tensors` (e.g. after the data moved)."""
    _DATA.clear()


def augment(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a batch B x 3 x r x r.

    Zero padding is applied to the normalised images, i.e. pads with the mean colour
    (torchvision pads the raw image with black; a negligible difference). Draws from
    ``gen``: offsets 2 x B (rows, then columns), then B flips
    (:func:`zclib.augment.pad_crop_flip` does the cropping).
    """
    b = x.shape[0]
    off = torch.randint(0, 2 * pad + 1, (2, b), generator=gen)  # rows; columns
    flip = torch.rand(b, generator=gen) < 0.5
    return pad_crop_flip(x, pad, off.T, flip)
