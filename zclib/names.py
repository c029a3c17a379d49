"""Dataset names: the benchmark's canonical names, their aliases, class counts.

    from zclib.names import canonical_dataset
    canonical_dataset("CIFAR-10")  # -> "cifar10"

One table of aliases for the whole library; canonical names are NATS-Bench's own
(``'cifar10'`` here is its train+valid split, not ``'cifar10-valid'``).
"""

from __future__ import annotations

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
ALIASES = {  # lower-cased user spelling -> canonical name
    "cifar10": "cifar10",
    "cifar-10": "cifar10",
    "cifar100": "cifar100",
    "cifar-100": "cifar100",
    "imagenet16-120": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
    "imagenet": "ImageNet16-120",
    "in16-120": "ImageNet16-120",
}


def canonical_dataset(name: str) -> str:
    """Map a user-facing dataset name to the canonical one.

    Args:
        name: e.g. ``"CIFAR-10"``, ``"cifar100"``, ``"ImageNet16-120"``.

    Returns:
        One of :data:`DATASETS`.

    Raises:
        ValueError: for an unknown name (the message lists the accepted ones).
    """
    key = str(name).strip().lower()
    if key not in ALIASES:
        raise ValueError(
            f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)} "
            f"(aliases: {', '.join(sorted(ALIASES))})"
        )
    return ALIASES[key]
