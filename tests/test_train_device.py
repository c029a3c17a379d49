"""The EcoNAS job's device path (``make gpu-prepare``, ``make gpu-econas``, ``make
gpu-econas-merge``) on CPU at a tiny size: a Python that cannot import what a device
lacks trains into an archive, and here ``--unpack`` adds its runs and writes the
tables."""

from __future__ import annotations

import tarfile

import pandas as pd
from conftest import run_bare

from zclib.train import job
from zclib.train.runs import load_table

# on the device image (docs/econas_plan.md): torch, numpy, pandas, pyarrow, scipy,
# tqdm, pillow; not our extras nor the benchmark API
ABSENT = ("dask", "distributed", "papermill", "nbformat", "nbclient", "nats_bench")
PLAN = "econas-r8c4e1f0.01=3"  # 3 cells, 500 training images, one epoch


def _zclib(args, env_extra, bare=False):
    return run_bare("zclib.train", args, ABSENT if bare else (), env_extra)


def test_a_device_run_in_a_bare_python_comes_back_as_an_archive(shared_dir, tmp_path):
    carried, cache = tmp_path / "data_gpu", {"ZCLIB_CACHE": str(tmp_path / "cache")}
    prep = _zclib(["--prepare", carried], cache)
    assert prep.returncode == 0, prep.stderr
    assert (carried / "cifar10" / "cifar10-images.tar.gz").stat().st_size > 1e7

    there, out_dir = tmp_path / "device" / "econas.parquet", tmp_path / "OUT"
    device_env = cache | {"ZCLIB_DATA": str(carried)}
    args = ["--plan", PLAN, "--pack", 2, "--block", 2, "--out", there]
    r = _zclib([*args, "--bundle", out_dir], device_env, bare=True)
    assert r.returncode == 0, r.stderr
    archive = out_dir / job.archive_name(there)
    with tarfile.open(archive) as tf:
        names = tf.getnames()
    assert "econas.parquet.parts/run.json" in names
    assert sum(n.endswith(".parquet") for n in names) == 3
    device_rows = load_table(there)  # the device merged its own copy too
    assert set(device_rows["pack"]) == {2, 1}  # cells 0-1 packed, cell 2 alone

    here = tmp_path / "here" / "econas.parquet"
    m = _zclib(["--unpack", out_dir, "--out", here], cache)
    assert m.returncode == 0, m.stderr
    assert "econas.parquet.parts: {'run.json': 1, 'added': 3}" in m.stdout
    rows = load_table(here)
    cols = ["key", "arch_str", "test_acc", "curve", "device", "pack"]
    pd.testing.assert_frame_equal(
        rows[cols].sort_values("key").reset_index(drop=True),
        device_rows[cols].sort_values("key").reset_index(drop=True),
    )
    assert (here.parent / "econas_acc.csv").exists()
    # a run started again there finds every run in the table it carries
    again = _zclib(args, device_env, bare=True)
    assert again.returncode == 0 and "trained 0 runs now" in again.stdout


def test_unpack_names_a_missing_archive(tmp_path):
    r = _zclib(["--unpack", tmp_path, "--out", tmp_path / "t.parquet"], {})
    assert r.returncode == 2 and "error: no " in r.stderr and "t.tar.gz" in r.stderr
