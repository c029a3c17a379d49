"""The one crop + flip (zclib.augment) against numpy slicing, for both layouts."""

from __future__ import annotations

import numpy as np
import torch

from zclib.augment import pad_crop_flip


def test_pad_crop_flip_is_a_crop_of_the_padded_image_then_a_mirror():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 256, (6, 3, 8, 8)).astype(np.uint8)  # no zeros: padding shows
    pad = 2
    off = rng.integers(0, 2 * pad + 1, (6, 2))
    flip = np.array([0, 1, 0, 1, 1, 0], bool)
    out = pad_crop_flip(
        torch.from_numpy(x), pad, torch.from_numpy(off), torch.from_numpy(flip)
    ).numpy()
    assert out.dtype == np.uint8 and out.shape == x.shape
    for i in range(6):
        padded = np.pad(x[i], ((0, 0), (pad, pad), (pad, pad)))
        crop = padded[:, off[i, 0] : off[i, 0] + 8, off[i, 1] : off[i, 1] + 8]
        np.testing.assert_array_equal(out[i], crop[:, :, ::-1] if flip[i] else crop)
    centre = pad_crop_flip(
        torch.from_numpy(x),
        pad,
        torch.full((6, 2), pad),
        torch.zeros(6, dtype=torch.bool),
    )
    assert torch.equal(centre, torch.from_numpy(x))  # offset = pad, no flip: identity
