"""Dataset names (canonical names, aliases, class counts) and score-table names.

    from zclib.names import canonical_dataset, score_table_name, variant_column
    canonical_dataset("CIFAR-10")  # -> "cifar10"
    score_table_name("cifar10", "nall", 0, 64, ["fisher"], "foresight")
    # -> "cifar10_nall_s0_b64_fisher_foresight.parquet"
    variant_column("fisher", "foresight")  # -> "fisher_foresight"

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


def score_table_name(
    ds: str,
    tag: str,
    seed: int,
    batch_size: int,
    proxies,
    variant: str = "official",
) -> str:
    """File name of a score table of some proxies (caches, shipped variant tables).

    Args:
        ds: canonical dataset name.
        tag: which cells (``"n40"``, ``"nall"``, ``"shipped"``, ...).
        seed: scorer seed.
        batch_size: proxy batch.
        proxies: proxy names, joined with ``-``.
        variant: network variant; the official network's names carry none.

    Returns:
        ``<ds>_<tag>_s<seed>_b<batch>_<proxies>[_<variant>].parquet``.
    """
    v = "" if variant == "official" else f"_{variant}"
    return f"{ds}_{tag}_s{seed}_b{batch_size}_{'-'.join(proxies)}{v}.parquet"


def variant_column(proxy: str, variant: str = "official") -> str:
    """The column a proxy scored on a network variant has in a table of the
    official network's scores: the variant's suffix, as in :func:`score_table_name`
    (``fisher`` on the foresight network: ``fisher_foresight``)."""
    return proxy if variant == "official" else f"{proxy}_{variant}"
