"""Image loaders and sampler on tiny files in the official formats.

    .venv/bin/pytest -q tests/test_data.py            # fast tier
    .venv/bin/pytest -q tests/test_data.py -m slow    # real 60k-JPEG CIFAR-10 tar

Every test but the real-data ones runs in an isolated tree: only ``$ZCLIB_DATA``
(a tmp folder) is searched, and the .npz cache goes to tmp.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import struct
import tarfile
import time

import numpy as np
import pytest
import torch
from PIL import Image

from zclib import data, names, paths

RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- writers
class Py2Pickler(pickle._Pickler):
    """Writes bytes as python-2 ``str`` opcodes, like the official CIFAR files."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def dump_py2(obj, path):
    """A protocol-2 pickle as python 2 + numpy 1 wrote it (numpy.core, str opcodes)."""
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    raw = buf.getvalue().replace(
        b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"
    )
    path.write_bytes(raw)


def dump_py3(obj, path):
    path.write_bytes(pickle.dumps(obj, protocol=4))


def write_cifar10(root, per_batch=6, n_test=5):
    """cifar-10-batches-py with 5 x per_batch train and n_test test images.

    Image 0 of data_batch_1 is black except G (channel 1) at row 5, col 7 = 200.
    """
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    start = 0
    for i in range(1, 6):
        rows = RNG.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        if i == 1:
            rows[0] = 0
            rows[0, 1 * 1024 + 5 * 32 + 7] = 200  # channel-major: c*1024 + r*32 + col
        labels = [(start + k) % 10 for k in range(per_batch)]
        dump_py2(
            {
                b"batch_label": b"training batch %d of 5" % i,
                b"data": rows,
                b"labels": labels,
                b"filenames": [b"x.png"] * per_batch,
            },
            d / f"data_batch_{i}",
        )
        start += per_batch
    rows = RNG.integers(0, 256, (n_test, 3072), dtype=np.uint8)
    dump_py2(
        {b"data": rows, b"labels": [k % 10 for k in range(n_test)]}, d / "test_batch"
    )
    return d


def write_cifar100(root, n_train=20, n_test=8, coarse=False):
    d = root / "cifar-100-python"
    d.mkdir(parents=True)
    for split, n in (("train", n_train), ("test", n_test)):
        obj = {
            b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"fine_labels": [(k * 7) % 100 for k in range(n)],
            b"filenames": [b"f"] * n,
            b"batch_label": split.encode(),
        }
        if coarse:
            obj[b"coarse_labels"] = [k % 20 for k in range(n)]
        dump_py3(obj, d / split)
    return d


# train batches 1, 2, 10 (natural order 1, 2, 10); labels 1-based, 1..1000
IN16_TRAIN = {1: [1, 120, 121, 1000, 5, 60], 2: [500, 2, 119], 10: [120, 999, 3]}
IN16_VAL = [7, 1000, 120, 121, 1, 64]


def write_imagenet16(root, stand_in_marker=False):
    """ImageNet16 pickles (str keys); pixel [0] of each image encodes its label."""
    d = root / "ImageNet16"
    d.mkdir(parents=True)

    def rows_for(labels):
        rows = RNG.integers(0, 256, (len(labels), 768), dtype=np.uint8)
        rows[:, 0] = np.array(labels) % 256  # R at (0, 0)
        return rows

    for i, labels in IN16_TRAIN.items():
        # numpy scalar labels exercise the numpy ...multiarray.scalar global
        dump_py3(
            {
                "data": rows_for(labels),
                "labels": [np.int64(v) for v in labels],
                "mean": np.zeros(768),
            },
            d / f"train_data_batch_{i}",
        )
    dump_py3({"data": rows_for(IN16_VAL), "labels": IN16_VAL}, d / "val_data")
    if stand_in_marker:
        (root / "classes.txt").write_text("1 n02119789 kit_fox\n")
    return d


def colour(label):
    return (label * 25, 255 - label * 25, 128)  # a solid colour per class


def write_jpeg_tree(root, n_train=2, n_test=1):
    d = root / "cifar10-images"
    for split, n in (("train", n_train), ("test", n_test)):
        for label, cls in enumerate(data.CIFAR10_CLASSES):
            (d / split / cls).mkdir(parents=True)
            for k in range(n):
                Image.new("RGB", (32, 32), colour(label)).save(
                    d / split / cls / f"{k:04d}.jpg", quality=95
                )
    return d


def write_tar(tree, tar_path):
    tar_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path, "w:gz") as tf:
        tf.add(tree, arcname=tree.name)
    return tar_path


