"""Which ImageNet16-120 images are found, how each stand-in is named, and that one
stand-in's scores or cached arrays are never served for the other.

    .venv/bin/pytest -q tests/test_data_standin.py

Synthetic tests build tiny folders in the official pickle format under a tmp
``$ZCLIB_DATA`` (data/ and ../shared out of sight); the real-data tests read
../shared/data and skip without it.
"""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from zclib import chunks, data, fidelity, paths, results, scoring, space

OLD, NEW = "mixed-classes", "official-classes"
FOLDER = {name: s.folder for name, s in data.STAND_INS.items()}


def write_batch(folder, labels, fill, name="train_data_batch_1"):
    """One ImageNet16 pickle; every pixel of image k is ``fill`` (a tag per file)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.full((len(labels), 768), fill, np.uint8)
    (folder / name).write_bytes(
        pickle.dumps({"data": rows, "labels": list(labels)}, protocol=4)
    )
    return folder


def write_stand_in(root, name, fill):
    """A stand-in as the offline copies are laid out: <folder>/ImageNet16 with one
    train batch (120 images, labels 1..120) and classes.txt beside it."""
    d = write_batch(root / FOLDER[name] / "ImageNet16", range(1, 121), fill)
    (d.parent / "classes.txt").write_text("1 n02119789 kit_fox\n")
    return d


def write_official(folder):
    """The official layout: train_data_batch_1..10 and val_data (labels 1..1000)."""
    for i in range(1, 11):
        write_batch(folder, [1, 120, 500], 7, f"train_data_batch_{i}")
    write_batch(folder, [3, 121], 7, "val_data")
    return folder


# ---------------------------------------------------------------- discovery
def test_official_classes_stand_in_is_the_default_over_the_old_one(root):
    write_stand_in(root, OLD, fill=1)
    write_stand_in(root, NEW, fill=2)
    src = data.find_source("ImageNet16-120")
    assert src.path == root / FOLDER[NEW] / "ImageNet16"
    assert (src.stand_in, src.stand_in_name) == (True, NEW)
    x, y = data.load_split("ImageNet16-120")
    assert (x == 2).all() and y.tolist() == list(range(120))  # read from that file


def test_the_old_stand_in_stays_selectable(root, monkeypatch):
    write_stand_in(root, OLD, fill=1)
    write_stand_in(root, NEW, fill=2)
    src = data.find_source("ImageNet16-120", stand_in=OLD)  # by name
    assert (src.path, src.stand_in_name) == (root / FOLDER[OLD] / "ImageNet16", OLD)
    b = data.get_batch("ImageNet16-120", batch_size=8, stand_in=OLD)
    assert b.meta["stand_in_name"] == OLD and b.meta["source"] == str(src.path)
    x, _ = data.load_split("ImageNet16-120", stand_in=OLD)
    assert (x == 1).all()
    # or by pointing $ZCLIB_DATA at its folder, as the docs say
    monkeypatch.setenv(paths.ENV_VAR, str(root / FOLDER[OLD]))
    assert data.find_source("ImageNet16-120").stand_in_name == OLD


def test_official_files_win_over_both_stand_ins(root):
    write_stand_in(root, OLD, fill=1)
    write_stand_in(root, NEW, fill=2)
    write_official(root / "ImageNet16")
    src = data.find_source("ImageNet16-120")
    assert (src.path, src.stand_in, src.stand_in_name) == (
        root / "ImageNet16",
        False,
        "",
    )
    assert src.note == ""  # complete: nothing to flag
    assert data.find_source("ImageNet16-120", stand_in="").path == src.path
    assert data.find_source("ImageNet16-120", stand_in=NEW).stand_in_name == NEW


def test_official_files_in_a_stand_in_folder_name_are_official_and_win(root):
    write_stand_in(root, NEW, fill=2)
    write_official(root / FOLDER[OLD] / "ImageNet16")  # no classes.txt there
    src = data.find_source("ImageNet16-120")
    assert src.path == root / FOLDER[OLD] / "ImageNet16"
    assert (src.stand_in, src.stand_in_name) == (False, "")


def test_the_first_root_with_imagenet16_wins(root, tmp_path, monkeypatch):
    later = tmp_path / "later"
    write_official(later / "ImageNet16")
    write_stand_in(root, OLD, fill=1)
    monkeypatch.setenv(paths.ENV_VAR, os.pathsep.join([str(root), str(later)]))
    assert data.find_source("ImageNet16-120").stand_in_name == OLD
    monkeypatch.setenv(paths.ENV_VAR, os.pathsep.join([str(later), str(root)]))
    assert not data.find_source("ImageNet16-120").stand_in


def test_asking_for_a_missing_or_unknown_stand_in(root):
    write_stand_in(root, NEW, fill=2)
    with pytest.raises(FileNotFoundError, match=r"10 official \+ 110 other"):
        data.find_source("ImageNet16-120", stand_in=OLD)
    with pytest.raises(FileNotFoundError, match="official ImageNet16-120 images"):
        data.find_source("ImageNet16-120", stand_in="")
    with pytest.raises(ValueError, match="no stand-in 'tiny'"):
        data.find_source("ImageNet16-120", stand_in="tiny")
    with pytest.raises(ValueError, match="cifar10 has no stand-in"):
        data.find_source("cifar10", stand_in=NEW)


def test_a_stand_in_in_an_unknown_folder_is_flagged_unrecognised(root):
    write_batch(root / "ImageNet16", range(1, 121), 3)  # one batch, no val_data
    src = data.find_source("ImageNet16-120")
    assert (src.stand_in, src.stand_in_name) == (True, data.UNRECOGNISED)
    assert src.note.startswith("stand-in (unrecognised")


# ---------------------------------------------------------------- names and notes
def test_each_stand_in_is_named_in_its_note_batch_meta_and_report(root):
    write_stand_in(root, OLD, fill=1)
    write_stand_in(root, NEW, fill=2)
    labels = {
        OLD: "stand-in (10 official + 110 other classes)",
        NEW: "stand-in (official classes, one photo per class)",
    }
    for name, label in labels.items():
        src = data.find_source("ImageNet16-120", stand_in=name)
        assert src.note.startswith(label + ", not the official ImageNet16-120")
        assert data.stand_in_label(name) == label
        meta = data.get_batch("ImageNet16-120", batch_size=4, stand_in=name).meta
        assert (meta["stand_in"], meta["stand_in_name"], meta["note"]) == (
            True,
            name,
            src.note,
        )
        assert label in fidelity.stand_in_note(name)
    row = {r["dataset"]: r for r in data.report()}["ImageNet16-120"]
    assert row["stand_in_name"] == NEW and row["note"].startswith(labels[NEW])
    assert "not recorded" in fidelity.stand_in_note(None)


@pytest.mark.parametrize(
    "recorded, name",
    [
        ("/elsewhere/.device/data/imagenet16-120/ImageNet16", OLD),
        ("../shared/data/imagenet16-120-official-classes/ImageNet16", NEW),
        ("$ZCLIB_DATA/ImageNet16", ""),
        ("/data/cifar10/cifar10-images.tar.gz", ""),
    ],
)
def test_a_recorded_data_source_names_its_stand_in(recorded, name):
    assert data.recognise_stand_in(recorded) == name


def test_table_stand_in_reads_the_recorded_images():
    ds = "ImageNet16-120"
    old_path = "/m/data/imagenet16-120/ImageNet16"
    assert results.table_stand_in(pd.DataFrame({"data_source": [old_path]}), ds) == OLD
    named = pd.DataFrame({"data_source": ["$ZCLIB_DATA/ImageNet16"] * 2})
    assert results.table_stand_in(named.assign(stand_in_name=NEW), ds) == NEW
    assert results.table_stand_in(named, ds) is None  # the path does not say
    assert results.table_stand_in(pd.DataFrame({"arch_str": ["a"]}), ds) is None
    assert results.table_stand_in(named, "cifar10") == ""
    mixed = pd.DataFrame({"stand_in_name": [OLD, NEW]})
    with pytest.raises(ValueError, match="mixes images"):
        results.table_stand_in(mixed, ds)


# ---------------------------------------------------------------- caches
def test_cache_keys_differ_between_the_stand_ins(root, tmp_path):
    old = write_stand_in(root, OLD, fill=1)
    new = write_stand_in(root, NEW, fill=2)
    src_old = data.find_source("ImageNet16-120", stand_in=OLD)
    src_new = data.find_source("ImageNet16-120", stand_in=NEW)
    assert data.fingerprint(src_old, "train") != data.fingerprint(src_new, "train")
    a, _ = data.load_split("ImageNet16-120", stand_in=OLD)
    b, _ = data.load_split("ImageNet16-120", stand_in=NEW)
    assert (a == 1).all() and (b == 2).all()
    assert len(list((tmp_path / "cache").glob("ImageNet16-120-train-*.npz"))) == 2
    # one copied over the other in place, size and mtime kept (cp -p): a new key
    st = (old / "train_data_batch_1").stat()
    before = data.fingerprint(src_old, "train")
    (old / "train_data_batch_1").write_bytes((new / "train_data_batch_1").read_bytes())
    os.utime(old / "train_data_batch_1", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (old / "train_data_batch_1").stat().st_size == st.st_size
    assert data.fingerprint(src_old, "train") != before
    data.clear_cache()
    x, _ = data.load_split("ImageNet16-120", stand_in=OLD)
    assert (x == 2).all()  # decoded again, not the other file's cached arrays


def test_cached_scores_of_other_images_are_not_served(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "CACHE_DIR", tmp_path)
    arch = space.sample(1, 0)[0]
    for name, value in ((OLD, 1.0), (NEW, 2.0)):
        pd.DataFrame(
            {"arch_str": [arch], "snip": [value], "stand_in_name": [name]}
        ).to_parquet(tmp_path / f"ImageNet16-120_n{int(value)}_s0_b64_snip.parquet")
    for name, value in ((OLD, 1.0), (NEW, 2.0)):
        got = results._cached_rows(
            "ImageNet16-120", 0, 64, ["snip"], [arch], stand_in=name
        )
        assert got["snip"].tolist() == [value]


# ---------------------------------------------------------------- resumed runs
def test_a_run_recorded_before_stand_ins_were_named_resumes_only_on_the_old_one(
    tmp_path,
):
    folder = tmp_path / "s.parquet.parts"
    old_run = {"dataset": "ImageNet16-120", "stand_in": True, "augment": False}
    folder.mkdir()
    (folder / chunks.GUARD).write_text(json.dumps(old_run))
    legacy = scoring.LEGACY_IDENTITY
    chunks.open_parts(folder, {**old_run, "stand_in_name": OLD}, legacy=legacy)
    with pytest.raises(ValueError, match="stand_in_name"):
        chunks.open_parts(folder, {**old_run, "stand_in_name": NEW}, legacy=legacy)
    c10 = {"dataset": "cifar10", "stand_in": False, "augment": False}
    (folder / chunks.GUARD).write_text(json.dumps(c10))
    chunks.open_parts(folder, {**c10, "stand_in_name": ""}, legacy=legacy)


# ---------------------------------------------------------------- real data
@pytest.fixture
def shared_data(shared_dir, tmp_path, monkeypatch):
    """Discovery pointed at ../shared/data; cache in tmp."""
    d = shared_dir / "data"
    if not all((d / f / "ImageNet16").is_dir() for f in FOLDER.values()):
        pytest.skip("../shared/data lacks one of the ImageNet16-120 stand-ins")
    monkeypatch.setenv(paths.ENV_VAR, str(d))
    monkeypatch.setenv(data.CACHE_ENV_VAR, str(tmp_path / "cache"))
    data.clear_cache()
    yield d
    data.clear_cache()


def classes(path):
    """classes.txt as [(label, wnid, name)]."""
    return [tuple(ln.split(maxsplit=2)) for ln in path.read_text().splitlines() if ln]


def test_real_default_is_the_official_classes_stand_in(shared_data):
    s = data.load_dataset("ImageNet16-120")
    assert s.source.path == shared_data / FOLDER[NEW] / "ImageNet16"
    assert s.source.stand_in_name == NEW and "official classes" in s.source.note
    assert s.images.shape == (120, 16, 16, 3)
    assert sorted(s.labels.tolist()) == list(range(120))  # one photo per class
    old = data.load_dataset("ImageNet16-120", stand_in=OLD)
    assert old.source.path == shared_data / FOLDER[OLD] / "ImageNet16"
    assert not np.array_equal(old.images, s.images)


def test_real_labels_follow_the_official_order(shared_data):
    new = classes(shared_data / FOLDER[NEW] / "classes.txt")
    old = classes(shared_data / FOLDER[OLD] / "classes.txt")
    assert [int(c[0]) for c in new] == list(range(1, 121))
    assert len({c[1] for c in new}) == 120  # 120 distinct WordNet ids
    # the old stand-in's first ten are the first ten official classes, in order
    assert [c[1] for c in new[:10]] == [c[1] for c in old[:10]]
    assert [c[1] for c in new[10:]] != [c[1] for c in old[10:]]
    y = data.load_dataset("ImageNet16-120").labels
    assert y.min() == 0 and y.max() == 119  # label i = line i + 1 of classes.txt


def test_real_shipped_imagenet_scores_are_labelled_as_their_stand_in(shared_data):
    if results.shipped("ImageNet16-120") is None:
        pytest.skip("no shipped ImageNet16-120 scores")
    # the clean table records the official-classes stand-in, the one discovery finds
    assert results.score_stand_in("ImageNet16-120") == NEW
    assert data.find_source("ImageNet16-120").stand_in_name == NEW
    note = results.stand_in_caveat("ImageNet16-120")
    assert "official classes," in note and "10 official + 110 other" not in note
    assert results.stand_in_caveat("cifar10") == ""
