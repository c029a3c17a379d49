"""Score tables for the notebooks: read what is on disk, or compute what is missing.

    from zclib import results
    # read (0.1 s; MissingScoresError names what is not on disk):
    scores = results.load_scores("cifar10", ["snip"], n_archs=1000, seed=0)
    # compute what is missing (seconds to hours of CPU), cached resumably:
    scores = results.compute_scores("cifar10", ["fisher"], n_archs=40)
    # the tolerance check and the stand-in flag every notebook uses:
    results.compare(0.62, 0.64, tol=0.03)   # True
    results.is_stand_in("ImageNet16-120")   # True
    results.score_stand_in("ImageNet16-120")   # "mixed-classes": the shipped table's
    results.stand_in_caveat("ImageNet16-120")  # the note that names it

Scores are read from (1) the full-space tables shipped under ``results/scores/``
(computed once on a GPU, see that folder's README), joined with any partial tables
for proxies that were added later (e.g. the reference ``fisher``), and (2) the
finished caches under ``results/cache/scores/``. :func:`load_scores` only reads and
fails loudly when cells are missing; :func:`compute_scores` scores them. What a
notebook records is :mod:`zclib.records`.

All scores of one dataset rest on the same images, those its shipped full-space
table records (:func:`score_stand_in`): the ImageNet16-120 tables shipped so far were
made on the older stand-in (``imagenet16-120/``, "mixed-classes"), so
:func:`compute_scores` scores missing cells on it and :func:`load_scores` reads only
caches made on it, although data discovery now prefers the official-classes
stand-in. A dataset without a shipped table follows discovery.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from zclib import bench, data, network, scoring, space
from zclib import proxies as zp
from zclib.fidelity import (  # noqa: F401 (results.compare etc. are the public names)
    NOT_CHECKED,
    STAND_IN_DATASETS,
    STATUSES,
    assess,
    compare,
    ds_label,
    is_stand_in,
    stand_in_note,
)
from zclib.fileio import read_parquet, write_parquet_atomic, write_text_atomic
from zclib.names import canonical_dataset, score_table_name, variant_column
from zclib.paths import RESULTS_DIR
from zclib.provenance import provenance

# the shipped tables: the clean fp32 full-space tables of zclib.fullspace (issue 14)
SCORES_DIR = RESULTS_DIR / "scores" / "fp32"
CACHE_DIR = RESULTS_DIR / "cache" / "scores"
VARIANTS_DIR = SCORES_DIR / "variants"  # partial tables of non-official networks
_COVERED: dict[str, dict[str, np.ndarray]] = {}  # see shipped()
SCORE_META = (
    "seed",
    "batch_size",
    "dataset",
    "variant",
    "mode",
    "norm",
    "augment",
    "device",
    "data_source",
    "stand_in_name",
    "zclib_version",
    "git_commit",
    "seconds",
)


def main_table(dataset: str) -> Path:
    """The shipped full-space table of a dataset (its ``.meta.json`` beside it)."""
    return SCORES_DIR / f"nb201_{canonical_dataset(dataset)}.parquet"


def addon_tables(dataset: str) -> list[Path]:
    """The shipped partial add-on tables :func:`shipped` joins to the main one."""
    return sorted(SCORES_DIR.glob(f"nb201_{canonical_dataset(dataset)}_*.parquet"))


def shipped(dataset: str) -> pd.DataFrame | None:
    """The shipped full-space table of a dataset joined with partial add-on tables.

    Returns None when nothing is shipped. A proxy from a partial table is NaN for
    the architectures it does not cover yet; ``df.attrs["coverage"]`` says how many
    each proxy has, ``df.attrs["stand_in_name"]`` which images the table records
    (:func:`table_stand_in`). A partial table that records other images is not
    joined (a warning says so).
    """
    ds = canonical_dataset(dataset)
    main = main_table(ds)
    if not main.exists():
        return None
    df = read_parquet(main)
    images = table_stand_in(df, ds)
    for extra in addon_tables(ds):
        add = read_parquet(extra)
        # add-ons exported before they recorded their images were all made on the
        # main table's (the only ImageNet16-120 stand-in of the time)
        if "stand_in_name" in add and (other := table_stand_in(add, ds)) != images:
            warnings.warn(
                f"{extra.name} was scored on other images ({other!r}) than "
                f"{main.name} ({images!r}); not joined",
                stacklevel=2,
            )
            continue
        cols = [c for c in add.columns if c not in df.columns and c not in SCORE_META]
        add = add[["arch_str", *cols]].assign(**{f"_covered_{c}": True for c in cols})
        df = df.merge(add, on="arch_str", how="left")
    covered = {
        c[len("_covered_") :]: df.pop(c).eq(True).to_numpy()
        for c in list(df.columns)
        if c.startswith("_covered_")
    }
    df.attrs["source"] = str(main)
    df.attrs["stand_in_name"] = images
    # archs scored per proxy (a NaN score of a scored arch is a real NaN, not a gap)
    df.attrs["coverage"] = {
        c: int(covered[c].sum()) if c in covered else len(df)
        for c in df.columns
        if c not in SCORE_META and c not in ("arch_str", "index")
    }
    # partial add-on columns only: bool mask per row (kept out of attrs: pandas
    # compares attrs on merge/concat, and arrays there make that ambiguous)
    _COVERED[ds] = covered
    return df


def table_stand_in(table: pd.DataFrame, dataset: str) -> str | None:
    """Which images a score table's rows were computed on, from what it records.

    Args:
        table: score rows with the scorer's ``stand_in_name`` column or, in tables
            made before it existed, ``data_source``, whose folder names the
            stand-in (``zclib.data.recognise_stand_in``).
        dataset: the table's dataset.

    Returns:
        ``""``: official data (always, for a dataset without stand-ins); a key of
        ``zclib.data.STAND_INS`` (or ``"unrecognised"``); None: not recorded.

    Raises:
        ValueError: its rows were computed on different images.
    """
    if not is_stand_in(dataset):
        return ""
    if "stand_in_name" in table:
        found = set(table["stand_in_name"].dropna().astype(str))
    elif "data_source" in table:
        found = {
            data.recognise_stand_in(p) or None
            for p in table["data_source"].dropna().unique()
        }
    else:
        return None
    if len(found) > 1:
        raise ValueError(f"score table of {dataset} mixes images: {sorted(found)}")
    return found.pop() if found else None


def score_stand_in(dataset: str) -> str | None:
    """Which images every score of ``dataset`` here rests on (see the module doc).

    Those its shipped full-space table records, for every seed, batch size and
    network variant, so that one dataset's scores never mix images; without a
    shipped table, those data discovery finds now (``zclib.data.find_source``).

    Args:
        dataset: dataset name or alias.

    Returns:
        ``""`` for official data (always for CIFAR), a key of
        ``zclib.data.STAND_INS`` (or ``"unrecognised"``), or None when the table
        does not record it (or there is neither a table nor data).
    """
    ds = canonical_dataset(dataset)
    if not is_stand_in(ds):
        return ""
    main = main_table(ds)
    if main.exists():
        return _recorded_stand_in(main, main.stat().st_mtime_ns, ds)
    try:
        return data.find_source(ds).stand_in_name
    except FileNotFoundError:
        return None


@functools.lru_cache(maxsize=8)
def _recorded_stand_in(main: Path, mtime_ns: int, ds: str) -> str | None:
    """:func:`table_stand_in` of a shipped table, reading only what it needs."""
    schema = pq.read_schema(main).names
    cols = [c for c in ("stand_in_name", "data_source") if c in schema]
    return table_stand_in(read_parquet(main, columns=cols), ds)


def stand_in_caveat(dataset: str, what: str = "scores") -> str:
    """The note a number computed from ``dataset``'s scores carries: names the
    stand-in they rest on (:func:`score_stand_in`); ``""`` for real images.

    Args:
        dataset: dataset name or alias.
        what: what rests on the images (see :func:`zclib.fidelity.stand_in_note`).

    Returns:
        The note (ends with a space), or ``""``.
    """
    if not is_stand_in(dataset):
        return ""
    return stand_in_note(score_stand_in(dataset), what)


class MissingScoresError(FileNotFoundError):
    """Scores asked of :func:`load_scores` that no shipped table or cache holds."""


def load_scores(
    dataset: str,
    proxies: Sequence[str] | str = "all",
    n_archs: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    variant: str = "official",
) -> pd.DataFrame:
    """Read proxy scores for ``n_archs`` architectures (None = all): never computes.

    Reads the shipped tables (``results/scores/``, with their partial add-ons) and
    the finished caches (``results/cache/scores/``); costs a fraction of a second.

    Args:
        dataset: dataset name or alias.
        proxies: names or ``"all"``.
        n_archs: sample size (seeded uniform sample, :func:`zclib.space.sample`),
            None for the whole space.
        seed: sample seed (also the scorer seed the tables must have been made with).
        batch_size: proxy batch the tables must have been made with.
        variant: network variant (:mod:`zclib.network`); other than ``"official"``
            it is read from ``results/scores/variants/`` and the caches.

    Returns:
        One row per architecture with ``arch_str``, ``index``, proxy columns;
        ``attrs["origin"]`` is ``"shipped"``, ``"computed"`` (read from the caches)
        or ``"shipped+computed"``; ``attrs["stand_in_name"]`` the images they rest
        on (:func:`score_stand_in`).

    Raises:
        MissingScoresError: some of the cells are in no table; the message names
            them and the :func:`compute_scores` call that scores them.
    """
    return _scores(dataset, proxies, n_archs, seed, batch_size, variant, compute=False)


def compute_scores(
    dataset: str,
    proxies: Sequence[str] | str = "all",
    n_archs: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    device: str = "cpu",
    use_shipped: bool = True,
    progress: bool = True,
    variant: str = "official",
) -> pd.DataFrame:
    """Proxy scores as :func:`load_scores` reads them, scoring the cells it lacks.

    Cells that no shipped table or finished cache holds are scored here, on the
    dataset's images (:func:`score_stand_in`; seconds for a few cells, hours of CPU
    for the whole space), resumably cached under
    ``results/cache/scores/`` with a progress bar, so a later :func:`load_scores`
    reads them.

    Args:
        dataset, proxies, n_archs, seed, batch_size, variant: as :func:`load_scores`
            (``seed`` is also the scorer's data/init seed).
        device: scorer device, ``"cpu"`` or ``"cuda"``.
        use_shipped: False ignores the shipped tables (the caches still count).
        progress: progress bar while scoring.

    Returns:
        As :func:`load_scores`.
    """
    return _scores(
        dataset,
        proxies,
        n_archs,
        seed,
        batch_size,
        variant,
        compute=True,
        device=device,
        use_shipped=use_shipped,
        progress=progress,
    )


def _scores(
    dataset: str,
    proxies: Sequence[str] | str,
    n_archs: int | None,
    seed: int,
    batch_size: int,
    variant: str,
    compute: bool,
    device: str = "cpu",
    use_shipped: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Shipped table + finished caches; what they lack is scored (``compute``) or
    named in a :class:`MissingScoresError`."""

    ds = canonical_dataset(dataset)
    names = zp.resolve(proxies)
    archs = space.sample(n_archs, seed)
    images = score_stand_in(ds)  # what every score of ds rests on
    table = shipped(ds) if use_shipped else None
    if table is not None and variant != "official":
        table = _variant_view(table, variant)
    if table is not None and not (
        int(table["seed"].iloc[0]) == seed
        and int(table["batch_size"].iloc[0]) == batch_size
    ):
        table = None  # shipped scores were made with another seed or batch size
    have: pd.DataFrame | None = None
    gaps: dict[str, np.ndarray] = {}
    if table is not None:
        row = pd.Series(np.arange(len(table)), index=table["arch_str"]).loc[archs]
        have = table.iloc[row.to_numpy()].reset_index(drop=True)
        have.attrs.update(table.attrs)
        # partial add-on columns: archs of this sample they do not cover yet
        if variant == "official":  # (a variant's columns cover the whole table)
            covered = _COVERED[ds].items()
            gaps = {p: ~m[row.to_numpy()] for p, m in covered if p in names}
    todo = [p for p in names if have is None or p not in have.columns]
    partial = [p for p, g in gaps.items() if g.any()]
    if have is not None and not todo and not partial:
        have.attrs.update(origin="shipped", stand_in_name=images)
        return have
    missing = todo + partial
    if have is None or todo:
        need = archs
    else:
        need = list(have.loc[np.any([gaps[p] for p in partial], axis=0), "arch_str"])
    cached = _cached_rows(
        ds,
        seed,
        batch_size,
        missing,
        need,
        variant,
        shipped_variants=use_shipped,
        stand_in=images,
    )
    need = [a for a in need if a not in cached.index] if len(cached) else need
    if need and not compute:
        raise MissingScoresError(
            _missing_message(ds, missing, need, n_archs, seed, batch_size, variant)
        )
    if not need:
        new = cached.reset_index()
    elif need is archs:  # the whole sample: named by its size
        tag = "nall" if n_archs is None else f"n{n_archs}"
    else:  # the gaps of a partial table: named by a hash of the archs
        digest = hashlib.sha1("\n".join(need).encode()).hexdigest()[:10]
        tag = f"{len(need)}archs_{digest}"
    if need:
        name = _cache_name(ds, tag, seed, batch_size, missing, variant)
        new = scoring.score_archs(
            need,
            ds,
            missing,
            seed=seed,
            batch_size=batch_size,
            device=device,
            variant=variant,
            stand_in=images,
            out=CACHE_DIR / name,
            progress=progress,
        )
        new = new[["arch_str", *missing]]
        if len(cached):
            new = pd.concat([cached.reset_index(), new], ignore_index=True)
    if have is None:
        new = new.drop_duplicates("arch_str").set_index("arch_str").loc[archs]
        new = new[list(missing)].reset_index()
        new.insert(1, "index", [space.benchmark_index(a) for a in new["arch_str"]])
        new.attrs.update(origin="computed", variant=variant, stand_in_name=images)
        return new
    merged = have.set_index("arch_str")
    upd = new.set_index("arch_str")[missing]
    for p in missing:
        if p not in merged:
            merged[p] = np.nan
        merged.loc[upd.index, p] = upd[p]
    merged = merged.reset_index()
    merged.attrs.update(
        have.attrs, origin="shipped+computed", computed=missing, stand_in_name=images
    )
    return merged


def _variant_view(table: pd.DataFrame, variant: str) -> pd.DataFrame | None:
    """A main table's columns of one network variant (``fisher_foresight``, as
    :func:`zclib.names.variant_column` names them) under their proxies' names, with
    the metadata columns; None when it has none."""
    suffix = f"_{variant}"
    cols = {
        c: c[: -len(suffix)]
        for c in table.columns
        if c.endswith(suffix) and c[: -len(suffix)] in zp.names()
    }
    if not cols:
        return None
    keep = ["arch_str", "index", *[c for c in SCORE_META if c in table], *cols]
    view = table[keep].rename(columns=cols).assign(variant=variant)
    view.attrs.update(table.attrs, variant=variant)
    view.attrs["coverage"] = {p: len(view) for p in cols.values()}
    return view


def _missing_message(
    ds: str,
    names: Sequence[str],
    need: Sequence[str],
    n_archs: int | None,
    seed: int,
    batch_size: int,
    variant: str,
) -> str:
    """What :func:`load_scores` lacks, and the call that computes it."""
    v = "" if variant == "official" else f", variant={variant!r}"
    return (
        f"no score table holds {', '.join(names)} for {len(need):,} of the "
        f"{'all' if n_archs is None else n_archs} cells asked "
        f"({ds}, seed {seed}, batch {batch_size}{v}; first: {need[0]}); looked in "
        f"{SCORES_DIR} and {CACHE_DIR}. Score them (CPU: ~0.3-5 s a cell) with "
        f"results.compute_scores({ds!r}, {list(names)!r}, n_archs={n_archs!r}, "
        f"seed={seed}, batch_size={batch_size}{v}), which caches them for this "
        f"read."
    )


def _cache_name(
    ds: str,
    tag: str,
    seed: int,
    batch_size: int,
    names: Sequence[str],
    variant: str = "official",
) -> str:
    """File name of a cache table (:func:`zclib.names.score_table_name`)."""
    return score_table_name(ds, tag, seed, batch_size, names, variant)


def _cached_rows(
    ds: str,
    seed: int,
    batch_size: int,
    names: Sequence[str],
    archs: Sequence[str],
    variant: str = "official",
    shipped_variants: bool = True,
    *,
    stand_in: str | None,
) -> pd.DataFrame:
    """Rows of finished cache tables of the same settings that cover ``archs``.

    Samples are nested prefixes of one permutation, so a 1,000-arch run also serves
    the 40-arch smoke run (and a 40-arch run the first 40 of a 1,000-arch one).
    Tables of a non-official variant shipped under ``results/scores/variants/``
    count as caches. Only tables made on the ``stand_in`` images count (cache
    names do not say); tables that record no images (the shipped partial ones)
    were made on their dataset's shipped images.
    """
    pattern = _cache_name(ds, "*", seed, batch_size, names, variant)
    files = sorted(CACHE_DIR.glob(pattern))
    if variant != "official" and shipped_variants:
        files += sorted(VARIANTS_DIR.glob(pattern))
    if variant == "official":  # "*" would also match the variants' names
        files = [
            f
            for f in files
            if not any(f.name.endswith(f"_{v}.parquet") for v in network.VARIANTS)
        ]
    frames = []
    for f in files:
        schema = pq.read_schema(f).names
        protocol = [c for c in ("norm", "augment") if c in schema]
        images = [c for c in ("stand_in_name", "data_source") if c in schema]
        df = read_parquet(f, columns=["arch_str", *names, *protocol, *images])
        if _default_batch(df) and (not images or table_stand_in(df, ds) == stand_in):
            frames.append(df[["arch_str", *names]])
    if not frames:
        return pd.DataFrame(columns=[*names]).rename_axis("arch_str")
    df = pd.concat(frames).drop_duplicates("arch_str").set_index("arch_str")
    return df.loc[df.index.intersection(list(archs))]


def _default_batch(df: pd.DataFrame) -> bool:
    """Whether a score table was made with the batch :func:`load_scores` asks for:
    the default normalisation, not augmented. Tables without those columns (the
    shipped ones: made before ``augment`` existed) count as default. Cache names do
    not carry the batch protocol, so a ``--norm``/``--augment`` run copied into the
    cache folder is skipped here instead of mixed in."""
    return bool(
        df.get("norm", pd.Series(["foresight"])).eq("foresight").all()
        and not df.get("augment", pd.Series([False])).astype(bool).any()
    )


def distinct(df: pd.DataFrame, col: str) -> str:
    """The distinct values of a metadata column, sorted and comma-joined ("?" if
    the column is absent): e.g. the seeds or devices behind a score table."""
    if col not in df:
        return "?"
    return ", ".join(map(str, sorted(df[col].dropna().unique())))


def with_accuracy(scores: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Join benchmark columns (test_acc, valid_acc, 12-epoch, ...) by benchmark
    index."""

    table = bench.load_table(dataset).set_index("index")
    cols = [c for c in table.columns if c not in ("arch_str",)]
    out = scores.join(table[cols], on="index")
    out.attrs.update(scores.attrs)
    return out


def variant_coverage(
    dataset: str, proxy: str, variant: str, seed: int = 0, batch_size: int = 64
) -> int:
    """Cells the shipped scores of a network variant hold for one proxy: all of
    them when the main table has the variant's column (``fisher_foresight``), else
    those of its shipped partial table (0 when none); :func:`load_scores` scores the
    rest when asked."""
    ds = canonical_dataset(dataset)
    main = main_table(ds)
    if main.exists() and variant_column(proxy, variant) in pq.read_schema(main).names:
        meta = read_parquet(main, columns=["seed", "batch_size"])
        if len(meta) and (meta["seed"].iloc[0], meta["batch_size"].iloc[0]) == (
            seed,
            batch_size,
        ):
            return len(meta)
    f = _variant_table(ds, proxy, seed, batch_size, variant)
    return len(read_parquet(f, columns=["arch_str"])) if f.exists() else 0


def _variant_table(
    ds: str, proxy: str, seed: int, batch_size: int, variant: str
) -> Path:
    """Where the shipped partial table of a non-official variant lives."""
    return VARIANTS_DIR / _cache_name(ds, "shipped", seed, batch_size, [proxy], variant)


def export_partial(
    dataset: str,
    proxy: str,
    seed: int = 0,
    batch_size: int = 64,
    variant: str = "official",
) -> Path:
    """Ship what the CPU caches hold of a proxy the full-space table lacks.

    Writes ``results/scores/nb201_<dataset>_<proxy>.parquet`` (arch_str + the proxy,
    every arch any finished cache scored with these settings on the dataset's
    images, :func:`score_stand_in`, + ``stand_in_name``) and its meta JSON;
    :func:`shipped` joins it as a partial add-on column. A non-official ``variant``
    goes to ``results/scores/variants/`` under its cache name instead, where
    :func:`load_scores` with that variant finds it.
    """
    ds = canonical_dataset(dataset)
    images = score_stand_in(ds)
    rows = _cached_rows(
        ds,
        seed,
        batch_size,
        [proxy],
        space.benchmark_order(),
        variant,
        shipped_variants=False,
        stand_in=images,
    )
    if not len(rows):
        raise FileNotFoundError(f"no finished {proxy} caches for {ds} in {CACHE_DIR}")
    if variant == "official":
        out = main_table(ds).with_name(f"nb201_{ds}_{proxy}.parquet")
    else:
        out = _variant_table(ds, proxy, seed, batch_size, variant)
    write_parquet_atomic(rows.reset_index().assign(stand_in_name=images), out)
    meta = provenance(
        dataset=ds,
        proxy=proxy,
        seed=seed,
        batch_size=batch_size,
        n_archs=len(rows),
        device="cpu",
        variant=variant,
        stand_in_name=images,
        note="partial: archs in the order of space.sample(None, "
        f"{seed}) as far as computed; NaN count "
        f"{int(rows[proxy].isna().sum())}",
    )
    write_text_atomic(
        json.dumps(meta, indent=2), out.with_name(out.name + ".meta.json")
    )
    return out
