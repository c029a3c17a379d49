"""What the full-space fp32 tables are made of: the scoring jobs and where they go.

    from zclib.fullspace import jobs
    for job in jobs.plan(["cifar10"]):
        job.name, job.out()   # "all", results/scores/fp32/nb201_cifar10.parquet, ...

One job is one :func:`zclib.scoring.score_archs` run over the whole space in the
order of ``space.sample(N_ARCHS, SEED)`` (every prefix is the notebooks' sample):

1. ``all``: the proxies of :data:`TABLE_PROXIES` on the official network, into
   ``nb201_<dataset>.parquet`` (its parts folder is the one the CPU job of
   results/scores/fp32/README.md fills: same identity, so CPU and GPU chunks mix);
2. ``fisher_foresight``: fisher on the reference code's network (``variant=
   "foresight"``), into ``variants/<dataset>_nall_s0_b64_fisher_foresight.parquet``
   (the naming of results/scores/variants/);
3. ``suite``: the proxies in ``"all"`` registered after the clean tables' job
   started (l2_norm, plain, epe_nas, zen, meco, swap), one pass for all, official
   network, ``variants/<ds>_nall_s0_b64_<p1-p2-...>.parquet``;
4. one job per registered proxy outside ``"all"`` (a variant scored only when
   named; none is registered now), official network,
   ``variants/<...>_<proxy>.parquet``.

The merged table of a dataset (:mod:`zclib.fullspace.merge`) holds job 1's columns
plus one column per other job (:func:`zclib.names.variant_column`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from zclib import proxies as zproxies
from zclib import space
from zclib.data import predrawn
from zclib.names import DATASETS, canonical_dataset, score_table_name, variant_column
from zclib.paths import DATA_DIR, RESULTS_DIR

ROOT = RESULTS_DIR / "scores" / "fp32"  # the tables and their parts folders
BATCH_DIR = DATA_DIR / "gpu"  # pre-drawn batches (git-ignored)
N_ARCHS = 15625  # the whole space
SEED = 0  # data, weight-init and sample seed
BATCH_SIZE = 64  # images per proxy batch
# The proxies of the ``all`` tables: those registered when their job started (the
# CPU job's run identity lists them; a longer list would refuse its resume). Proxies
# registered later join as added columns, one job each.
TABLE_PROXIES = (
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "synflow",
    "jacob_cov",
    "naswot",
    "zico",
    "params",
    "flops",
)
CHUNK_SIZE = 25  # archs per chunk file (part of the run identity: as the CPU job)
N_BATCHES = 2  # batches drawn: zico reads two, every other proxy batch 0
NORM = "foresight"  # normalisation constants


@dataclasses.dataclass(frozen=True)
class Job:
    """One scoring run over the space.

    Attributes:
        dataset: canonical dataset name.
        name: ``"all"``, ``"suite"`` or the one column the job adds.
        proxies: the proxies it scores (one pass per cell).
        variant: network variant.
    """

    dataset: str
    name: str
    proxies: tuple[str, ...]
    variant: str = "official"

    @property
    def columns(self) -> list[str]:
        """The columns it gives the merged table (:func:`variant_column`)."""
        return [variant_column(p, self.variant) for p in self.proxies]

    def out(self, root: str | Path = ROOT) -> Path:
        """The table :func:`zclib.scoring.score_archs` writes (parts beside it)."""
        root = Path(root)
        if self.name == "all":
            return root / f"nb201_{self.dataset}.parquet"
        name = score_table_name(
            self.dataset, "nall", SEED, BATCH_SIZE, self.proxies, self.variant
        )
        return root / "variants" / name


def plan(datasets=DATASETS) -> list[Job]:
    """Every job for ``datasets``, in the order a time-limited run does them (each
    kind for every dataset before the next): the ``all`` tables, fisher on the
    reference network, the ``suite`` of proxies in ``"all"`` registered after the
    ``all`` job started (one pass for all of them), then each registered variant
    outside ``"all"``."""
    dss = [canonical_dataset(d) for d in datasets]
    suite = tuple(n for n in zproxies.resolve("all") if n not in TABLE_PROXIES)
    kinds = [
        ("all", TABLE_PROXIES, "official"),
        ("fisher_foresight", ("fisher",), "foresight"),
    ]
    if suite:
        kinds.append(("suite", suite, "official"))
    kinds += [
        (n, (n,), "official")
        for n in zproxies.names()
        if n not in TABLE_PROXIES and n not in suite
    ]
    return [Job(ds, name, p, v) for name, p, v in kinds for ds in dss]


def archs(n: int | None = N_ARCHS) -> list[str]:
    """The cells of every job, in order: ``space.sample(n, SEED)``."""
    return space.sample(n, seed=SEED)


def batch_file(dataset: str, batch_dir: str | Path = BATCH_DIR) -> Path:
    """Where :func:`zclib.data.predrawn.save` puts a dataset's batches."""
    return Path(batch_dir) / predrawn.file_name(dataset, SEED, BATCH_SIZE, NORM)


def score_kwargs(job: Job, batch_dir: str | Path = BATCH_DIR) -> dict:
    """The settings every call scoring ``job`` passes to ``score_archs``."""
    return dict(
        dataset=job.dataset,
        proxies=",".join(job.proxies),
        seed=SEED,
        batch_size=BATCH_SIZE,
        variant=job.variant,
        norm=NORM,
        batch_file=batch_file(job.dataset, batch_dir),
    )
