"""Notebook 00: which images, benchmark tables and shipped score tables are here.

from zclib.exhibits import data_check as ex
img = ex.images(["cifar10"])          # data.report() + what is not official
sample = ex.benchmark_sample(["cifar10"], n_archs=None, seed=0)
ex.records_table(rows)                # numbers.json rows, counts as an int column
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zclib import bench, data, results, space
from zclib.provenance import portable

ACC = ["test_acc", "valid_acc", "test_acc_12ep", "valid_acc_12ep", "valtest_acc"]
HIST = {"test_acc": "test, 200 epochs", "valid_acc_12ep": "valid, 12 epochs"}


def images(datasets) -> pd.DataFrame:
    """:func:`zclib.data.report` for ``datasets``, one row each (paths as results
    record them: relative to the project or data root, never absolute; image
    counts as nullable ints, so a missing split does not turn them into floats)."""
    rows = portable(data.report())
    df = pd.DataFrame(rows).set_index("dataset").loc[datasets]
    return df.astype({"n_train": "Int64", "n_test": "Int64"})


def benchmark_sources() -> pd.DataFrame:
    """:func:`zclib.bench.report` as a table, paths made portable."""
    return pd.DataFrame(portable(bench.report()))


def image_flags(img: pd.DataFrame) -> str:
    """Markdown: every dataset whose images are missing, a stand-in or a subset."""
    flags = []
    for ds, r in img.iterrows():
        if not r["found"]:
            flags.append(f"- **{ds}: NOT FOUND.** {r['note']}")
        elif r["stand_in"]:
            flags.append(
                f"- ⚠️ **{ds}: STAND-IN images** ({r['n_train']} training "
                f"images): {r['note']}"
            )
        elif not r["complete"]:
            flags.append(f"- ⚠️ **{ds}: incomplete / subset**: {r['note']}")
        elif r["note"]:
            flags.append(f"- {ds}: {r['note']}")
    return "\n".join(flags) if flags else "All images are the official, complete sets."


def benchmark_sample(
    datasets, n_archs: int | None, seed: int = 0
) -> tuple[dict, list, dict]:
    """(tables, archs, sample): the benchmark table per dataset, the seeded cell
    sample (benchmark order when ``n_archs`` is None) and the tables' rows of it."""
    tables = {ds: bench.load_table(ds) for ds in datasets}
    archs = space.sample(n_archs, seed)
    sample = {
        ds: t.set_index("arch_str").loc[archs].reset_index() for ds, t in tables.items()
    }
    return tables, archs, sample


def accuracy_summary(sample: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": ds,
                "column": c,
                "non_missing": int(t[c].notna().sum()),
                "of": len(t),
                "mean": t[c].mean(),
                "min": t[c].min(),
                "max": t[c].max(),
            }
            for ds, t in sample.items()
            for c in ACC
        ]
    ).set_index(["dataset", "column"])


def batch_summary(
    datasets, batch_size: int, seed: int = 0, device: str = "cpu"
) -> pd.DataFrame:
    """Shape, classes and per-channel mean/std of the proxies' minibatch."""
    rows = []
    for ds in datasets:
        b = data.get_batch(ds, batch_size=batch_size, seed=seed, device=device)
        x = b.x.double()
        rows.append(
            {
                "dataset": ds,
                "x shape": tuple(b.x.shape),
                "classes in batch": int(b.y.unique().numel()),
                "channel means": x.mean((0, 2, 3)).cpu().numpy().round(2),
                "channel stds": x.std((0, 2, 3)).cpu().numpy().round(2),
                "drawn from": f"{b.meta['n_images']:,} images",
                "stand_in": b.meta["stand_in"],
            }
        )
    return pd.DataFrame(rows).set_index("dataset")


def found_now(ds: str) -> str | None:
    """Which images data discovery finds for ``ds`` now (``""``: official; None:
    none found), to set beside the images a shipped table was made on."""
    try:
        return data.find_source(ds).stand_in_name
    except FileNotFoundError:
        return None


