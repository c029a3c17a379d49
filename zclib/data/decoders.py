"""Decoding a split from its source: official pickles, a JPEG folder tree, its tar.

from zclib.data import decode_split, find_source
images, labels = decode_split(find_source("cifar10"), "test")   # no caching
"""

from __future__ import annotations

import io
import tarfile

import numpy as np

from zclib import names
from zclib.data.pickles import chw_rows_to_hwc, read_batch
from zclib.data.sources import DataSource, check_split, split_files
from zclib.progress import bar

PROGRESS_MIN = 1000  # show progress when decoding at least this many JPEGs
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)  # = labels 0..9
IMAGE_EXTS = (".jpg", ".jpeg", ".png")
IMAGENET16_KEEP = 120  # ImageNet16-120 = classes 1..120 of the 1,000
IMAGE_SIZE = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}  # pixels


def _decode_images(blobs: list[tuple[str, bytes]], size: int) -> np.ndarray:
    """JPEG/PNG bytes -> uint8 N x size x size x 3, in the order given."""
    from PIL import Image  # only JPEG/PNG trees need it (not the pickles)

    out = np.empty((len(blobs), size, size, 3), np.uint8)
    with bar(
        len(blobs),
        desc="decoding images",
        unit="img",
        enabled=len(blobs) >= PROGRESS_MIN,
        leave=False,
    ) as progress:
        for i, (name, blob) in enumerate(blobs):
            with Image.open(io.BytesIO(blob)) as im:
                if im.size != (size, size):  # checked on the header, before decoding
                    raise ValueError(f"{name}: expected {size}x{size}, got {im.size}")
                out[i] = np.asarray(im.convert("RGB"))
            progress.update(1)
    return out


def _class_label(name: str) -> int:
    cls = name.split("/")[-2]  # .../<split>/<class name>/<file>
    if cls not in CIFAR10_CLASSES:
        raise ValueError(
            f"{name}: unknown class folder {cls!r}; expected one of {CIFAR10_CLASSES}"
        )
    return CIFAR10_CLASSES.index(cls)


def _read_image_tree(source: DataSource, split: str) -> list[tuple[str, bytes]]:
    """(relative name, bytes) of every image of ``split``, sorted by name."""
    blobs = []
    if source.format == "image-tar":
        with tarfile.open(source.path, "r:*") as tf:
            for m in tf:  # one streaming pass; never extracted to disk
                parts = m.name.split("/")
                if (
                    m.isfile()
                    and len(parts) >= 3
                    and parts[-3] == split
                    and parts[-1].lower().endswith(IMAGE_EXTS)
                ):
                    blobs.append((m.name, tf.extractfile(m).read()))
    else:
        root = source.path / split
        for f in root.glob("*/*"):
            if f.suffix.lower() in IMAGE_EXTS and f.is_file():
                blobs.append((f"{split}/{f.parent.name}/{f.name}", f.read_bytes()))
    if not blobs:
        raise FileNotFoundError(f"{source.path}: no images under {split}/<class>/")
    blobs.sort(key=lambda b: b[0])
    return blobs


def decode_split(source: DataSource, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split straight from its source (no caching).

    Args:
        source: from :func:`find_source`.
        split: ``"train"`` or ``"test"`` (ImageNet16-120 also ``"valid"``, which
            like ``"test"`` is the whole ``val_data``, 6,000 images; we do not
            apply NAS-Bench-201's x-valid/x-test halving).

    Returns:
        ``(images, labels)``: uint8 N x H x W x 3 (H = W = 32, or 16 for
        ImageNet16-120) and int64 N.
    """
    ds = source.dataset
    check_split(ds, split)
    size = IMAGE_SIZE[ds]
    if source.format in ("image-tar", "image-folder"):
        blobs = _read_image_tree(source, split)
        labels = np.array([_class_label(n) for n, _ in blobs], np.int64)
        return _decode_images(blobs, size), labels
    label_key = {
        "cifar10": "labels",
        "cifar100": "fine_labels",
        "ImageNet16-120": "labels",
    }[ds]
    chunks, label_chunks = [], []
    for f in split_files(source, split):
        data, labels = read_batch(f, label_key, 3 * size * size)
        lo, hi = (1, 1000) if ds == "ImageNet16-120" else (0, names.NUM_CLASSES[ds] - 1)
        if labels.size and (labels.min() < lo or labels.max() > hi):
            raise ValueError(
                f"{f}: labels outside {lo}..{hi} ({labels.min()}..{labels.max()})"
            )
        if ds == "ImageNet16-120":  # keep classes 1..120, shift to 0..119
            keep = labels <= IMAGENET16_KEEP
            data, labels = data[keep], labels[keep] - 1
        chunks.append(chw_rows_to_hwc(data, size))
        label_chunks.append(labels)
    return np.concatenate(chunks), np.concatenate(label_chunks)