# ---------------------------------------------------------------- pickles
def test_cifar10_pickles_shapes_labels_and_pixel_layout(root):
    write_cifar10(root)
    x, y = data.load_split("cifar10", "train")
    assert x.shape == (30, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == [k % 10 for k in range(30)]
    assert x[0, 5, 7, 1] == 200 and int(x[0].sum()) == 200  # HWC, G channel
    xt, yt = data.load_split("cifar-10", "test")
    assert xt.shape == (5, 32, 32, 3) and yt.tolist() == [0, 1, 2, 3, 4]
    src = data.find_source("cifar10")
    assert (src.format, src.stand_in) == ("cifar-pickle", False)
    assert not x.flags.writeable  # shared via the lru cache


def test_cifar100_pickles_with_or_without_coarse_labels(root):
    write_cifar100(root / "cifar100", coarse=True)
    x, y = data.load_split("cifar100", "train")
    assert x.shape == (20, 32, 32, 3)
    assert y.tolist() == [(k * 7) % 100 for k in range(20)]
    assert data.load_split("CIFAR-100", "test")[0].shape == (8, 32, 32, 3)


def test_imagenet16_filters_to_120_classes_and_shifts_labels(root):
    write_imagenet16(root)
    src = data.find_source("ImageNet16-120")
    assert src.format == "imagenet16-pickle" and not src.stand_in
    assert "7 of 10 train_data_batch" in src.note  # only batches 1, 2, 10 here
    x, y = data.load_split("imagenet16", "train")
    kept = [v for i in (1, 2, 10) for v in IN16_TRAIN[i] if v <= 120]
    assert y.tolist() == [v - 1 for v in kept]  # 0..119, batch order 1, 2, 10
    assert x.shape == (len(kept), 16, 16, 3)
    assert x[:, 0, 0, 0].tolist() == kept  # each image kept with its own label
    for split in ("valid", "test"):
        xv, yv = data.load_split("ImageNet16-120", split)
        assert yv.tolist() == [6, 119, 0, 63] and xv.shape == (4, 16, 16, 3)


def test_imagenet16_stand_in_detected(root):
    d = root / "imagenet16-120" / "ImageNet16"
    d.mkdir(parents=True)
    labels = list(range(1, 121))
    dump_py3(
        {"data": np.zeros((120, 768), np.uint8), "labels": labels},
        d / "train_data_batch_1",
    )
    (d.parent / "classes.txt").write_text("1 n02119789 kit_fox\n")
    src = data.find_source("ImageNet16-120")
    assert src.stand_in and src.stand_in_name == "mixed-classes"  # by its folder
    assert src.note.startswith("stand-in (10 official + 110 other classes)")
    with pytest.raises(ValueError, match="exceeds the 120 images.*stand-in"):
        data.get_batch("ImageNet16-120", batch_size=121)
    with pytest.raises(FileNotFoundError, match="val_data"):
        data.load_split("ImageNet16-120", "test")


def test_pickles_preferred_over_jpeg_tree_in_same_root(root):
    write_jpeg_tree(root)
    write_cifar10(root)
    assert data.find_source("cifar10").format == "cifar-pickle"


def test_unknown_split_rejected(root):
    write_cifar10(root)
    with pytest.raises(ValueError, match="splits"):
        data.load_split("cifar10", "valid")


# ---------------------------------------------------------------- JPEG tree / tar
def test_jpeg_folder_tree_and_tar_give_identical_arrays(root, tmp_path):
    tree = write_jpeg_tree(tmp_path / "build")
    (root / "cifar10").mkdir()
    write_tar(tree, root / "cifar10" / "cifar10-images.tar.gz")
    assert data.find_source("cifar10").format == "image-tar"
    xt, yt = data.load_split("cifar10", "train")
    assert xt.shape == (20, 32, 32, 3)
    assert yt.tolist() == [k // 2 for k in range(20)]  # sorted: class, then file
    for img, label in zip(xt, yt, strict=True):  # JPEG is lossy: near, not equal
        assert np.abs(img.astype(int) - colour(int(label))).max() <= 3
    assert data.load_split("cifar10", "test")[0].shape == (10, 32, 32, 3)
    tree.rename(root / "cifar10" / "cifar10-images")  # the tree wins over the tar
    data.clear_cache()
    assert data.find_source("cifar10").format == "image-folder"
    xf, yf = data.load_split("cifar10", "train")
    np.testing.assert_array_equal(xf, xt)
    np.testing.assert_array_equal(yf, yt)


def test_jpeg_unknown_class_or_size_rejected(root):
    tree = write_jpeg_tree(root)
    (tree / "train" / "zebra").mkdir()
    Image.new("RGB", (32, 32)).save(tree / "train" / "zebra" / "0.jpg")
    with pytest.raises(ValueError, match="zebra"):
        data.load_split("cifar10", "train")
    Image.new("RGB", (64, 64)).save(tree / "test" / "cat" / "big.jpg")
    with pytest.raises(ValueError, match="32x32"):
        data.load_split("cifar10", "test")


# ---------------------------------------------------------------- cache
def test_second_load_uses_npz_cache_and_source_change_invalidates(
    root, tmp_path, monkeypatch
):
    d = write_cifar10(root)
    x1, y1 = data.load_split("cifar10", "train")
    assert len(list((tmp_path / "cache").glob("cifar10-train-*.npz"))) == 1
    assert not list((tmp_path / "cache").glob("*.tmp"))  # written atomically

    def boom(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(data.cache, "decode_split", boom)  # where the loader reads it
    data.clear_cache()
    x2, y2 = data.load_split("cifar10", "train")  # from the .npz
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    dump_py2(
        {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, d / "data_batch_3"
    )  # a changed source gets a new fingerprint
    with pytest.raises(AssertionError, match="decoded again"):
        data.load_split("cifar10", "train")


def test_cache_dir_argument_overrides_env(root, tmp_path):
    write_cifar100(root)
    data.load_split("cifar100", "train", cache=tmp_path / "mine")
    assert list((tmp_path / "mine").glob("cifar100-train-*.npz"))
    assert not (tmp_path / "cache").exists()


# ---------------------------------------------------------------- sampler
def test_get_batch_deterministic_and_independent_of_global_rng(root):
    write_cifar10(root)
    a = data.get_batch("cifar10", batch_size=8, seed=3, index=0)
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    np.random.rand(10)
    b = data.get_batch("cifar10", batch_size=8, seed=3, index=0)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert a.x.shape == (8, 3, 32, 32) and a.x.dtype == torch.float32
    assert a.y.dtype == torch.int64
    c = data.get_batch("cifar10", batch_size=8, seed=3, index=1)
    d = data.get_batch("cifar10", batch_size=8, seed=4, index=0)
    assert a.meta["indices"] != c.meta["indices"] != d.meta["indices"]
    assert len(set(a.meta["indices"])) == 8  # without replacement
    assert {
        k: a.meta[k]
        for k in (
            "dataset",
            "split",
            "seed",
            "batch_size",
            "index",
            "norm",
            "format",
            "stand_in",
        )
    } == {
        "dataset": "cifar10",
        "split": "train",
        "seed": 3,
        "batch_size": 8,
        "index": 0,
        "norm": "foresight",
        "format": "cifar-pickle",
        "stand_in": False,
    }
    assert a.meta["source"] == str(root / "cifar-10-batches-py")


@pytest.mark.parametrize("norm", ["foresight", "nb201"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_get_batch_normalises_a_known_pixel(root, norm, dtype):
    write_cifar10(root)
    b = data.get_batch("cifar10", batch_size=30, seed=0, norm=norm, dtype=dtype)
    mean, std = data.NORMS[norm]["cifar10"]
    assert b.meta["mean"] == mean and b.meta["std"] == std and b.x.dtype == dtype
    pos = b.meta["indices"].index(0)  # image 0 of data_batch_1: G at (5, 7) = 200
    want_g = (200 / 255 - mean[1]) / std[1]
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    assert abs(b.x[pos, 1, 5, 7].item() - want_g) < tol
    assert abs(b.x[pos, 0, 0, 0].item() - (0 - mean[0]) / std[0]) < tol


def test_normalisation_table():
    assert data.normalization("cifar10") == (
        (0.4914, 0.4822, 0.4465),
        (0.2023, 0.1994, 0.2010),
    )
    assert data.normalization("cifar100") == ((0.5,) * 3, (0.5,) * 3)
    mean, std = data.normalization("ImageNet16-120", "nb201")
    assert mean[0] == pytest.approx(122.68 / 255)
    assert std[2] == pytest.approx(65.09 / 255)
    assert data.normalization("cifar100", "nb201")[0][1] == pytest.approx(123.0 / 255)
    with pytest.raises(ValueError, match="unknown norm"):
        data.normalization("cifar10", "imagenet")


def test_foresight_exact_uses_cifar10_constants_for_cifar100():
    # the reference's get_cifar_dataloaders: "cifar" in dataset -> CIFAR-10's numbers
    assert data.normalization("cifar100", "foresight_exact") == data.normalization(
        "cifar10", "foresight"
    )
    for ds in ("cifar10", "ImageNet16-120"):
        assert data.normalization(ds, "foresight_exact") == data.normalization(ds)


def test_reference_augment_crops_pads_black_and_flips():
    rng = np.random.default_rng(0)
    img = rng.integers(1, 256, size=(64, 32, 32, 3), dtype=np.uint8)  # no zeros
    out = data.reference_augment(img, np.random.default_rng(5))
    assert out.shape == img.shape and out.dtype == np.uint8
    # replay the draws: offsets in 0..8 (pad 4), then flips
    g = np.random.default_rng(5)
    off, flip = g.integers(0, 9, size=(64, 2)), g.random(64) < 0.5
    assert 0 < flip.sum() < 64 and (off != 4).any()
    for i in range(64):
        want = np.pad(img[i], ((4, 4), (4, 4), (0, 0)))[
            off[i, 0] : off[i, 0] + 32, off[i, 1] : off[i, 1] + 32
        ]
        np.testing.assert_array_equal(out[i], want[:, ::-1] if flip[i] else want)
    # offset 0 from the top: 4 black rows, then image (columns 4..23 always image)
    i = int(np.argmax(off[:, 0] == 0))
    if off[i, 0] == 0:
        assert (out[i, :4] == 0).all() and (out[i, 4:, 4:24] > 0).all()
    small = data.reference_augment(img[:, :16, :16], np.random.default_rng(1))
    assert small.shape == (64, 16, 16, 3)  # ImageNet16: pad 2
    assert (small == 0).any(axis=(1, 2, 3)).sum() > 0
    with pytest.raises(ValueError, match="32x32 or 16x16"):
        data.reference_augment(img[:, :24, :24], rng)


def test_get_batch_augment_is_deterministic_and_off_by_default(root):
    write_cifar10(root)
    plain = data.get_batch("cifar10", batch_size=8, seed=3)
    a = data.get_batch("cifar10", batch_size=8, seed=3, augment=True)
    b = data.get_batch("cifar10", batch_size=8, seed=3, augment=True)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, plain.y)
    assert a.meta["indices"] == plain.meta["indices"]
    assert a.meta["augment"] and not plain.meta["augment"]
    assert not torch.equal(a.x, plain.x)
    raw = data.load_dataset("cifar10").images[plain.meta["indices"]]
    want = data.reference_augment(raw, np.random.default_rng([3, 0, 1]))
    mean, std = data.NORMS["foresight"]["cifar10"]
    x = (
        torch.from_numpy(want).permute(0, 3, 1, 2).float() / 255
        - torch.tensor(mean).view(1, 3, 1, 1)
    ) / torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(a.x, x)


def test_get_batch_rejects_oversized_batch(root):
    write_cifar100(root)
    with pytest.raises(ValueError, match="batch_size=21 exceeds the 20 images"):
        data.get_batch("cifar100", batch_size=21)


# ---------------------------------------------------------------- missing / report
def test_missing_data_lists_every_place_searched(root, tmp_path):
    for ds, download in (
        ("cifar10", "cifar-10-python.tar.gz"),
        ("cifar100", "cifar-100-python.tar.gz"),
        ("ImageNet16-120", "train_data_batch_1..10"),
    ):
        with pytest.raises(FileNotFoundError) as exc:
            data.load_split(ds)
        msg = str(exc.value)
        for place in paths.searched(*data.CANDIDATES[ds]):
            assert place in msg
        assert str(root) in msg and str(tmp_path / "proj" / "data") in msg
        assert download in msg and paths.ENV_VAR in msg


def test_report_rows(root):
    write_cifar100(root)
    write_imagenet16(root / "imagenet16-120", stand_in_marker=True)
    rows = {r["dataset"]: r for r in data.report()}
    assert set(rows) == set(names.DATASETS)
    assert rows["cifar10"]["found"] is False
    assert str(root / "cifar-10-batches-py") in rows["cifar10"]["searched"]
    c100 = rows["cifar100"]
    assert (c100["found"], c100["n_train"], c100["n_test"], c100["format"]) == (
        True,
        20,
        8,
        "cifar-pickle",
    )
    assert c100["complete"] is False and c100["stand_in"] is False
    in16 = rows["ImageNet16-120"]
    assert in16["stand_in"] is True and (in16["n_train"], in16["n_test"]) == (8, 4)


# ---------------------------------------------------------------- hostile / broken
class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('true')",))


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_hostile_pickle_refused_without_running_it(root, tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = _Evil(f"touch {marker}") if payload == "system" else _EvilEval()
    d = root / "ImageNet16"
    d.mkdir()
    (d / "train_data_batch_1").write_bytes(pickle.dumps({"data": evil, "labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        data.load_split("ImageNet16-120", "train")
    with pytest.raises(pickle.UnpicklingError, match="train_data_batch_1"):
        data.load_pickle(d / "train_data_batch_1")
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_truncated_or_corrupt_pickle_names_the_file(root, damage):
    d = write_cifar100(root)
    raw = (d / "train").read_bytes()
    (d / "train").write_bytes(
        raw[: len(raw) // 2] if damage == "truncate" else b"\x80\x04not a pickle at all"
    )
    with pytest.raises(pickle.UnpicklingError, match="corrupt or truncated") as exc:
        data.load_split("cifar100", "train")
    assert str(d / "train") in str(exc.value)
    row = {r["dataset"]: r for r in data.report()}["cifar100"]
    assert "train unreadable" in row["note"] and row["n_test"] == 8


@pytest.mark.parametrize(
    "obj, match",
    [
        ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, "N x 3072"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1, 2]}, "match"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "outside 0..9"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "missing key 'labels'"),
        ([1, 2, 3], "expected a dict"),
    ],
)
def test_wrong_shapes_rejected(root, obj, match):
    d = write_cifar10(root)
    dump_py3(obj, d / "data_batch_2")
    with pytest.raises(ValueError, match=match):
        data.load_split("cifar10", "train")


def test_imagenet16_rows_must_be_768(root):
    d = root / "ImageNet16"
    d.mkdir()
    dump_py3({"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2]}, d / "val_data")
    with pytest.raises(ValueError, match="N x 768"):
        data.load_split("ImageNet16-120", "test")


# ---------------------------------------------------------------- real data
@pytest.fixture
def shared_data(shared_dir, tmp_path, monkeypatch):
    """Discovery pointed at ../shared/data first; cache in tmp."""
    d = shared_dir / "data"
    if not d.exists():
        pytest.skip("../shared/data is not present")
    monkeypatch.setenv(paths.ENV_VAR, str(d))
    monkeypatch.setenv(data.CACHE_ENV_VAR, str(tmp_path / "cache"))
    data.clear_cache()
    yield d
    data.clear_cache()


def test_real_shared_cifar100_and_imagenet16_stand_in(shared_data):
    c100 = data.load_dataset("cifar100", "train")
    assert c100.images.shape == (10_000, 32, 32, 3)
    assert np.bincount(c100.labels).tolist() == [100] * 100
    assert c100.source.path == shared_data / "cifar100" / "cifar-100-python"
    assert not c100.source.stand_in
    in16 = data.load_dataset("ImageNet16-120", "train")
    assert in16.images.shape == (120, 16, 16, 3)
    assert sorted(in16.labels.tolist()) == list(range(120))
    assert in16.source.stand_in and "stand-in" in in16.source.note
    b = data.get_batch("ImageNet16-120", batch_size=64, seed=0)
    assert b.x.shape == (64, 3, 16, 16) and b.meta["stand_in"] is True
    with pytest.raises(ValueError, match="exceeds the 120 images"):
        data.get_batch("ImageNet16-120", batch_size=121)


@pytest.mark.slow
def test_real_cifar10_jpeg_tar(shared_data, capsys):
    t0 = time.perf_counter()
    train = data.load_dataset("cifar10", "train")
    test = data.load_dataset("cifar10", "test")
    first = time.perf_counter() - t0
    assert train.source.format == "image-tar"
    assert train.images.shape == (50_000, 32, 32, 3)
    assert test.images.shape == (10_000, 32, 32, 3)
    assert np.bincount(train.labels).tolist() == [5_000] * 10
    assert np.bincount(test.labels).tolist() == [1_000] * 10
    data.clear_cache()
    t0 = time.perf_counter()
    again = data.load_dataset("cifar10", "train")
    reload = time.perf_counter() - t0
    np.testing.assert_array_equal(again.images, train.images)
    with capsys.disabled():
        print(
            f"\nCIFAR-10 JPEG tar: first decode {first:.1f} s (train+test), "
            f"cached reload {reload:.2f} s (train)"
        )
    assert reload < first / 3
