"""A reduced training recipe (EcoNAS's axes) and the cache key of one run.

from zclib.train import Setting, run_key
s = Setting.parse("econas-r8c4e40")   # the reference recipe (the EcoNAS default)
s = Setting.parse("r8c4e20f0.1")      # the earlier recipe, 10% of the images
run_key(arch, s, seed=0)              # 16 hex digits, the run's cache key

Two recipes, chosen by the name's prefix (``Setting.recipe``):

* ``econas-`` (:data:`RECIPES` ``["econas"]``, the default of EcoNAS runs): the
  reference script, SamsungLabs/zero-cost-nas ``nasbench2_train.py`` with its
  ``foresight.dataset.get_cifar_dataloaders`` and ``foresight.models.nasbench2``,
  read for every detail (see :data:`REFERENCE_RECIPE`).
* no prefix (``recipe="nb201"``): the earlier recipe, NB201's cut down (area
  downsampling, NB201 normalisation, batch 256, crop at the reduced resolution,
  the official network, a batch order per cell). Its run keys are unchanged: the
  fields added for the reference recipe enter a key only where they differ from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

from zclib import space
from zclib.names import canonical_dataset

TRAIN_VERSION = 1  # bump when the training code changes results; part of every key
BASE_PAD = 4  # random-crop zero padding at 32x32 (NB201), scaled with resolution
_NAME = re.compile(
    r"^(?:(econas)-)?r(\d+)c(\d+)e(\d+)(?:s(\d+))?(?:f([0-9.]+))?(?:b(\d+))?$"
)

# Every detail of the reference recipe (nasbench2_train.py at ca61347, its data
# loader and model), and where this project's "econas" recipe follows it.
REFERENCE_RECIPE = {
    "optimizer": "SGD(lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True) "
    "over net.parameters() (BN affine and biases decayed too)",
    "schedule": "CosineAnnealingLR(T_max=epochs, eta_min=0), stepped once per epoch",
    "epochs": "40 (--epochs)",
    "batch": "2048 for training and for the test pass (--batch_size)",
    "init_channels": "4 (--init_channels), N = 5 cells per stage",
    "img_size": "8 (--img_size): torchvision Resize(8) of the PIL image, i.e. PIL "
    "bilinear with antialiasing, rounded to uint8 (here: torch's uint8 antialiased "
    "bilinear, equal to PIL's, tested)",
    "augmentation": "RandomCrop(32, padding=4) (black padding, at 32x32, before "
    "the resize), Resize, RandomHorizontalFlip, ToTensor, Normalize",
    "normalisation": "mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010)",
    "train set": "all 50,000 CIFAR-10 training images, shuffled every epoch, the "
    "last partial batch kept (drop_last=False)",
    "test set": "the 10,000 CIFAR-10 test images (Resize, Normalize), evaluated "
    "after every epoch (and at epoch 0) in eval mode",
    "network": "foresight nasbench2: cell convs with bias, cell BN affine=False and "
    "track_running_stats=False (batch statistics at test time too, so the test "
    "batch of 2048 matters), residual blocks, stem and last BN as official; "
    "PyTorch default init",
    "loss": "F.cross_entropy (mean over the batch), ignite's supervised trainer",
    "deviations here": "batch order and crop/flip draws come from a generator seeded "
    "by the run seed (the reference: the global RNG of a shuffled DataLoader), the "
    "same for every cell; the weights from zclib's seeded build (foresight's module "
    "also builds the unused ops of each edge, so its RNG draws differ; same "
    "distribution); the test pass at the requested epochs only (the reference: "
    "every epoch and epoch 0); the test images in one fixed seeded permutation "
    "(``test_order='shuffled'``), since the offline CIFAR-10 copy is sorted by class "
    "and the cell BN normalises each test batch by its own statistics (the "
    "reference: the official test order, not sorted by class)",
    "paper's figure reads": "epoch 20 of the 40-epoch run for the EcoNAS point "
    "(this project's earlier reading of the released notebook, docs/notebooks.md), "
    "against NB201's 200-epoch accuracy; every epoch is kept in the runs",
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One reduced training recipe (see the module docstring for what is fixed)."""

    resolution: int = 32  # input side, pixels (32, 16, 8)
    C: int = 16  # channels of the first stage (NB201: 16)
    epochs: int = 12  # passes over the (subset of the) training images
    fraction: float = 1.0  # share of the 50,000 training images used
    batch_size: int = 256  # images per SGD step
    N: int = 5  # cells per stage (NB201: 5)
    lr: float = 0.1  # initial learning rate, cosine-annealed to 0 over `epochs`
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = True
    augment: bool = True  # random crop + flip (see `resize` for the crop's size)
    dataset: str = "cifar10"
    # fields of the reference recipe; at these defaults a key is the earlier one's
    recipe: str = "nb201"  # name prefix: "nb201" (none) or "econas"
    variant: str = "official"  # network variant (zclib.network.VARIANTS)
    norm: str = "nb201"  # normalisation constants (zclib.data.normalization)
    resize: str = "area"  # "area": float block average, crop at r (pad scaled);
    # "pil": crop at 32 (pad 4), then uint8 antialiased bilinear to r (the reference)
    eval_batch: int = 1000  # images per test batch (matters with batch-stat BN)
    shared_order: bool = False  # batch order and augmentation drawn from the seed
    # alone, the same for every cell (packable); False: from (seed, cell)
    stop: int | None = None  # train only epochs 1..stop of the `epochs`-epoch
    # schedule (the paper reads epoch 20 of 40: what training 40 and reading 20 gives)
    test_order: str = "source"  # "source": the test images in the data source's
    # order; "shuffled": one fixed seeded permutation (zclib.train.tensors), the same
    # for every run. It matters where BN uses batch statistics at test time (the
    # foresight network): the offline CIFAR-10 copy is sorted by class, and a test
    # batch of one or two classes is another test than the official (unsorted) order

    def __post_init__(self):
        if self.resolution < 1 or 32 % self.resolution:
            raise ValueError(f"resolution must divide 32, got {self.resolution}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        if self.C < 1 or self.epochs < 1 or self.batch_size < 1 or self.N < 1:
            raise ValueError(f"C, epochs, batch_size and N must be >= 1: {self}")
        if canonical_dataset(self.dataset) != "cifar10":
            raise ValueError("reduced training is implemented for cifar10 only")
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; one of {list(RECIPES)}")
        if self.stop is not None and not 1 <= self.stop <= self.epochs:
            raise ValueError(f"stop must be in 1..epochs, got {self.stop}")
        if self.resize not in ("area", "pil"):
            raise ValueError(f"resize must be 'area' or 'pil', got {self.resize!r}")
        if self.test_order not in ("source", "shuffled"):
            raise ValueError(
                f"test_order must be 'source' or 'shuffled', got {self.test_order!r}"
            )

    @classmethod
    def parse(cls, name: str, **overrides) -> Setting:
        """``r8c4e20`` (+ optional ``f0.1`` fraction, ``b128`` batch; an
        ``econas-`` prefix for the reference recipe; ``s20`` after the epochs: stop
        after epoch 20 of the schedule) -> Setting."""
        m = _NAME.match(name.strip())
        if not m:
            raise ValueError(
                f"bad setting {name!r}; expected e.g. econas-r8c4e40, r8c4e20, "
                "r16c8e15f0.5 or r8c4e1f0.02b128"
            )
        recipe, r, c, e, stop, f, b = m.groups()
        kw = dict(RECIPES[recipe or "nb201"])
        kw.update(resolution=int(r), C=int(c), epochs=int(e))
        if stop is not None:
            kw["stop"] = int(stop)
        if f is not None:
            kw["fraction"] = float(f)
        if b is not None:
            kw["batch_size"] = int(b)
        return cls(**{**kw, **overrides})

    @property
    def name(self) -> str:
        """Short name; round-trips through :meth:`parse` for the encoded fields
        (other fields that differ from the recipe's follow as ``~field=value``)."""
        preset = RECIPES[self.recipe]
        s = "" if self.recipe == "nb201" else f"{self.recipe}-"
        s += f"r{self.resolution}c{self.C}e{self.epochs}"
        if self.stop is not None:
            s += f"s{self.stop}"
        if self.fraction != 1.0:
            s += f"f{self.fraction:g}"
        if self.batch_size != preset.get("batch_size", 256):
            s += f"b{self.batch_size}"
        base = dataclasses.asdict(Setting.parse(s))
        for k, v in dataclasses.asdict(self).items():
            if base[k] != v:
                s += f"~{k}={v}"
        return s

    @property
    def last_epoch(self) -> int:
        """The last epoch trained (``stop`` or ``epochs``)."""
        return self.epochs if self.stop is None else self.stop

    @property
    def pad(self) -> int:
        """Crop padding in pixels of the image the crop is taken from."""
        if self.resize == "pil":
            return BASE_PAD  # at 32x32, before the resize
        return max(1, BASE_PAD * self.resolution // 32)

    def config(self) -> dict:
        """Every field (+ the code version): what a cached result must match.
        The reference recipe's fields are left out at the earlier recipe's values,
        so the earlier runs keep their keys."""
        cfg = dataclasses.asdict(self)
        for k, v in _LEGACY.items():
            if cfg[k] == v:
                del cfg[k]
        return {**cfg, "train_version": TRAIN_VERSION}


_LEGACY = {
    "recipe": "nb201",
    "variant": "official",
    "norm": "nb201",
    "resize": "area",
    "eval_batch": 1000,
    "shared_order": False,
    "stop": None,
    "test_order": "source",
}
# recipe -> the fields its names imply (name, resolution, C, epochs from the name)
RECIPES: dict[str, dict] = {
    "nb201": dict(_LEGACY),
    "econas": {
        "recipe": "econas",
        "batch_size": 2048,
        "variant": "foresight",
        "norm": "foresight",
        "resize": "pil",
        "eval_batch": 2048,
        "shared_order": True,
        "test_order": "shuffled",
    },
}
ECONAS = "econas-r8c4e40"  # the reference's EcoNAS point (read at epoch 20)


def run_key(arch: str, setting: Setting, seed: int) -> str:
    """Cache key of one run: a hash of the arch, the seed and every setting field."""
    blob = json.dumps(
        {"arch": space.validate(arch), "seed": int(seed), **setting.config()},
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:16]
