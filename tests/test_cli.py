"""``python -m zclib``: every command registered one way, the same flags as before,
and a user's mistake ends in one ``error:`` line and exit status 2, no traceback."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest

from zclib import notebooks, scoring, speed, train, verify
from zclib.__main__ import main, parser

ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
)


def zclib_cli(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "zclib", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def assert_one_error_line(r):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "argv, func, values",
    [
        (["cost", ARCH, "--C", "8"], "_cmd_cost", {"C": 8, "N": 5}),
        (["data"], "_cmd_data", {}),
        (
            ["score", "--n", "3", "--out", "s.csv", "--augment"],
            scoring.cli._cmd_score,
            {"n": 3, "augment": True, "chunk_size": 25, "workers": 1},
        ),
        (
            ["speed", "--n", "2", "--no-singles"],
            speed.cli._cmd_speed,
            {"n": 2, "no_singles": True, "workers": -1},
        ),
        (
            ["train", "--setting", "r8c4e1", "--setting", "r16c4e1", "--n", "2"],
            train.cli._cmd_train,
            {"setting": ["r8c4e1", "r16c4e1"], "out": str(train.TABLE)},
        ),
        (
            ["notebooks", "--smoke", "--only", "a", "b", "--results-dir", "D"],
            notebooks._cmd_notebooks,
            {"smoke": True, "only": ["a", "b"], "results_dir": "D"},
        ),
        (["verify-scores", "--n", "20"], verify._cmd_verify, {"n": 20, "seed": 1}),
    ],
)
def test_every_command_is_registered_with_its_flags(argv, func, values):
    args = parser().parse_args(argv)
    if isinstance(func, str):
        assert args.func.__name__ == func
    else:
        assert args.func is func
    for k, v in values.items():
        assert getattr(args, k) == v, k


def test_notebooks_command_passes_its_options(monkeypatch):
    calls = []
    monkeypatch.setattr(notebooks, "run", lambda name, **kw: calls.append((name, kw)))
    assert main(["notebooks", "--smoke", "--only", "01_x", "--results-dir", "D"]) == 0
    assert calls == [("01_x", {"smoke": True, "results_dir": "D"})]
    calls.clear()
    assert notebooks.main(["--only", "02_y"]) == 0  # python -m zclib.notebooks
    assert calls == [("02_y", {"smoke": False, "results_dir": None})]


def test_score_on_cuda_without_cuda_is_one_line(tmp_path):
    # CUDA_VISIBLE_DEVICES="" hides any GPU, so this holds on a GPU machine too
    r = zclib_cli(
        "score",
        "--device",
        "cuda",
        "--n",
        "1",
        "--proxies",
        "params",
        "--out",
        str(tmp_path / "s.csv"),
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    line = assert_one_error_line(r)
    assert "CUDA is not available" in line and "--device cpu" in line
    assert not (tmp_path / "s.csv").exists()


def test_train_on_cuda_without_cuda_is_one_line(tmp_path):
    r = zclib_cli(
        "train",
        "--device",
        "cuda",
        "--arch",
        ARCH,
        "--setting",
        "r8c4e1",
        "--out",
        "-",
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    assert "CUDA is not available" in assert_one_error_line(r)


def test_unknown_device_is_one_line(tmp_path):
    r = zclib_cli(
        "score",
        "--device",
        "gpu0",
        "--n",
        "1",
        "--proxies",
        "params",
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert "unknown device 'gpu0'" in assert_one_error_line(r)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_refused_dataset_pickle_is_one_line(tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "data" / "ImageNet16"
    folder.mkdir(parents=True)
    (folder / "train_data_batch_1").write_bytes(
        pickle.dumps({"data": _Evil(marker), "labels": [1]})
    )
    r = zclib_cli(
        "score",
        "--dataset",
        "ImageNet16-120",
        "--n",
        "1",
        "--proxies",
        "params",
        "--batch-size",
        "1",
        "--out",
        str(tmp_path / "s.csv"),
        env={
            "ZCLIB_DATA": str(tmp_path / "data"),
            "ZCLIB_CACHE": str(tmp_path / "cache"),
        },
    )
    line = assert_one_error_line(r)
    assert "refusing to load global posix.system" in line
    assert str(folder / "train_data_batch_1") in line
    assert not marker.exists()


@pytest.mark.parametrize("command", ["score", "train"])
def test_backend_dask_without_the_extra_is_one_line(
    command, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails: no extra
    argv = ["score", "--n", "1", "--proxies", "params"]
    if command == "train":
        argv = ["train", "--arch", ARCH, "--setting", "r8c4e1"]
    out = tmp_path / "s.parquet"
    assert main([*argv, "--out", str(out), "--backend", "dask"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs the [dask] extra" in err[0], err
    assert not out.exists()