def shipped_tables(datasets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(meta, coverage): each shipped score table's metadata, and per proxy the
    cells it covers and its NaN count (the reference fisher listed even when
    absent)."""
    meta_rows, cov_rows = [], []
    for ds in datasets:
        main = results.main_table(ds)
        table = results.shipped(ds)
        if table is None:
            meta_rows.append({"dataset": ds, "shipped": False, "file": str(main)})
            continue
        meta_path = main.with_name(main.name + ".meta.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        addons = [p.name for p in results.addon_tables(ds)]
        meta_rows.append(
            {
                "dataset": ds,
                "shipped": True,
                "rows": len(table),
                "device": meta.get("device_name", meta.get("device")),
                "wall_s": meta.get("wall_seconds_this_run"),
                "seed": meta.get("seed"),
                "batch_size": meta.get("batch_size"),
                "variant": meta.get("variant"),
                "stand_in": meta.get("stand_in"),
                "stand_in_name": table.attrs.get("stand_in_name"),
                "stand_in_found_now": found_now(ds),
                "tf32": meta.get("tf32"),
                "git_commit": meta.get("git_commit"),
                "add-on tables": ", ".join(addons) or "none",
                "note": meta.get("note", ""),
            }
        )
        nan = meta.get("nan_counts", {})
        for proxy, n in table.attrs["coverage"].items():
            cov_rows.append(
                {
                    "dataset": ds,
                    "proxy": proxy,
                    "coverage": n,
                    "NaN": int(table[proxy].isna().sum()),
                    "NaN (meta)": nan.get(proxy),
                    "of": len(table),
                }
            )
        if "fisher" not in table.attrs["coverage"]:
            cov_rows.append(
                {
                    "dataset": ds,
                    "proxy": "fisher",
                    "coverage": 0,
                    "NaN": None,
                    "NaN (meta)": None,
                    "of": len(table),
                }
            )
    return pd.DataFrame(meta_rows).set_index("dataset"), pd.DataFrame(cov_rows)


def coverage_wide(cov: pd.DataFrame, datasets) -> pd.DataFrame:
    wide = cov.pivot(index="proxy", columns="dataset", values=["coverage", "NaN"])
    wide = wide.swaplevel(axis=1).reindex(
        columns=pd.MultiIndex.from_product(
            [[d for d in datasets if d in set(cov["dataset"])], ["coverage", "NaN"]]
        )
    )
    return wide.astype("Int64")


def table_issues(meta_df: pd.DataFrame, cov: pd.DataFrame) -> str:
    """Markdown: what a reader of the shipped tables should know, per dataset."""
    issues = {}  # message -> datasets it applies to
    for ds, r in meta_df.iterrows():
        if not r["shipped"]:
            issues.setdefault(
                "**no shipped score table**: notebooks score on CPU (slow)", []
            ).append(ds)
            continue
        c = cov[cov["dataset"] == ds].set_index("proxy")["coverage"]
        if c.get("fisher", 0) < r["rows"]:
            issues.setdefault(
                "the reference **`fisher` is not shipped for the full space**; "
                "shipped fisher scores",
                [],
            ).append(f"{ds} {c.get('fisher', 0):,} of {r['rows']:,}")
        if r.get("tf32"):
            issues.setdefault(
                "scored with **TF32** convolutions on the GPU (not fp32: "
                "`make verify-scores` says how far off)",
                [],
            ).append(ds)
        if str(r["git_commit"]) in ("HEAD", "unknown", "None"):
            issues.setdefault(
                "the meta records git commit 'HEAD', not a hash: the "
                "code version of the table is not pinned",
                [],
            ).append(ds)
        if r["stand_in"]:
            msg = (
                f"⚠️ scores computed from **{data.stand_in_label(r['stand_in_name'])}**"
            )
            if r["stand_in_found_now"] != r["stand_in_name"]:
                msg += (
                    " images, not those found now (the notebooks score and label "
                    "these datasets on the tables' images)"
                )
            issues.setdefault(msg, []).append(ds)
    lines = [f"- {msg}: {', '.join(where)}" for msg, where in issues.items()]
    return "\n".join(lines) if lines else "All shipped tables are complete."


def records(datasets, img, tables, archs, sample, meta_df, cov) -> list[dict]:
    """numbers.json rows: per dataset the benchmark size, images per split, mean and
    best accuracies, and the shipped tables' rows and fisher coverage."""
    rows = []
    for ds in datasets:
        base = {
            "experiment": "data_check",
            "dataset": ds,
            "stand_in": results.is_stand_in(ds),
        }
        acc_note = f"benchmark accuracy (real values) over {len(archs):,} architectures"
        rows += [
            {
                **base,
                "metric": "n_archs_benchmark",
                "value": len(tables[ds]),
                "note": "rows of the benchmark table",
            },
            {
                **base,
                "metric": "n_train_images",
                "value": _as_recorded(img.loc[ds, "n_train"], int),
                "note": img.loc[ds, "note"] or "official size",
            },
            {
                **base,
                "metric": "n_test_images",
                "value": _as_recorded(img.loc[ds, "n_test"], float),
                "note": ""
                if pd.notna(img.loc[ds, "n_test"])
                else "no test split found",
            },
            {
                **base,
                "metric": "mean_test_acc_200ep",
                "value": sample[ds]["test_acc"].mean(),
                "note": acc_note,
            },
            {
                **base,
                "metric": "max_test_acc_200ep",
                "value": sample[ds]["test_acc"].max(),
                "note": acc_note,
            },
            {
                **base,
                "metric": "mean_valid_acc_12ep",
                "value": sample[ds]["valid_acc_12ep"].mean(),
                "note": acc_note,
            },
        ]
        if ds in meta_df.index and meta_df.loc[ds, "shipped"]:
            c = cov[cov["dataset"] == ds].set_index("proxy")["coverage"]
            rows.append(
                {
                    **base,
                    "metric": "shipped_score_rows",
                    "value": meta_df.loc[ds, "rows"],
                    "note": "rows of results/scores/fp32/nb201_<dataset>.parquet",
                }
            )
            rows.append(
                {
                    **base,
                    "metric": "shipped_fisher_coverage",
                    "value": c.get("fisher", 0),
                    "note": "architectures with a shipped reference fisher score",
                }
            )
    return rows


def _as_recorded(n, kind):
    """An image count as numbers.json has always recorded it (n_test as a float:
    it came from a column with NaN), NaN where the split is missing."""
    return kind(n) if pd.notna(n) else np.nan


# metrics of records() that are counts: shown in their own integer column
COUNT_METRICS = (
    "n_archs_benchmark",
    "n_train_images",
    "n_test_images",
    "shipped_score_rows",
    "shipped_fisher_coverage",
)


def records_table(rows: list[dict]) -> pd.DataFrame:
    """The numbers.json rows as the notebook shows them: counts
    (:data:`COUNT_METRICS`) in an integer ``count`` column, the rest in ``value``
    (a single float column would print 15625 as ``15625.000``).

    Args:
        rows: :func:`records`.

    Returns:
        dataset, stand_in, metric, count (Int64), value (float), note.
    """
    df = pd.DataFrame(rows).drop(columns=["experiment"])
    is_count = df["metric"].isin(COUNT_METRICS)
    count = df["value"].where(is_count).round().astype("Int64")
    df["value"] = df["value"].where(~is_count).astype(float)
    df.insert(df.columns.get_loc("value"), "count", count)
    return df


# -- figures ---------------------------------------------------------------------------


def accuracy_figure(sample: dict, datasets, n_archs: int):
    """Histograms (log count) of the 200-epoch test and 12-epoch valid accuracy."""
    import seaborn as sns

    long = pd.concat(
        [
            pd.DataFrame({"dataset": ds, "accuracy (%)": t[c], "column": HIST[c]})
            for ds, t in sample.items()
            for c in HIST
        ]
    )
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.6 * len(datasets), 3.6), squeeze=False
    )
    for ax, ds in zip(axes[0], datasets, strict=True):
        sns.histplot(
            data=long[long["dataset"] == ds],
            x="accuracy (%)",
            hue="column",
            bins=60,
            element="step",
            fill=True,
            alpha=0.35,
            ax=ax,
        )
        ax.set_yscale("log")
        ax.set_title(ds)
        if ax is axes[0, -1]:
            sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title=None)
        else:
            ax.get_legend().remove()
    fig.suptitle(f"NATS-Bench accuracy over {n_archs:,} architectures", y=1.02)
    fig.tight_layout()
    return fig


