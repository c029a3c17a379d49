"""Random crop from a zero-padded image, then horizontal flip: the one implementation.

    from zclib.augment import pad_crop_flip
    out = pad_crop_flip(x, pad=4, offsets=off, flip=flip)  # x: B x C x H x W

The random numbers are the caller's, so that each caller keeps the draws (and so the
numbers) it always had:

- :func:`zclib.data.reference_augment` (the scorer's ``--augment`` batch, as the
  reference's ``RandomCrop(side, padding=pad)`` + ``RandomHorizontalFlip()``): raw
  uint8 images N x H x W x 3 (black padding), offsets and flips from a numpy
  Generator (``integers(0, 2 * pad + 1, (N, 2))``, then ``random(N) < 0.5``);
- :func:`zclib.train.augment` (reduced training): normalised float batches
  B x 3 x r x r (zero padding = the mean colour), offsets and flips from a torch
  Generator (``randint(0, 2 * pad + 1, (2, B))``, then ``rand(B) < 0.5``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_crop_flip(
    x: torch.Tensor, pad: int, offsets: torch.Tensor, flip: torch.Tensor
) -> torch.Tensor:
    """Crop each image of ``x`` from its zero-padded copy; mirror the flagged ones.

    Image ``i`` of the result is ``padded[i, :, r:r + H, c:c + W]`` with
    ``(r, c) = offsets[i]`` (each in ``0..2 * pad``), reversed along W when
    ``flip[i]``. Pure indexing: any dtype, bit-exact.

    Args:
        x: B x C x H x W (any dtype, any device).
        pad: zero padding on every side, pixels.
        offsets: B x 2 integer (row, column) offsets of the crop in the padded image.
        flip: B booleans, True = mirror horizontally (after the crop).

    Returns:
        A new tensor shaped and typed like ``x``.
    """
    b, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))  # B x C x (H + 2 pad) x (W + 2 pad)
    wp = w + 2 * pad
    offsets, flip = offsets.to(x.device), flip.to(x.device)
    rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # B x H
    cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # B x W
    cols = torch.where(flip[:, None], cols.flip(-1), cols)
    # one gather along the flattened padded image: ~3x faster on CPU than indexing
    # with four broadcast index tensors (the same elements)
    idx = (rows[:, :, None] * wp + cols[:, None, :]).view(b, 1, h * w)
    return xp.view(b, c, -1).gather(2, idx.expand(b, c, h * w)).view(b, c, h, w)
