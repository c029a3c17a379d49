"""Where each dataset is found, in which format, and which files a split reads.

from zclib.data import find_source
find_source("cifar10")     # DataSource(dataset='cifar10', path=..., format=...)
find_source("ImageNet16-120").stand_in_name          # "official-classes" offline
find_source("ImageNet16-120", stand_in="mixed-classes")   # the older stand-in

ImageNet16-120 is not available offline; two stand-ins are (:data:`STAND_INS`,
recognised by the name of the folder that holds their ``ImageNet16/``). Within the
first data root that has any ImageNet16 folder, the official files win over every
stand-in, and the stand-ins rank in the order of :data:`STAND_INS` (the
official-classes one first). The older stand-in stays selectable: point
``$ZCLIB_DATA`` at its folder (``../shared/data/imagenet16-120``, whose
``ImageNet16/`` then is the first hit) or pass ``stand_in="mixed-classes"``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PurePosixPath

from zclib import names, paths

SPLITS = {
    "cifar10": ("train", "test"),
    "cifar100": ("train", "test"),
    "ImageNet16-120": ("train", "valid", "test"),
}


@dataclasses.dataclass(frozen=True)
class StandIn:
    """A known ImageNet16-120 stand-in (official pickle format, not official data)."""

    name: str  # key recorded in batch meta, score tables and run.json
    folder: str  # the folder holding its ImageNet16/; recognised by this name
    label: str  # how every note names it
    about: str  # what it is, for DataSource.note


# Preference order: discovery picks the first one present (after official files).
STAND_INS = {
    s.name: s
    for s in (
        StandIn(
            "official-classes",
            "imagenet16-120-official-classes",
            "stand-in (official classes, one photo per class)",
            "120 real ImageNet photographs box-downsampled to 16x16, one of each "
            "of the 120 official ImageNet16-120 classes, in the official label "
            "order",
        ),
        StandIn(
            "mixed-classes",
            "imagenet16-120",
            "stand-in (10 official + 110 other classes)",
            "120 real ImageNet photographs box-downsampled to 16x16, one per "
            "class; only the first ten are official ImageNet16-120 classes (in "
            "the official order), the other 110 are other ImageNet classes",
        ),
    )
}
UNRECOGNISED = "unrecognised"  # a stand-in in no known stand-in folder
UNRECORDED = "unrecorded"  # a results file that does not say which images it used
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
    "ImageNet16-120": (
        "ImageNet16",
        *(f"{s.folder}/ImageNet16" for s in STAND_INS.values()),
    ),
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
    stand_in_name: str = ""  # which stand-in: a key of STAND_INS or UNRECOGNISED


def recognise_stand_in(path: str | Path) -> str:
    """Which known stand-in an ImageNet16 folder path names, from the path alone.

    Works on a recorded path from another machine too (a score table's
    ``data_source``): the name of the folder holding ``ImageNet16/`` is looked up
    in :data:`STAND_INS`. It does not say whether the files are a stand-in at all
    (official files put into ``imagenet16-120/ImageNet16/`` are official; see
    :func:`find_source`).

    Args:
        path: ``.../<stand-in folder>/ImageNet16``.

    Returns:
        The key of :data:`STAND_INS`, or ``""`` when the path names none.
    """
    parts = PurePosixPath(str(path).replace("\\", "/")).parts
    holder = parts[-2] if len(parts) >= 2 else ""
    return next((s.name for s in STAND_INS.values() if s.folder == holder), "")


def stand_in_label(name: str) -> str:
    """How notes name a stand-in: e.g. ``"stand-in (10 official + 110 other
    classes)"`` for ``"mixed-classes"``; :data:`UNRECOGNISED` and
    :data:`UNRECORDED` (or anything else) get a label that says so."""
    if name in STAND_INS:
        return STAND_INS[name].label
    if name == UNRECOGNISED:
        return "stand-in (unrecognised: in no known stand-in folder)"
    return "stand-in (which one is not recorded)"


def _imagenet16_source(path: Path) -> DataSource:
    """Classify one ImageNet16 folder: official (complete or not) or a stand-in."""
    batches = sorted(path.glob("train_data_batch_*"))
    has_val = (path / "val_data").exists()
    ds, fmt = "ImageNet16-120", "imagenet16-pickle"
    if (
        (path / "classes.txt").exists()
        or (path.parent / "classes.txt").exists()
        or (len(batches) <= 1 and not has_val)
    ):
        name = recognise_stand_in(path) or UNRECOGNISED
        about = (
            STAND_INS[name].about
            if name in STAND_INS
            else "a single train batch and no val_data, or a classes.txt beside "
            "it; which classes it holds is not known"
        )
        note = f"{stand_in_label(name)}, not the official ImageNet16-120: {about}"
        return DataSource(ds, path, fmt, True, note, stand_in_name=name)
    missing = [] if has_val else ["val_data"]
    if len(batches) < 10:
        missing.append(f"{10 - len(batches)} of 10 train_data_batch files")
    note = f"incomplete download: missing {', '.join(missing)}" if missing else ""
    return DataSource(ds, path, fmt, False, note)


def _find_imagenet16(stand_in: str | None) -> DataSource | None:
    """The discovery rule for ImageNet16-120 (see the module docstring)."""
    for root in paths.data_roots():  # first root with a match wins, as find_data
        found = [
            _imagenet16_source(root / rel)
            for rel in CANDIDATES["ImageNet16-120"]
            if (root / rel).is_dir()
        ]
        if stand_in is not None:
            found = [s for s in found if s.stand_in_name == stand_in]
        if found:
            return min(found, key=lambda s: s.stand_in)  # official first, then order
    return None


def find_source(dataset: str, stand_in: str | None = None) -> DataSource:
    """Locate a dataset with the shared discovery rule (:func:`zclib.paths.find_data`).

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"`` (or an alias).
        stand_in: None: discovery's choice (official files, else the first
            stand-in of :data:`STAND_INS` present). ``""``: official files only.
            A key of :data:`STAND_INS` (or :data:`UNRECOGNISED`): that
            ImageNet16-120 stand-in only, e.g. to score with the images an
            existing table was made from.

    Returns:
        The :class:`DataSource` found.

    Raises:
        FileNotFoundError: nothing found; the message lists every place searched
            and how to get the official files.
        ValueError: an unknown ``stand_in``, or one asked of a dataset without.
    """
    ds = names.canonical_dataset(dataset)
    known = ("", *STAND_INS, UNRECOGNISED) if ds == "ImageNet16-120" else ("",)
    if stand_in is not None and stand_in not in known:
        raise ValueError(
            f"{ds} has no stand-in {stand_in!r}; choose one of {known} or None"
        )
    cands = CANDIDATES[ds]
    if ds == "ImageNet16-120":
        src = _find_imagenet16(stand_in)
        if src is not None:
            return src
        path = None
    else:
        path = paths.find_data(*cands)
    if path is None:
        what, how = f"{ds} images", HOW_TO_GET[ds]
        if stand_in == "":
            what = f"official {ds} images"
        elif stand_in is not None:
            what = f"{ds} {stand_in_label(stand_in)}"
            if stand_in in STAND_INS:
                how = f"it is the offline copy {STAND_INS[stand_in].folder}/ImageNet16"
        where = "\n  ".join(paths.searched(*cands))
        raise FileNotFoundError(
            f"no {what} found. Searched:\n  {where}\nTo get them: "
            f"{how}; put it in one of those places, or set "
            f"${paths.ENV_VAR} to the folder that holds it."
        )
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
