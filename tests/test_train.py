"""Reduced training (zclib.train): a step learns, settings shape the network and the
data, runs are deterministic, sweeps resume.

    .venv/bin/python -m pytest -q tests/test_train.py

Synthetic CIFAR-shaped data (class-coloured noise) everywhere but the last test, which
trains 3 short epochs on the real images (skipped without ../shared). ~15 s on 2 cores.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import synthetic_images

from zclib import chunks, fileio, network, train

ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
)
ARCHS = [
    ARCH,
    "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|",
]


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # bit-exact determinism needs a fixed thread count
    yield
    torch.set_num_threads(n)


def small(name: str = "r8c4e2", **kw) -> train.Setting:
    return train.Setting.parse(name, batch_size=64, **kw)


# --------------------------------------------------------------------- settings


def test_setting_names_round_trip_and_validate():
    s = train.Setting.parse("r16c8e15f0.1b128")
    assert (s.resolution, s.C, s.epochs, s.fraction, s.batch_size) == (
        16,
        8,
        15,
        0.1,
        128,
    )
    assert train.Setting.parse(s.name) == s
    assert train.Setting.parse("r8c4e20").name == "r8c4e20"
    assert train.Setting.parse("r8c4e20").pad == 1
    assert train.Setting.parse("r16c4e1").pad == 2
    assert train.Setting.parse("r32c16e1").pad == 4
    for bad in ("r7c4e20", "r8c4", "8c4e20", "r8c4e20f1.5", "r8c0e1"):
        with pytest.raises(ValueError):
            train.Setting.parse(bad)


def test_cache_key_covers_every_setting_field():
    base = train.Setting.parse("r8c4e20")
    keys = {
        train.run_key(ARCH, base, 0),
        train.run_key(ARCH, base, 1),
        train.run_key(ARCHS[1], base, 0),
    }
    for field, value in [
        ("resolution", 16),
        ("C", 8),
        ("epochs", 21),
        ("fraction", 0.5),
        ("batch_size", 128),
        ("N", 3),
        ("lr", 0.05),
        ("momentum", 0.8),
        ("weight_decay", 1e-4),
        ("nesterov", False),
        ("augment", False),
    ]:
        keys.add(
            train.run_key(ARCH, train.Setting(**{**base.__dict__, field: value}), 0)
        )
    assert len(keys) == 3 + 11
    assert train.run_key(ARCH, base, 0) == train.run_key(
        ARCH, train.Setting.parse("r8c4e20"), 0
    )


# --------------------------------------------------------------- network, data


@pytest.mark.parametrize("name", ["r8c4e1", "r16c8e1"])
def test_setting_sets_channels_of_stem_and_cells(name):
    s = train.Setting.parse(name)
    net = network.build(ARCH, s.dataset, C=s.C, N=s.N, seed=0)
    assert net.stem[0].out_channels == s.C
    convs = [m for m in net.cells.modules() if isinstance(m, torch.nn.Conv2d)]
    assert {m.out_channels for m in convs} == {s.C, 2 * s.C, 4 * s.C}
    assert net.classifier.in_features == 4 * s.C
    assert train.count_params(net) == network.count_params(network.build(ARCH, C=s.C))
    ref = network.count_params(network.build(ARCH))
    assert train.count_params(net) < ref  # reduced


def test_resolution_downsamples_by_block_average(fake_cifar):
    images, labels = fake_cifar["train"]
    x8, y8 = train.load_tensors("train", 8)
    x32, _ = train.load_tensors("train", 32)
    assert x8.shape == (512, 3, 8, 8) and x32.shape == (512, 3, 32, 32)
    assert torch.equal(y8, torch.from_numpy(labels))
    # area downsampling commutes with the per-channel affine normalisation
    block = x32[:, :, :4, :4].mean(dim=(2, 3))
    torch.testing.assert_close(x8[:, :, 0, 0], block, rtol=1e-5, atol=1e-5)
    from zclib import data

    mean, std = data.normalization("cifar10", "nb201")
    raw = images[3, :4, :4, 0].astype(np.float64).mean() / 255
    assert x8[3, 0, 0, 0].item() == pytest.approx((raw - mean[0]) / std[0], abs=1e-5)


def test_augment_crops_and_flips_within_the_padded_image():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(30):
        out = train.augment(x, 1, gen)
        assert out.shape == x.shape
        for b in range(2):
            o = out[b]
            # a crop of the zero-padded image, possibly mirrored
            pad = torch.nn.functional.pad(x[b], (1, 1, 1, 1))
            hits = [
                (dy, dx, f)
                for dy in range(3)
                for dx in range(3)
                for f in (0, 1)
                if torch.equal(
                    o,
                    (
                        pad[:, dy : dy + 8, dx : dx + 8].flip(-1)
                        if f
                        else pad[:, dy : dy + 8, dx : dx + 8]
                    ),
                )
            ]
            assert hits, "not a crop of the padded image"
            seen.update(hits)
    assert len({h[2] for h in seen}) == 2 and len({h[:2] for h in seen}) > 3


def test_training_batches_have_the_setting_resolution(fake_cifar, monkeypatch):
    shapes = []
    s = small("r8c4e1")
    orig = network.build

    def spy(*args, **kwargs):
        net = orig(*args, **kwargs)
        net.register_forward_pre_hook(lambda m, inp: shapes.append(inp[0].shape))
        return net

    monkeypatch.setattr(network, "build", spy)
    row = train.train_arch(ARCH, s, seed=0)
    monkeypatch.undo()
    assert {tuple(sh[1:]) for sh in shapes} == {(3, 8, 8)}
    net = network.build(ARCH, s.dataset, C=s.C, N=s.N, seed=0)
    assert row["flops_fwd"] == network.count_flops(net, 8)
    assert row["train_flops"] == 3 * row["flops_fwd"] * 512 * 1
    assert row["n_train"] == 512


# ----------------------------------------------------------------- training


def test_one_training_step_lowers_the_loss():
    # a small step, so that first order holds (lr 0.1 can overshoot on one batch)
    s = train.Setting.parse("r8c4e1", lr=0.01)
    net = network.build(ARCH, s.dataset, C=s.C, N=s.N, seed=0)
    images, labels = synthetic_images(128)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
    x = torch.nn.functional.avg_pool2d(x, 4)
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)
    y = torch.from_numpy(labels)
    opt, _ = train.make_optimizer(net, s)
    before = train.train_step(net, opt, x, y)
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(net(x), y).item()
    assert after < before - 0.01, (before, after)


def test_same_seed_same_weights_other_seed_differs(fake_cifar):
    s = small("r8c4e2")
    a = train.train_arch(ARCH, s, seed=3, return_net=True)
    b = train.train_arch(ARCH, s, seed=3, return_net=True)
    c = train.train_arch(ARCH, s, seed=4, return_net=True)
    sa, sb, sc = (r["net"].state_dict() for r in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["test_acc"] == b["test_acc"] and a["train_loss"] == b["train_loss"]
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    # it learnt the colours: well above chance on held-out synthetic images
    assert a["test_acc"] > 30
    assert json.loads(a["curve"]) == {"2": a["test_acc"]}


def test_fraction_uses_a_seeded_subset(fake_cifar):
    row = train.train_arch(ARCH, small("r8c4e1f0.25"), seed=0)
    assert row["n_train"] == 128
    assert np.array_equal(train.subset(512, 0.25, 0), train.subset(512, 0.25, 0))
    assert not np.array_equal(train.subset(512, 0.25, 0), train.subset(512, 0.25, 1))


# -------------------------------------------------------------------- sweeps


def test_interrupted_sweep_resumes_with_only_the_missing_runs(
    fake_cifar, tmp_path, monkeypatch
):
    out = tmp_path / "t.parquet"
    settings = [small("r8c4e1"), small("r8c4e1f0.5")]
    calls = []
    real = train.train_arch

    def crashing(arch, setting, **kw):
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed during the fourth run
        calls.append((arch, setting.name))
        return real(arch, setting, **kw)

    monkeypatch.setattr(train.runs, "train_arch", crashing)
    with pytest.raises(KeyboardInterrupt):
        train.sweep(ARCHS, settings, out=out, progress=False)
    assert len(list(train.parts_dir(out).glob("*.parquet"))) == 3
    assert not list(train.parts_dir(out).glob(".*tmp"))

    calls.clear()
    monkeypatch.setattr(train.runs, "train_arch", real)
    counting = []
    monkeypatch.setattr(
        train.runs,
        "train_arch",
        lambda a, s, **kw: counting.append(a) or real(a, s, **kw),
    )
    df = train.sweep(ARCHS, settings, out=out, progress=False)
    assert len(counting) == 3  # 6 runs in the grid, 3 done before the crash
    assert len(df) == 6 and df["cached"].sum() == 3
    assert list(df["arch_str"]) == [a for a in ARCHS for _ in settings]
    # merged table = the same rows; a third call trains nothing
    train.merge(out)
    assert out.exists() and not train.parts_dir(out).exists()
    assert len(fileio.read_parquet(out)) == 6
    counting.clear()
    again = train.sweep(ARCHS, settings, out=out, progress=False)
    assert counting == [] and again["cached"].all()
    pd.testing.assert_series_equal(again["test_acc"], df["test_acc"])
    # another setting value is another run
    train.sweep(ARCHS[:1], [small("r8c4e1", lr=0.05)], out=out, progress=False)
    assert len(counting) == 1


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_a_damaged_part_is_named_and_trained_again(
    fake_cifar, tmp_path, monkeypatch, damage
):
    out = tmp_path / "t.parquet"
    first = train.sweep(ARCHS[:2], [small("r8c4e1")], out=out, progress=False)
    folder = train.parts_dir(out)
    assert json.loads((folder / "run.json").read_text()) == {
        "kind": "train-sweep",
        "chunks_format": 1,
    }
    part = folder / f"{first['key'][1]}.parquet"
    raw = part.read_bytes()  # a copy that broke off
    part.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"")
    with pytest.warns(chunks.DamagedChunkWarning, match=str(part)):
        assert len(train.load_table(out)) == 1
    trained = []
    real = train.train_arch
    monkeypatch.setattr(
        train.runs,
        "train_arch",
        lambda a, s, **kw: trained.append(a) or real(a, s, **kw),
    )
    with pytest.warns(chunks.DamagedChunkWarning, match=str(part)):
        df = train.sweep(ARCHS[:2], [small("r8c4e1")], out=out, progress=False)
    assert trained == [ARCHS[1]] and list(df["cached"]) == [True, False]
    assert df["test_acc"].tolist() == first["test_acc"].tolist()  # deterministic
    assert len(fileio.read_parquet(part)) == 1  # rewritten whole


def test_parts_of_a_sweep_without_run_json_still_resume(
    fake_cifar, tmp_path, monkeypatch
):
    out = tmp_path / "t.parquet"
    train.sweep(ARCHS[:1], [small("r8c4e1")], out=out, progress=False)
    (train.parts_dir(out) / "run.json").unlink()  # as sweeps wrote their parts before
    monkeypatch.setattr(train.runs, "train_arch", lambda *a, **kw: 1 / 0)
    df = train.sweep(ARCHS[:1], [small("r8c4e1")], out=out, progress=False)
    assert df["cached"].all()


def test_read_from_counts_as_done_without_writing_there(fake_cifar, tmp_path):
    shipped = tmp_path / "shipped.parquet"
    train.sweep(ARCHS[:1], [small("r8c4e1")], out=shipped, progress=False)
    train.merge(shipped)
    scratch = tmp_path / "scratch.parquet"
    df = train.sweep(
        ARCHS[:2], [small("r8c4e1")], out=scratch, read_from=[shipped], progress=False
    )
    assert list(df["cached"]) == [True, False]
    assert len(fileio.read_parquet(shipped)) == 1
    assert len(train.load_table(scratch)) == 1


# ----------------------------------------------------------------- real data


def test_real_cifar10_short_training_beats_chance(shared_dir, monkeypatch):
    train.clear_cache()
    x, y = train.load_tensors("test", 8)
    assert x.shape == (10_000, 3, 8, 8) and len(y) == 10_000
    assert x.mean(dim=(0, 2, 3)).abs().max() < 0.15  # NB201's normalisation
    row = train.train_arch(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        train.Setting.parse("r8c4e3f0.1"),
        seed=0,
    )
    assert row["n_train"] == 5_000
    assert row["test_acc"] > 20, row["test_acc"]  # chance: 10%
