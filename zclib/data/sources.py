"""Where each dataset is found, in which format, and which files a split reads.

from zclib.data import find_source
find_source("cifar10")     # DataSource(dataset='cifar10', path=..., format=...)
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from zclib import names, paths

SPLITS = {
    "cifar10": ("train", "test"),
    "cifar100": ("train", "test"),
    "ImageNet16-120": ("train", "valid", "test"),
}
# Discovery candidates, in preference order (official pickles first).
CANDIDATES = {
    "cifar10": (
        "cifar-10-batches-py",
        "cifar10/cifar-10-batches-py",
        "cifar10-images",
        "cifar10/cifar10-images",
        "cifar10-images.tar.gz",
        "cifar10/cifar10-images.tar.gz",
    ),
    "cifar100": ("cifar-100-python", "cifar100/cifar-100-python"),
    "ImageNet16-120": ("ImageNet16", "imagenet16-120/ImageNet16"),
}
HOW_TO_GET = {
    "cifar10": "download cifar-10-python.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it "
    "(gives cifar-10-batches-py/)",
    "cifar100": "download cifar-100-python.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it "
    "(gives cifar-100-python/)",
    "ImageNet16-120": "get the ImageNet16 files of the downsampled ImageNet "
    "(https://image-net.org/download-images, 'Imagenet16' "
    "train_data_batch_1..10 and val_data) into a folder ImageNet16/",
}


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where a dataset was found and in which format."""

    dataset: str  # canonical name
    path: Path
    format: str  # cifar-pickle | imagenet16-pickle | image-folder | image-tar
    stand_in: bool = False  # True: not the official data (e.g. the offline stand-in)
    note: str = ""


def _imagenet16_note(path: Path) -> tuple[bool, str]:
    batches = sorted(path.glob("train_data_batch_*"))
    has_val = (path / "val_data").exists()
    if (
        (path / "classes.txt").exists()
        or (path.parent / "classes.txt").exists()
        or (len(batches) <= 1 and not has_val)
    ):
        return True, (
            "stand-in, not the official ImageNet16-120: real ImageNet "
            "photographs downsampled to 16x16, one per class; only the "
            "first ten classes follow the official label order"
        )
    missing = [] if has_val else ["val_data"]
    if len(batches) < 10:
        missing.append(f"{10 - len(batches)} of 10 train_data_batch files")
    if not missing:
        return False, ""
    return False, f"incomplete download: missing {', '.join(missing)}"


def find_source(dataset: str) -> DataSource:
    """Locate a dataset with the shared discovery rule (:func:`zclib.paths.find_data`).

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"`` (or an alias).

    Returns:
        The :class:`DataSource` found.

    Raises:
        FileNotFoundError: nothing found; the message lists every place searched
            and how to get the official files.
    """
    ds = names.canonical_dataset(dataset)
    cands = CANDIDATES[ds]
    path = paths.find_data(*cands)
    if path is None:
        where = "\n  ".join(paths.searched(*cands))
        raise FileNotFoundError(
            f"no {ds} images found. Searched:\n  {where}\nTo get them: "
            f"{HOW_TO_GET[ds]}; put it in one of those places, or set "
            f"${paths.ENV_VAR} to the folder that holds it."
        )
    if ds == "ImageNet16-120":
        stand_in, note = _imagenet16_note(path)
        return DataSource(ds, path, "imagenet16-pickle", stand_in, note)
    if path.is_file():  # cifar10-images.tar.gz
        return DataSource(
            ds,
            path,
            "image-tar",
            note="JPEG re-encoding: pixels differ slightly from official",
        )
    if path.name.endswith("images"):
        return DataSource(
            ds,
            path,
            "image-folder",
            note="JPEG re-encoding: pixels differ slightly from official",
        )
    return DataSource(ds, path, "cifar-pickle")


def split_files(source: DataSource, split: str) -> list[Path]:
    """The files one split reads (for pickle sources), in a fixed order."""
    p, ds = source.path, source.dataset
    if ds == "cifar10":
        names = (
            ["test_batch"]
            if split == "test"
            else [f.name for f in p.glob("data_batch_*")]
        )
    elif ds == "cifar100":
        names = [split]
    else:
        names = (
            ["val_data"]
            if split in ("valid", "test")
            else [f.name for f in p.glob("train_data_batch_*")]
        )
    # natural order: data_batch_2 before data_batch_10
    names.sort(
        key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)]
    )
    files = [p / n for n in names if (p / n).is_file()]
    if not files:
        want = {
            "cifar10": "data_batch_1..5" if split == "train" else "test_batch",
            "cifar100": split,
            "ImageNet16-120": "train_data_batch_1..10"
            if split == "train"
            else "val_data",
        }[ds]
        raise FileNotFoundError(
            f"{p}: no {ds} {split!r} split here (expected {want}); "
            f"to get it: {HOW_TO_GET[ds]}"
        )
    return files


def check_split(ds: str, split: str) -> None:
    if split not in SPLITS[ds]:
        raise ValueError(f"{ds} has splits {SPLITS[ds]}, not {split!r}")
