"""Image loaders (CIFAR-10, CIFAR-100, ImageNet16-120) and a deterministic sampler.

    from zclib import data
    batch = data.get_batch("cifar10", batch_size=64, seed=0, index=0)
    batch.x.shape, batch.y.shape, batch.meta["source"]   # (64, 3, 32, 32), (64,)

Sources, found with :func:`zclib.paths.find_data` (first root wins; within one root
the official pickles win over a JPEG folder tree, which wins over its ``.tar.gz``):
  - CIFAR-10: ``cifar-10-batches-py/`` (official pickles), or
    ``cifar10-images/{train,test}/<class name>/*.jpg``, or a ``.tar.gz`` of that tree;
  - CIFAR-100: ``cifar-100-python/{train,test}`` (official pickles);
  - ImageNet16-120: ``ImageNet16/{train_data_batch_1..10,val_data}`` (official
    downsampled-ImageNet pickles; labels 1..1000, we keep 1..120 and shift to 0..119);
    offline, a stand-in of :data:`STAND_INS` in the same format (official files
    win; then ``imagenet16-120-official-classes/``, then the older
    ``imagenet16-120/``, which ``$ZCLIB_DATA`` or ``stand_in=`` still select).

Every pickle goes through :class:`RestrictedUnpickler` (numpy arrays only). Decoded
arrays are cached as ``.npz`` under ``$ZCLIB_CACHE`` or ``data/cache`` (keyed by a
fingerprint of the source files), and in-process with ``functools.lru_cache``.

Modules, one per concern: :mod:`~zclib.data.norms` (normalisation constants),
:mod:`~zclib.data.pickles` (safe pickles), :mod:`~zclib.data.sources` (discovery),
:mod:`~zclib.data.decoders`, :mod:`~zclib.data.cache` (``.npz`` cache and the
loaders), :mod:`~zclib.data.sampler` (seeded batches, the reference's augmentation),
:mod:`~zclib.data.inventory` (:func:`report`).
"""

from __future__ import annotations

from zclib.data.cache import (
    CACHE_ENV_VAR,
    CACHE_VERSION,
    DIGEST_MAX_BYTES,
    ImageSplit,
    cache_dir,
    clear_cache,
    fingerprint,
    load_dataset,
    load_split,
)
from zclib.data.decoders import (
    CIFAR10_CLASSES,
    IMAGE_EXTS,
    IMAGE_SIZE,
    IMAGENET16_KEEP,
    PROGRESS_MIN,
    decode_split,
)
from zclib.data.inventory import OFFICIAL_SIZES, report
from zclib.data.norms import NORMS, normalization
from zclib.data.pickles import SAFE_GLOBALS, RestrictedUnpickler, load_pickle
from zclib.data.sampler import (
    REFERENCE_PAD,
    Batch,
    get_batch,
    get_batches,
    reference_augment,
)
from zclib.data.sources import (
    CANDIDATES,
    HOW_TO_GET,
    SPLITS,
    STAND_INS,
    UNRECOGNISED,
    UNRECORDED,
    DataSource,
    StandIn,
    find_source,
    recognise_stand_in,
    stand_in_label,
)

__all__ = [
    "CACHE_ENV_VAR",
    "CACHE_VERSION",
    "CANDIDATES",
    "CIFAR10_CLASSES",
    "DIGEST_MAX_BYTES",
    "HOW_TO_GET",
    "IMAGENET16_KEEP",
    "IMAGE_EXTS",
    "IMAGE_SIZE",
    "NORMS",
    "OFFICIAL_SIZES",
    "PROGRESS_MIN",
    "REFERENCE_PAD",
    "SAFE_GLOBALS",
    "SPLITS",
    "STAND_INS",
    "UNRECOGNISED",
    "UNRECORDED",
    "Batch",
    "DataSource",
    "ImageSplit",
    "RestrictedUnpickler",
    "StandIn",
    "cache_dir",
    "clear_cache",
    "decode_split",
    "find_source",
    "fingerprint",
    "get_batch",
    "get_batches",
    "load_dataset",
    "load_pickle",
    "load_split",
    "normalization",
    "recognise_stand_in",
    "reference_augment",
    "report",
    "stand_in_label",
]
