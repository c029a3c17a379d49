"""A reduced training recipe (EcoNAS's axes) and the cache key of one run.

from zclib.train import Setting, run_key
s = Setting.parse("r8c4e20")          # resolution 8, C=4, 20 epochs
run_key(arch, s, seed=0)              # 16 hex digits, the run's cache key
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
_NAME = re.compile(r"^r(\d+)c(\d+)e(\d+)(?:f([0-9.]+))?(?:b(\d+))?$")


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
    augment: bool = True  # random crop (padding BASE_PAD * resolution / 32) + flip
    dataset: str = "cifar10"

    def __post_init__(self):
        if self.resolution < 1 or 32 % self.resolution:
            raise ValueError(f"resolution must divide 32, got {self.resolution}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        if self.C < 1 or self.epochs < 1 or self.batch_size < 1 or self.N < 1:
            raise ValueError(f"C, epochs, batch_size and N must be >= 1: {self}")
        if canonical_dataset(self.dataset) != "cifar10":
            raise ValueError("reduced training is implemented for cifar10 only")

    @classmethod
    def parse(cls, name: str, **overrides) -> Setting:
        """``r8c4e20`` (+ optional ``f0.1`` fraction, ``b128`` batch) -> Setting."""
        m = _NAME.match(name.strip())
        if not m:
            raise ValueError(
                f"bad setting {name!r}; expected e.g. r8c4e20, "
                "r16c8e15f0.5 or r8c4e1f0.02b128"
            )
        r, c, e, f, b = m.groups()
        kw = dict(resolution=int(r), C=int(c), epochs=int(e))
        if f is not None:
            kw["fraction"] = float(f)
        if b is not None:
            kw["batch_size"] = int(b)
        return cls(**{**kw, **overrides})

    @property
    def name(self) -> str:
        """Short name; round-trips through :meth:`parse` for the encoded fields."""
        s = f"r{self.resolution}c{self.C}e{self.epochs}"
        if self.fraction != 1.0:
            s += f"f{self.fraction:g}"
        if self.batch_size != 256:
            s += f"b{self.batch_size}"
        return s

    @property
    def pad(self) -> int:
        return max(1, BASE_PAD * self.resolution // 32)

    def config(self) -> dict:
        """Every field (+ the code version): what a cached result must match."""
        return {**dataclasses.asdict(self), "train_version": TRAIN_VERSION}


def run_key(arch: str, setting: Setting, seed: int) -> str:
    """Cache key of one run: a hash of the arch, the seed and every setting field."""
    blob = json.dumps(
        {"arch": space.validate(arch), "seed": int(seed), **setting.config()},
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:16]