def mosaic(images: np.ndarray, per_row: int = 8) -> np.ndarray:
    """N x H x W x 3 uint8 -> one (rows*H) x (per_row*W) x 3 image, white gaps."""
    n, h, w, _ = images.shape
    rows = -(-n // per_row)
    out = np.full((rows * (h + 1), per_row * (w + 1), 3), 255, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, per_row)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = im
    return out


def images_figure(img: pd.DataFrame, datasets, n_images: int, seed: int = 0):
    """(figure, labels shown per dataset): ``n_images`` seeded training images."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(datasets), 1, figsize=(8, 4.2 * len(datasets)), squeeze=False
    )
    shown = {}
    for ax, ds in zip(axes[:, 0], datasets, strict=True):
        ims, labels = data.load_split(ds, "train")
        pick = np.sort(
            rng.choice(len(ims), size=min(n_images, len(ims)), replace=False)
        )
        shown[ds] = labels[pick]
        ax.imshow(mosaic(ims[pick]), interpolation="nearest")
        ax.axis("off")
        src = img.loc[ds]
        title = f"{ds} ({len(ims):,} train images)"
        if src["stand_in"]:
            label = data.stand_in_label(src["stand_in_name"])
            title = f"{ds}: {label}, {len(ims):,} train images"
        ax.set_title(title, color="crimson" if src["stand_in"] else "black")
    fig.tight_layout()
    return fig, {
        ds: [data.CIFAR10_CLASSES[i] if ds == "cifar10" else int(i) for i in lab]
        for ds, lab in shown.items()
    }
