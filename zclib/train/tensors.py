"""CIFAR-10 as training tensors at a reduced resolution, and the training batches.

from zclib.train import load_tensors, augment
x, y = load_tensors("train", 8)          # float32 50000 x 3 x 8 x 8, int64 50000
xb = augment(x[:256], pad=1, gen=torch.Generator().manual_seed(0))
x, y = split_tensors(setting, "train")   # what a run of `setting` reads
xb, yb = make_batch(setting, x, y, idx, gen)  # one (augmented) training batch

Two ways to reach the reduced resolution (``Setting.resize``):

* ``"area"`` (the earlier recipe): the [0, 1] images are average-pooled over
  (32/r) x (32/r) blocks once, normalised, and each batch is cropped at r x r from
  a zero-padded copy (padding scaled with r) and flipped;
* ``"pil"`` (the reference, torchvision's ``RandomCrop(32, padding=4)``,
  ``Resize(r)``, ``RandomHorizontalFlip`` on PIL images): each batch is cropped at
  32 x 32 from the uint8 images with 4 black pixels of padding, resized to r x r by
  antialiased bilinear interpolation in uint8 (:func:`pil_resize`, equal to PIL's
  ``BILINEAR`` resize, tested), flipped, then normalised. The flip is applied with
  the crop, before the resize: the resize is mirror-symmetric and integer-exact,
  so the two orders give the same bytes (tested). Test images: resized once.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from zclib import data
from zclib.augment import pad_crop_flip

# (kind, split, resolution, norm, device) -> (x, y), kept per process (a sweep
# reuses them)
_DATA: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def _norm(norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(
        torch.tensor(v).view(1, 3, 1, 1) for v in data.normalization("cifar10", norm)
    )


def load_tensors(
    split: str, resolution: int, device="cpu", norm: str = "nb201"
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 ``split`` as normalised float32 N x 3 x r x r and int64 labels.

    Downsampling: average pooling over (32/r) x (32/r) blocks of the [0, 1] images
    (= area interpolation), then the ``norm`` constants (the earlier recipe: NB201's).
    Kept in memory per process.
    """
    key = ("area", split, resolution, norm, str(device))
    if key not in _DATA:
        images, labels = data.load_split("cifar10", split)  # uint8 N x 32 x 32 x 3
        mean, std = _norm(norm)
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


def load_images(split: str, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 ``split`` as uint8 N x 3 x 32 x 32 and int64 labels (kept)."""
    key = ("uint8", split, 32, None, str(device))
    if key not in _DATA:
        images, labels = data.load_split("cifar10", split)  # uint8 N x 32 x 32 x 3
        x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).contiguous()
        _DATA[key] = (x.to(device), torch.from_numpy(np.array(labels)).to(device))
    return _DATA[key]


def pil_resize(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 B x 3 x H x W -> uint8 B x 3 x r x r, antialiased bilinear: the bytes of
    PIL's ``Image.resize((r, r), BILINEAR)`` (torchvision's ``Resize`` on PIL)."""
    if x.shape[-1] == resolution and x.shape[-2] == resolution:
        return x
    if x.device.type != "cpu":
        # PyTorch's uint8 antialiased kernel (PIL's bytes) is on the CPU only; a
        # batch of 2,048 images at 32x32 is 6 MB, so the round trip is cheap, and a
        # device run's batches hold the same bytes as the CPU's (never run on a GPU)
        return pil_resize(x.cpu(), resolution).to(x.device)
    return F.interpolate(
        x, size=(resolution, resolution), mode="bilinear", antialias=True
    )


def normalise(x: torch.Tensor, norm: str) -> torch.Tensor:
    """uint8 images -> float32 ``(x / 255 - mean) / std`` (ToTensor, Normalize)."""
    mean, std = (t.to(x.device) for t in _norm(norm))
    return (x.float().div_(255) - mean) / std


TEST_ORDER_SEED = 20482  # the one permutation of the test images (test_order)


def test_permutation(n: int) -> torch.Tensor:
    """The fixed order of ``n`` test images under ``test_order="shuffled"`` (the
    same for every run and seed)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(TEST_ORDER_SEED))


def split_tensors(setting, split: str, device="cpu"):
    """What a run of ``setting`` reads from ``split``: (x, y) for
    :func:`make_batch` (training) or the normalised test images (``"test"``; in
    :func:`test_permutation`'s order when ``setting.test_order == "shuffled"``)."""
    if split == "train":
        if setting.resize == "area":
            return load_tensors(split, setting.resolution, device, setting.norm)
        return load_images("train", device)
    order = setting.test_order
    key = (setting.resize, split, setting.resolution, setting.norm, order, str(device))
    if key not in _DATA:
        if setting.resize == "area":
            x, y = load_tensors(split, setting.resolution, device, setting.norm)
        else:
            x, y = load_images(split, device)
            x = normalise(pil_resize(x, setting.resolution), setting.norm)
        if order == "shuffled":
            p = test_permutation(len(x)).to(x.device)
            x, y = x[p], y[p]
        _DATA[key] = (x, y)
    return _DATA[key]


def make_batch(
    setting, x: torch.Tensor, y: torch.Tensor, b: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training batch of indices ``b`` (augmented if the setting says so),
    float32 B x 3 x r x r, drawing the crop and flip from ``gen`` as
    :func:`augment` does."""
    xb, yb = x[b], y[b]
    if setting.resize == "area":
        return (augment(xb, setting.pad, gen) if setting.augment else xb), yb
    if setting.augment:
        xb = augment(xb, setting.pad, gen)  # at 32x32, black padding (uint8 zeros)
    return normalise(pil_resize(xb, setting.resolution), setting.norm), yb


def clear_cache() -> None:
    """Forget the tensors kept by :func:`load_tensors` (e.g. after the data moved)."""
    _DATA.clear()


def augment(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a batch B x 3 x r x r.

    Zero padding is applied to the tensor given: on normalised images (the earlier
    recipe) it pads with the mean colour (torchvision pads the raw image with black;
    a negligible difference), on uint8 images with black, as torchvision does.
    Draws from ``gen``: offsets 2 x B (rows, then columns), then B flips
    (:func:`zclib.augment.pad_crop_flip` does the cropping).
    """
    b = x.shape[0]
    off = torch.randint(0, 2 * pad + 1, (2, b), generator=gen)  # rows; columns
    flip = torch.rand(b, generator=gen) < 0.5
    return pad_crop_flip(x, pad, off.T, flip)
